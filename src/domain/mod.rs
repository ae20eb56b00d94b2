//! Employee records as types that are valid by construction: once a form has become a
//! [`Employee`], every field holds a normalized, checked value ("parse, don't validate").

/// The read side every checked text type shares: its text, borrowed or taken, and
/// shown as itself. Each type's `parse` is its own.
macro_rules! checked_text {
    ($name:ident) => {
        impl $name {
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

mod email;
mod employee;
mod employee_id;
mod field;
pub mod import;
mod person_name;
mod user;

pub use email::WorkEmail;
pub use employee::{Employee, EmployeeForm, EmploymentStatus, OptionalText};
pub use employee_id::EmployeeId;
pub use field::{Field, FieldErrors};
pub use person_name::PersonName;
pub use user::{NewPassword, Role, Username};
