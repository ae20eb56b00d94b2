//! What makes two records likely the same person although their IDs and e-mails differ:
//! the same folded name with the same date of birth, or the same phone number once
//! written the one international way (E.164). Both are keys, so the store can look a
//! new record's likely twins up through an index, and find every likely pair by
//! grouping.

use std::sync::OnceLock;

use phonenumber::country;
use time::Date;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Employee;

/// The region numbers written without a country code belong to, set once at start
/// from `ROSTER_PHONE_REGION`: unset, only numbers written with `+` compare.
static PHONE_REGION: OnceLock<Option<country::Id>> = OnceLock::new();

/// The region a `ROSTER_PHONE_REGION` value names (ISO 3166 alpha-2, any case).
pub fn parse_phone_region(raw: &str) -> Result<country::Id, String> {
    let code = raw.trim().to_ascii_uppercase();
    code.parse::<country::Id>().map_err(|_| {
        format!("ROSTER_PHONE_REGION {raw:?} is no region code: use two letters, e.g. GB or US")
    })
}

/// Sets the region for the life of the process; the first call wins.
pub fn set_phone_region(region: Option<country::Id>) {
    let _ = PHONE_REGION.set(region);
}

fn phone_region() -> Option<country::Id> {
    PHONE_REGION.get().copied().flatten()
}

/// A name as compared: letters without accents, lower case, single spaces.
pub fn fold_name(name: &str) -> String {
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// First and last name in either order, with the date of birth; none without one.
pub fn person_key(
    first_name: &str,
    last_name: &str,
    date_of_birth: Option<Date>,
) -> Option<String> {
    let born = date_of_birth?;
    let mut names = [fold_name(first_name), fold_name(last_name)];
    names.sort();
    Some(format!("{}|{}|{born}", names[0], names[1]))
}

/// The number in E.164 (`+442079460018`); none when it cannot be read as one.
pub fn phone_key(phone: &str) -> Option<String> {
    let number = phonenumber::parse(phone_region(), phone.trim()).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// A record's two keys, as the store keeps them beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Likeness {
    pub person: Option<String>,
    pub phone: Option<String>,
}

impl Likeness {
    pub fn of(employee: &Employee) -> Self {
        Self {
            person: person_key(
                employee.first_name.as_str(),
                employee.last_name.as_str(),
                employee.date_of_birth,
            ),
            phone: employee.phone.international().map(str::to_owned),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.person.is_none() && self.phone.is_none()
    }

    /// Why `other` looks like the same person, in plain words; none if it does not.
    pub fn reason(&self, other: &Likeness) -> Option<MatchReason> {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        match (
            same(&self.person, &other.person),
            same(&self.phone, &other.phone),
        ) {
            (true, true) => Some(MatchReason::NameBirthAndPhone),
            (true, false) => Some(MatchReason::NameAndBirth),
            (false, true) => Some(MatchReason::Phone),
            (false, false) => None,
        }
    }
}

/// Which keys two records share; the stronger match sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchReason {
    NameBirthAndPhone,
    NameAndBirth,
    Phone,
}

impl MatchReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::NameBirthAndPhone => "same name, date of birth and phone",
            Self::NameAndBirth => "same name and date of birth",
            Self::Phone => "same phone",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn names_match_ignoring_case_accents_spacing_and_order() {
        let born = Some(date!(1815 - 12 - 10));
        let ada = person_key("Ada", "Lovelace", born);
        for (first, last) in [
            ("ada", "LOVELACE"),
            ("  Ada ", "Lovelace  "),
            ("Lovelace", "Ada"),
            ("Adá", "Lovelacé"),
            ("ADA", "lovel\u{0061}\u{0301}ce"),
        ] {
            assert_eq!(person_key(first, last, born), ada, "{first} {last}");
        }
        assert_eq!(
            person_key("Mary  Ann", "Smith", born),
            person_key("mary ann", "smith", born)
        );
    }

    #[test]
    fn the_same_name_born_another_day_is_someone_else() {
        assert_ne!(
            person_key("Ada", "Lovelace", Some(date!(1815 - 12 - 10))),
            person_key("Ada", "Lovelace", Some(date!(1815 - 12 - 11)))
        );
        assert_eq!(person_key("Ada", "Lovelace", None), None);
    }

    #[test]
    fn international_numbers_compare_however_they_are_written() {
        let key = phone_key("+44 20 7946 0018");
        assert_eq!(key.as_deref(), Some("+442079460018"));
        for written in ["+44 (20) 7946-0018", "+442079460018", "+44.20.7946.0018"] {
            assert_eq!(phone_key(written), key, "{written}");
        }
        assert_ne!(phone_key("+44 20 7946 0019"), key);
        assert_eq!(phone_key("12"), None);
    }

    #[test]
    fn a_region_code_is_two_letters() {
        assert!(parse_phone_region(" gb ").is_ok());
        assert!(parse_phone_region("Britain").is_err());
    }
}
