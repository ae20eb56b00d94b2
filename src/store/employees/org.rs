//! The reporting lines of the whole staff, for the org chart: one query, ordered so
//! that each manager's reports come by name.

use diesel::prelude::*;

use super::list::TERMINATED;
use crate::domain::EmployeeId;
use crate::store::StoreError;
use crate::store::connection::DbConnection;
use crate::store::schema::employees;

/// Someone on the staff as the org chart shows them.
#[derive(Debug, Clone)]
pub struct OrgPerson {
    pub employee_id: EmployeeId,
    pub name: String,
    pub job_title: Option<String>,
    pub department_id: Option<i64>,
    pub manager_id: Option<EmployeeId>,
}

type OrgRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// Everyone on the staff (not terminated, not merged away), by last and first name.
pub(in crate::store) fn staff(conn: &mut DbConnection) -> Result<Vec<OrgPerson>, StoreError> {
    let rows: Vec<OrgRow> = employees::table
        .filter(employees::merged_into.is_null())
        .filter(employees::status.ne(TERMINATED))
        .order((
            employees::last_name.asc(),
            employees::first_name.asc(),
            employees::id.asc(),
        ))
        .select((
            employees::employee_id,
            employees::first_name,
            employees::last_name,
            employees::job_title,
            employees::department_id,
            employees::manager_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, first, last, job_title, department_id, manager)| OrgPerson {
                employee_id: EmployeeId::from_stored(id),
                name: format!("{first} {last}"),
                job_title,
                department_id,
                manager_id: manager.map(EmployeeId::from_stored),
            },
        )
        .collect())
}
