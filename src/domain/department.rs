/// A department's name: trimmed, inner runs of spaces made one, 1–100 characters, no
/// control characters. Two names are the same department when their [`key`]s are
/// equal: case and spaces do not count ("Field Ops", "field  ops", "FieldOps").
///
/// [`key`]: DepartmentName::key
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentName(String);

impl DepartmentName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err("A department's name cannot hold control characters.".into());
        }
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err("Enter the department's name.".into());
        }
        if name.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "A department's name has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        Ok(Self(name))
    }

    /// What makes two names one department: lower case, without spaces.
    pub fn key(&self) -> String {
        key_of(&self.0)
    }
}

/// The key of any text, also of a name read from a file, so that an import finds
/// "field ops" in a department called "Field Ops".
pub fn key_of(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

checked_text!(DepartmentName);

#[cfg(test)]
mod tests {
    use super::DepartmentName;

    #[test]
    fn names_differing_in_case_or_spaces_are_one_department() {
        let spaced = DepartmentName::parse("  Field   Ops ").unwrap();
        assert_eq!(spaced.as_str(), "Field Ops");
        assert_eq!(
            spaced.key(),
            DepartmentName::parse("FIELDOPS").unwrap().key()
        );
        assert_ne!(
            spaced.key(),
            DepartmentName::parse("Field Opps").unwrap().key()
        );
    }

    #[test]
    fn blank_overlong_and_control_characters_are_refused() {
        assert!(DepartmentName::parse(" \t ").is_err());
        assert!(DepartmentName::parse(&"x".repeat(101)).is_err());
        assert!(DepartmentName::parse("Sales\u{7}").is_err());
        assert_eq!(
            DepartmentName::parse("Field\tOps").unwrap().as_str(),
            "Field Ops"
        );
        assert!(DepartmentName::parse(&"é".repeat(100)).is_ok());
    }
}
