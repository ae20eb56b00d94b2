use validator::ValidateEmail;

/// A work e-mail address in one spelling per mailbox: lower-cased, and with an
/// internationalized domain in its ASCII form, so that `Ann@Example.com` equals
/// `ann@example.com` and the database's ASCII-only `lower()` agrees with this type.
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
        let (local, domain) = normalized
            .rsplit_once('@')
            .ok_or("Enter an e-mail address like name@example.com.")?;
        if !local.is_ascii() {
            return Err(
                "Use only ASCII letters, digits and symbols before the @ in an e-mail address."
                    .into(),
            );
        }
        let domain = idna::domain_to_ascii(domain)
            .map_err(|_| "The part after the @ is not a valid domain name.".to_owned())?;
        let address = format!("{local}@{domain}");
        if address.len() > Self::MAX_LEN {
            return Err(format!(
                "An e-mail address has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        Ok(Self(address))
    }
}

checked_text!(WorkEmail, |text: String| text.trim().to_lowercase());

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
    fn an_international_domain_is_kept_in_its_ascii_form() {
        assert_eq!(
            WorkEmail::parse("Ann@BÜCHER.de").unwrap(),
            WorkEmail::parse("ann@xn--bcher-kva.de").unwrap()
        );
        assert!(WorkEmail::parse("jörg@example.com").is_err());
    }

    #[test]
    fn rejects_an_overlong_address() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(WorkEmail::parse(&long).is_err());
    }
}
