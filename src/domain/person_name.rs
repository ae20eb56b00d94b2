/// A first or last name: trimmed, 1–100 characters of any script, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("Enter a name.".into());
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(format!("A name has at most {} characters.", Self::MAX_LEN));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("A name cannot hold control characters.".into());
        }
        Ok(Self(trimmed.to_owned()))
    }
}

checked_text!(PersonName);

#[cfg(test)]
mod tests {
    use super::PersonName;
    use proptest::prelude::*;

    #[test]
    fn keeps_any_script_and_trims() {
        assert_eq!(PersonName::parse("  Zoë ").unwrap().as_str(), "Zoë");
        assert_eq!(PersonName::parse("李").unwrap().as_str(), "李");
    }

    #[test]
    fn rejects_blank_overlong_and_control_characters() {
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"é".repeat(101)).is_err());
        assert!(PersonName::parse("Ann\u{0}").is_err());
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
    }

    proptest! {
        #[test]
        fn a_parsed_name_is_never_blank_or_padded(raw in "\\PC{0,120}") {
            if let Ok(name) = PersonName::parse(&raw) {
                prop_assert!(!name.as_str().is_empty());
                prop_assert_eq!(name.as_str().trim(), name.as_str());
            }
        }
    }
}
