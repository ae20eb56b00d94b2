/// An employee ID in its one normalized spelling: trimmed, upper-cased, 2–32 characters
/// of `A-Z 0-9 -`, starting with a letter or digit. ` e-1001 ` and `E-1001` are the same ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmployeeId(String);

impl EmployeeId {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 32;
    /// Words that name pages under `/employees/` and so cannot be IDs.
    const RESERVED: [&'static str; 2] = ["NEW", "IMPORT"];

    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalized = raw.trim().to_ascii_uppercase();
        if normalized.is_empty() {
            return Err("Enter an employee ID.".into());
        }
        let length = normalized.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&length) {
            return Err(format!(
                "An employee ID has {} to {} characters; this one has {length}.",
                Self::MIN_LEN,
                Self::MAX_LEN
            ));
        }
        if !normalized
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("Use only letters A–Z, digits and hyphens.".into());
        }
        if normalized.starts_with('-') {
            return Err("Start with a letter or a digit.".into());
        }
        if Self::RESERVED.contains(&normalized.as_str()) {
            return Err(format!(
                "{normalized} is the name of one of Roster's pages; choose another ID."
            ));
        }
        Ok(Self(normalized))
    }
}

checked_text!(EmployeeId);

#[cfg(test)]
mod tests {
    use super::EmployeeId;
    use proptest::prelude::*;

    #[test]
    fn case_and_surrounding_spaces_do_not_make_a_different_id() {
        assert_eq!(
            EmployeeId::parse(" e-1001 ").unwrap(),
            EmployeeId::parse("E-1001").unwrap()
        );
    }

    #[test]
    fn rejects_what_the_contract_forbids() {
        for bad in [
            "",
            "   ",
            "E",
            "-E1",
            "E 1",
            "E_1",
            "É-1",
            &"A".repeat(33),
            "new",
            "Import",
        ] {
            assert!(EmployeeId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn accepts_the_bounds() {
        for good in ["A1", "9-", &"Z".repeat(32)] {
            assert!(EmployeeId::parse(good).is_ok(), "{good:?} was rejected");
        }
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(raw in "\\PC{0,40}") {
            if let Ok(id) = EmployeeId::parse(&raw) {
                prop_assert_eq!(EmployeeId::parse(id.as_str()), Ok(id.clone()));
            }
        }

        #[test]
        fn every_well_formed_id_is_accepted(raw in "[a-zA-Z0-9][a-zA-Z0-9-]{1,31}") {
            prop_assume!(!EmployeeId::RESERVED.contains(&raw.to_uppercase().as_str()));
            prop_assert!(EmployeeId::parse(&raw).is_ok());
        }
    }
}
