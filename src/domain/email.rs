use std::fmt;
use validator::ValidateEmail;

/// A work e-mail address, lower-cased so that one mailbox has one spelling:
/// `Ann@Example.com` and `ann@example.com` are the same address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkEmail(String);

impl WorkEmail {
    /// RFC 5321's limit on a forward path.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalized = raw.trim().to_lowercase();
        if normalized.is_empty() {
            return Err("Enter a work e-mail address.".into());
        }
        if normalized.len() > Self::MAX_LEN {
            return Err(format!(
                "An e-mail address has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        if !normalized.validate_email() {
            return Err("Enter an e-mail address like name@example.com.".into());
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for WorkEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::WorkEmail;

    #[test]
    fn case_does_not_make_a_different_address() {
        assert_eq!(
            WorkEmail::parse(" Ann@Example.COM").unwrap(),
            WorkEmail::parse("ann@example.com").unwrap()
        );
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann example@x.com",
            "a@b@c",
        ] {
            assert!(WorkEmail::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn rejects_an_overlong_address() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(WorkEmail::parse(&long).is_err());
    }
}
