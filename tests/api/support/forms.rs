//! The forms tests fill in, and what they read back out of pages.

use std::collections::HashMap;

/// A new employee's form: the required fields, the rest left empty.
pub type EmployeeForm = HashMap<&'static str, String>;

pub fn employee_form(employee_id: &str, email: &str) -> EmployeeForm {
    HashMap::from([
        ("employee_id", employee_id.to_owned()),
        ("first_name", "Ann".to_owned()),
        ("last_name", "Lee".to_owned()),
        ("email", email.to_owned()),
        ("hire_date", "2024-03-01".to_owned()),
    ])
}

/// The edit form's fields: `form`, and the `version` the form was opened at.
pub fn edit_fields(form: &EmployeeForm, version: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    fields.push(("version".into(), version.into()));
    fields
}

/// The value of the first `name="…"` field in a page.
pub fn field_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}
