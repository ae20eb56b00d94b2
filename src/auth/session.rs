use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a signed-in session cookie holds besides its CSRF token. The cookie is
/// encrypted and authenticated with the secret key, so its contents can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub user_id: i64,
    /// The account's session epoch when signing in; a bump revokes the session.
    pub epoch: i32,
    /// Unix seconds.
    pub issued_at: i64,
    pub seen_at: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, however active.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// Refreshing `seen_at` rewrites the cookie; once a minute is precise enough.
const SEEN_RESOLUTION_SECS: i64 = 60;

impl SessionClaims {
    pub fn new(user_id: i64, epoch: i32, now: i64) -> Self {
        Self {
            user_id,
            epoch,
            issued_at: now,
            seen_at: now,
        }
    }

    pub fn is_live(&self, now: i64, policy: &SessionPolicy) -> bool {
        let secs = |duration: Duration| i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        now.saturating_sub(self.seen_at) <= secs(policy.idle)
            && now.saturating_sub(self.issued_at) <= secs(policy.absolute)
    }

    /// The claims to store again after this request, if they changed enough to matter.
    pub fn touched(&self, now: i64) -> Option<Self> {
        (now - self.seen_at >= SEEN_RESOLUTION_SECS).then_some(Self {
            seen_at: now,
            ..*self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_old() {
        let policy = SessionPolicy::default();
        let claims = SessionClaims::new(1, 1, 1_000);
        assert!(claims.is_live(1_000 + 29 * 60, &policy));
        assert!(!claims.is_live(1_000 + 31 * 60, &policy));

        let mut busy = claims;
        let end = 1_000 + 12 * 3600;
        let mut now = 1_000;
        while now < end {
            now += 20 * 60;
            assert_eq!(busy.is_live(now, &policy), now - 1_000 <= 12 * 3600);
            busy = busy.touched(now).unwrap_or(busy);
        }
        assert!(
            !busy.is_live(end + 1, &policy),
            "activity does not extend past the cap"
        );
    }

    #[test]
    fn seen_at_is_refreshed_once_a_minute() {
        let claims = SessionClaims::new(1, 1, 1_000);
        assert_eq!(claims.touched(1_030), None);
        assert_eq!(claims.touched(1_060).unwrap().seen_at, 1_060);
    }
}
