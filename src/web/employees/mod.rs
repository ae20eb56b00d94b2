//! The employee pages, one file each: the list, the add/edit form, a record with its
//! history, and removal.

mod duplicates;
mod form;
mod leaving;
mod list;
mod record;
mod remove;

use actix_web::web;

pub use duplicates::{confirm_merge, duplicates, merge, not_the_same_person};
pub use form::{create, edit_form, new_form, update};
pub use leaving::{reactivate, terminate, terminate_form};
pub use list::list;
pub use record::{history, show};
pub use remove::{confirm_delete, delete};

use super::WebError;
use crate::domain::EmployeeId;
use crate::store::Department;

fn employee_url(id: &EmployeeId) -> String {
    format!("/employees/{id}")
}

fn department_name(departments: &[Department], id: Option<i64>) -> String {
    id.and_then(|id| departments.iter().find(|d| d.id == id))
        .map(|d| d.name.clone())
        .unwrap_or_default()
}

/// A path segment that is no valid ID names no employee.
fn path_id(path: web::Path<String>) -> Result<EmployeeId, WebError> {
    EmployeeId::parse(&path.into_inner()).map_err(|_| WebError::NotFound)
}

/// The version a write form was read at, sent back to detect a stale edit.
fn parse_version(raw: &str) -> Result<i32, WebError> {
    raw.trim().parse().map_err(|_| {
        WebError::BadRequest(
            "The form lacks the record's version; open the edit page again.".into(),
        )
    })
}
