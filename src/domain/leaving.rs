//! Ending someone's employment: the date they leave and, if given, why. The record
//! stays; this is what is kept beside it until the same record is reactivated.

use time::{Date, Duration};

use super::OptionalText;
use super::employee::parse_date;

/// A checked termination: the last day is on or after the hire date, and at most a year
/// ahead (a leaver can be recorded in advance of their notice running out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    pub date: Date,
    pub reason: OptionalText,
}

/// Which field of the terminate form is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminationProblem {
    Date(String),
    Reason(String),
}

impl Termination {
    pub const REASON_MAX_LEN: usize = 500;

    pub fn parse(
        date: &str,
        reason: &str,
        hired: Date,
        today: Date,
    ) -> Result<Self, TerminationProblem> {
        if date.trim().is_empty() {
            return Err(TerminationProblem::Date(
                "Enter the last day of employment.".into(),
            ));
        }
        let date = parse_date(date).map_err(TerminationProblem::Date)?;
        if date < hired {
            return Err(TerminationProblem::Date(format!(
                "The last day cannot be before the hire date, {hired}."
            )));
        }
        if date > today + Duration::days(366) {
            return Err(TerminationProblem::Date(
                "The last day can be at most a year ahead.".into(),
            ));
        }
        if reason.chars().count() > Self::REASON_MAX_LEN {
            return Err(TerminationProblem::Reason(format!(
                "A reason has at most {} characters.",
                Self::REASON_MAX_LEN
            )));
        }
        if reason
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            return Err(TerminationProblem::Reason(
                "A reason cannot hold control characters.".into(),
            ));
        }
        Ok(Self {
            date,
            reason: OptionalText::from_stored(Some(reason.trim().to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const HIRED: Date = date!(2020 - 05 - 01);
    const TODAY: Date = date!(2026 - 12 - 07);

    #[test]
    fn a_last_day_from_the_hire_date_to_a_year_ahead_is_taken() {
        let left = Termination::parse("2026-12-31", "  moved abroad ", HIRED, TODAY).unwrap();
        assert_eq!(left.date, date!(2026 - 12 - 31));
        assert_eq!(left.reason.as_deref(), Some("moved abroad"));
        let no_reason = Termination::parse("2020-05-01", "", HIRED, TODAY).unwrap();
        assert_eq!(no_reason.reason.as_deref(), None);
    }

    #[test]
    fn each_problem_names_its_field() {
        let date_problem = |raw| {
            matches!(
                Termination::parse(raw, "", HIRED, TODAY),
                Err(TerminationProblem::Date(_))
            )
        };
        assert!(date_problem(""));
        assert!(date_problem("2026-02-30"));
        assert!(date_problem("2020-04-30"));
        assert!(date_problem("2028-01-01"));
        assert!(matches!(
            Termination::parse("2026-12-01", &"x".repeat(501), HIRED, TODAY),
            Err(TerminationProblem::Reason(_))
        ));
    }
}
