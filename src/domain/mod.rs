//! Employee records as types that are valid by construction: once a form has become a
//! [`Employee`], every field holds a normalized, checked value ("parse, don't validate").

/// The read side every checked text type shares: its text, borrowed or taken, shown
/// as itself, and read back from the store. Each type's `parse` is its own.
macro_rules! checked_text {
    ($name:ident) => {
        checked_text!($name, |text: String| text);
    };
    ($name:ident, $stored:expr) => {
        impl $name {
            /// Text the store holds: checked when it was written (and the database's
            /// CHECK constraints hold the ID's and e-mail's shapes besides), so reading
            /// a page of records checks nothing again. `$stored` gives it the one
            /// spelling `parse` would, for rows another tool wrote.
            pub fn from_stored(text: String) -> Self {
                Self(($stored)(text))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

mod department;
mod email;
mod employee;
mod employee_id;
mod field;
pub mod import;
mod leaving;
mod likeness;
mod person_name;
mod search;
mod user;

pub use department::{DepartmentName, key_of as department_key};
pub use email::WorkEmail;
pub use employee::{Employee, EmployeeForm, EmploymentStatus, OptionalText, Phone};
pub use employee_id::EmployeeId;
pub use field::{Field, FieldErrors};
pub use leaving::{Termination, TerminationProblem};
pub use likeness::{
    Likeness, MatchReason, fold_name, parse_phone_region, person_key, phone_key, set_phone_region,
};
pub use person_name::PersonName;
pub use search::{is_whole_name, name_matches, query_words, search_words, words_of};
pub use user::{NewPassword, Role, Username};
