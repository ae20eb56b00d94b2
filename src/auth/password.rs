//! Argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's recommendation).

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

#[derive(Debug, thiserror::Error)]
#[error("failed to hash a password: {0}")]
pub struct HashError(String);

pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// Checks a password against a stored hash. With no hash (no such user) it checks
/// against a dummy one, so that the time taken does not tell whether the user exists.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not anyone's password").unwrap_or_default());
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), stored.unwrap_or(dummy))
        .is_ok();
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("wrong horse battery", Some(&stored)));
        assert!(!verify("correct horse battery", None));
        assert!(!verify("anything", Some("not a hash")));
    }
}
