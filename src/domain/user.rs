use std::fmt;

/// A sign-in name: 3–32 characters of `a-z 0-9 . _ -`, starting with a letter or digit,
/// lower-cased so that `Ann` and `ann` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().to_ascii_lowercase();
        let length = name.chars().count();
        if !(3..=32).contains(&length) {
            return Err("A username has 3 to 32 characters.".into());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err("Use only letters, digits, dots, hyphens and underscores.".into());
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("Start with a letter or a digit.".into());
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may do. Each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads records.
    Viewer,
    /// Also creates and edits records.
    Hr,
    /// Also removes records and manages accounts.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Hr, Role::Viewer];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Self::Admin),
            "hr" => Ok(Self::Hr),
            "viewer" => Ok(Self::Viewer),
            _ => Err("Choose admin, hr or viewer.".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Hr => "hr",
            Self::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Administrator",
            Self::Hr => "HR",
            Self::Viewer => "Viewer",
        }
    }

    pub fn can_edit_employees(self) -> bool {
        self >= Self::Hr
    }

    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

/// A new password as chosen by a person: NIST SP 800-63B's minimum length, no
/// composition rules, not the username itself; bounded so hashing stays cheap.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str, username: &Username) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < Self::MIN_LEN {
            return Err(format!("Use at least {} characters.", Self::MIN_LEN));
        }
        if length > Self::MAX_LEN {
            return Err(format!("Use at most {} characters.", Self::MAX_LEN));
        }
        if raw.trim().to_lowercase() == username.as_str() {
            return Err("A password cannot be the username.".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Never printed, even in debug output.
impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_insensitive_and_restricted() {
        assert_eq!(Username::parse(" Ann.Lee ").unwrap().as_str(), "ann.lee");
        for bad in ["ab", "-ann", "ann lee", "änn", &"a".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Admin.can_edit_employees());
        assert!(Role::Hr.can_edit_employees() && !Role::Hr.is_admin());
        assert!(!Role::Viewer.can_edit_employees());
        assert_eq!(Role::parse("HR"), Ok(Role::Hr));
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn passwords_are_long_enough_and_not_the_username() {
        let ann = Username::parse("annabelle").unwrap();
        assert!(NewPassword::parse("short", &ann).is_err());
        assert!(NewPassword::parse("AnnaBelle", &ann).is_err());
        assert!(NewPassword::parse("annabelle-password", &ann).is_ok());
        assert!(NewPassword::parse("correct horse battery", &ann).is_ok());
        let secret = NewPassword::parse("correct horse battery", &ann).unwrap();
        assert!(!format!("{secret:?}").contains("horse"));
    }
}
