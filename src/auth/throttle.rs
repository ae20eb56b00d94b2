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

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::default(),
        }
    }

    fn keys(account: &str, address: &str) -> [(String, u32); 2] {
        [
            (format!("account:{account}"), 0),
            (format!("address:{address}"), 1),
        ]
    }

    pub fn check(&self, account: &str, address: &str, now: Instant) -> Verdict {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut delay = Duration::ZERO;
        for (key, kind) in Self::keys(account, address) {
            let Some(entry) = failures.get(&key) else {
                continue;
            };
            let since = now.saturating_duration_since(entry.last);
            if since >= self.policy.lockout {
                continue;
            }
            let limit = [self.policy.account_limit, self.policy.address_limit][kind as usize];
            if entry.count >= limit {
                return Verdict::Refused {
                    retry_after: self.policy.lockout - since,
                };
            }
            if let Some(over) = entry.count.checked_sub(self.policy.free_failures + 1) {
                let backoff = Duration::from_millis(250) * 2u32.saturating_pow(over.min(8));
                // Never a large share of the lockout itself.
                let cap = MAX_DELAY.min(self.policy.lockout / 8);
                delay = delay.max(backoff.min(cap));
            }
        }
        Verdict::Allowed { delay }
    }

    pub fn record_failure(&self, account: &str, address: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_TRACKED {
            let lockout = self.policy.lockout;
            failures.retain(|_, entry| now.saturating_duration_since(entry.last) < lockout);
        }
        for (key, _) in Self::keys(account, address) {
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
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottlePolicy::default())
    }

    #[test]
    fn failures_are_slowed_then_refused_then_forgotten() {
        let throttle = throttle();
        let start = Instant::now();
        for _ in 0..3 {
            throttle.record_failure("ann", "10.0.0.1", start);
        }
        assert_eq!(
            throttle.check("ann", "10.0.0.1", start),
            Verdict::Allowed {
                delay: Duration::ZERO
            }
        );
        throttle.record_failure("ann", "10.0.0.1", start);
        assert!(
            matches!(throttle.check("ann", "10.0.0.1", start), Verdict::Allowed { delay } if delay > Duration::ZERO)
        );
        for _ in 0..6 {
            throttle.record_failure("ann", "10.0.0.1", start);
        }
        assert!(
            matches!(
                throttle.check("ann", "10.0.0.9", start),
                Verdict::Refused { .. }
            ),
            "per account"
        );
        assert!(matches!(
            throttle.check("bob", "10.0.0.9", start),
            Verdict::Allowed { .. }
        ));
        let later = start + ThrottlePolicy::default().lockout;
        assert_eq!(
            throttle.check("ann", "10.0.0.1", later),
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
            throttle.record_failure(&format!("user{n}"), "10.0.0.1", now);
        }
        assert!(matches!(
            throttle.check("someone", "10.0.0.1", now),
            Verdict::Refused { .. }
        ));
        assert!(matches!(
            throttle.check("someone", "10.0.0.2", now),
            Verdict::Allowed { .. }
        ));
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = throttle();
        let now = Instant::now();
        for _ in 0..9 {
            throttle.record_failure("ann", "10.0.0.1", now);
        }
        throttle.record_success("ann");
        assert!(
            matches!(throttle.check("ann", "10.0.0.2", now), Verdict::Allowed { delay } if delay.is_zero())
        );
    }
}
