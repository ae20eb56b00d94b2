//! Who may do what: password hashing, sign-in throttling, and the session rules.
//! Checking a session costs no database query: the account directory keeps every
//! account's role, state and session epoch in memory.

mod directory;
pub mod password;
mod session;
mod signal;
mod throttle;

pub use directory::{Account, AccountDirectory, CurrentUser};
pub use session::{SessionClaims, SessionPolicy};
pub use signal::AccountsSignal;
pub use throttle::{LoginThrottle, ThrottlePolicy, Verdict};
