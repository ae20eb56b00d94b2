use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How repeated failed sign-ins are slowed, then refused. Counted per account and per
/// client address; the account limits are lower, since many people may share an
/// address.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures answered at full speed.
    pub free_failures: u32,
    /// Failures after which the account is refused for `lockout`.
    pub account_limit: u32,
    /// Failures after which the address is refused for `lockout`.
    pub address_limit: u32,
    /// How long a refusal lasts, and how long failures are remembered.
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            account_limit: 10,
            address_limit: 50,
            lockout: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead, after waiting this long.
    Allowed { delay: Duration },
    /// Refused (429) for this much longer.
    Refused { retry_after: Duration },
}

struct Failures {
    count: u32,
    last: Instant,
}

/// Remembered keys at most; beyond, the oldest-looking entries are forgotten, so a
/// flood of made-up names cannot exhaust memory.
const MAX_TRACKED: usize = 100_000;
const MAX_DELAY: Duration = Duration::from_secs(2);

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<String, Failures>>,
}

/// Longest account name kept as a key: longer names are no usernames anyway, and the
/// bound keeps a flood of huge made-up names from using much memory.
const MAX_KEY_CHARS: usize = 40;

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::default(),
        }
    }

    fn keys(account: &str, address: &str) -> [(String, u32); 2] {
        let account: String = account
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_KEY_CHARS)
            .collect();
        [
            (format!("account:{account}"), 0),
            (format!("address:{address}"), 1),
        ]
    }

    /// Decides on a sign-in attempt and, if it may go ahead, counts it as failed until
    /// `succeeded` says otherwise: counted under the same lock as the check, so that
    /// many attempts in parallel cannot all slip under the limit.
    pub fn begin(&self, account: &str, address: &str, now: Instant) -> Verdict {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let keys = Self::keys(account, address);
        let mut delay = Duration::ZERO;
        for (key, kind) in &keys {
            let Some(entry) = failures.get(key) else {
                continue;
            };
            let since = now.saturating_duration_since(entry.last);
            if since >= self.policy.lockout {
                continue;
            }
            let limit = [self.policy.account_limit, self.policy.address_limit][*kind as usize];
            if entry.count >= limit {
                return Verdict::Refused {
                    retry_after: self.policy.lockout - since,
                };
            }
            if let Some(over) = entry.count.checked_sub(self.policy.free_failures) {
                let backoff = Duration::from_millis(250) * 2u32.saturating_pow(over.min(8));
                // Never a large share of the lockout itself.
                let cap = MAX_DELAY.min(self.policy.lockout / 8);
                delay = delay.max(backoff.min(cap));
            }
        }
        if failures.len() >= MAX_TRACKED {
            self.make_room(&mut failures, now);
        }
        for (key, _) in keys {
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.saturating_duration_since(entry.last) >= self.policy.lockout {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
        }
        Verdict::Allowed { delay }
    }

    /// A successful sign-in: the account's failures are forgotten, and the attempt no
    /// longer counts against the address.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let [(account, _), (address, _)] = Self::keys(account, address);
        failures.remove(&account);
        if let Some(entry) = failures.get_mut(&address) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    /// Forgets expired entries, then, if still full, a tenth of the rest: memory stays
    /// bounded even under a flood from many addresses.
    fn make_room(&self, failures: &mut HashMap<String, Failures>, now: Instant) {
        let lockout = self.policy.lockout;
        failures.retain(|_, entry| now.saturating_duration_since(entry.last) < lockout);
        if failures.len() >= MAX_TRACKED {
            let evicted: Vec<String> = failures.keys().take(MAX_TRACKED / 10).cloned().collect();
            for key in evicted {
                failures.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottlePolicy::default())
    }

    fn fail(throttle: &LoginThrottle, account: &str, address: &str, now: Instant, times: usize) {
        for _ in 0..times {
            assert!(matches!(
                throttle.begin(account, address, now),
                Verdict::Allowed { .. }
            ));
        }
    }

    #[test]
    fn failures_are_slowed_then_refused_then_forgotten() {
        let throttle = throttle();
        let start = Instant::now();
        for _ in 0..3 {
            let free = Verdict::Allowed {
                delay: Duration::ZERO,
            };
            assert_eq!(throttle.begin("ann", "10.0.0.1", start), free);
        }
        assert!(matches!(
            throttle.begin("ann", "10.0.0.1", start),
            Verdict::Allowed { delay } if delay > Duration::ZERO
        ));
        fail(&throttle, "ANN", "10.0.0.1", start, 6);
        assert!(
            matches!(
                throttle.begin("ann", "10.0.0.9", start),
                Verdict::Refused { .. }
            ),
            "per account, whatever the case"
        );
        assert!(matches!(
            throttle.begin("bob", "10.0.0.9", start),
            Verdict::Allowed { .. }
        ));
        let later = start + ThrottlePolicy::default().lockout;
        assert_eq!(
            throttle.begin("ann", "10.0.0.1", later),
            Verdict::Allowed {
                delay: Duration::ZERO
            }
        );
    }

    #[test]
    fn an_address_trying_many_accounts_is_refused() {
        let throttle = throttle();
        let now = Instant::now();
        for n in 0..50 {
            throttle.begin(&format!("user{n}"), "10.0.0.1", now);
        }
        assert!(matches!(
            throttle.begin("someone", "10.0.0.1", now),
            Verdict::Refused { .. }
        ));
        assert!(matches!(
            throttle.begin("someone", "10.0.0.2", now),
            Verdict::Allowed { .. }
        ));
    }

    #[test]
    fn success_clears_the_account_and_gives_the_address_its_attempt_back() {
        let throttle = throttle();
        let now = Instant::now();
        fail(&throttle, "ann", "10.0.0.1", now, 9);
        throttle.succeeded("ann", "10.0.0.1");
        assert!(
            matches!(throttle.begin("ann", "10.0.0.2", now), Verdict::Allowed { delay } if delay.is_zero())
        );
        for _ in 0..200 {
            throttle.begin("carol", "10.0.0.3", now);
            throttle.succeeded("carol", "10.0.0.3");
        }
        assert!(
            matches!(
                throttle.begin("dave", "10.0.0.3", now),
                Verdict::Allowed { .. }
            ),
            "many good sign-ins from one office never lock it out"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let throttle = throttle();
        let now = Instant::now();
        for n in 0..(MAX_TRACKED + 10) {
            throttle.begin(&format!("{n}{}", "x".repeat(1000)), &format!("a{n}"), now);
        }
        let failures = throttle.failures.lock().unwrap();
        assert!(failures.len() <= MAX_TRACKED + 2);
        assert!(failures.keys().all(|key| key.len() < 60));
    }
}
