//! Employee records as types that are valid by construction: once a form has become a
//! [`NewEmployee`], every field holds a normalized, checked value ("parse, don't validate").

mod email;
mod employee;
mod employee_id;
mod field;
pub mod import;
mod person_name;
mod user;

pub use email::WorkEmail;
pub use employee::{EmployeeForm, EmploymentStatus, NewEmployee, OptionalText};
pub use employee_id::EmployeeId;
pub use field::{Field, FieldErrors};
pub use person_name::PersonName;
pub use user::{NewPassword, Role, Username};
