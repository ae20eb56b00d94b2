//! Employee queries: `write` (insert, update, delete, each with its audit entry),
//! `list` (the pages of the list and search), and here the stored record and the reads
//! of one record or all. Uniqueness is decided by the unique indexes: insert, and turn a
//! violation into a conflict naming the record that holds the value. Never check first.

mod created;
mod list;
mod write;

use diesel::prelude::*;
use std::ops::Deref;

use time::{Date, PrimitiveDateTime};

pub(super) use created::{Creation, insert_created};
pub use list::{EmployeePage, ListQuery, PAGE_SIZE, SortOrder};
pub(super) use list::{filtered_page, plain_page, search_newest_window};
pub(super) use write::{audited_fields, delete, insert, update};

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{departments, employees};
use crate::domain::{Employee, EmployeeForm, EmployeeId};

/// An employee's columns as the database holds them: the one row shape that every
/// write of employees (a form, a group commit, an import) and every read goes
/// through. Diesel takes the column list from it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = employees, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(in crate::store) struct EmployeeRow {
    pub(in crate::store) employee_id: String,
    pub(in crate::store) first_name: String,
    pub(in crate::store) last_name: String,
    pub(in crate::store) email: String,
    pub(in crate::store) hire_date: Date,
    pub(in crate::store) phone: Option<String>,
    pub(in crate::store) date_of_birth: Option<Date>,
    pub(in crate::store) department_id: Option<i64>,
    pub(in crate::store) job_title: Option<String>,
    pub(in crate::store) manager_id: Option<String>,
    pub(in crate::store) status: String,
}

impl From<&Employee> for EmployeeRow {
    fn from(employee: &Employee) -> Self {
        let text = |value: Option<&str>| value.map(str::to_owned);
        Self {
            employee_id: employee.employee_id.to_string(),
            first_name: employee.first_name.to_string(),
            last_name: employee.last_name.to_string(),
            email: employee.email.to_string(),
            hire_date: employee.hire_date,
            phone: text(employee.phone.as_deref()),
            date_of_birth: employee.date_of_birth,
            department_id: employee.department_id,
            job_title: text(employee.job_title.as_deref()),
            manager_id: employee.manager_id.as_ref().map(EmployeeId::to_string),
            status: employee.status.as_str().to_owned(),
        }
    }
}

/// What the database holds is checked again on the way out, by the same rules as a
/// form: a row another tool wrote must not pass for a valid record.
impl TryFrom<EmployeeRow> for Employee {
    type Error = StoreError;

    fn try_from(row: EmployeeRow) -> Result<Self, StoreError> {
        let date = |value: Option<Date>| value.map(|d| d.to_string()).unwrap_or_default();
        let form = EmployeeForm {
            employee_id: row.employee_id,
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            hire_date: row.hire_date.to_string(),
            phone: row.phone.unwrap_or_default(),
            date_of_birth: date(row.date_of_birth),
            department_id: row.department_id.map(|d| d.to_string()).unwrap_or_default(),
            job_title: row.job_title.unwrap_or_default(),
            manager_id: row.manager_id.unwrap_or_default(),
            status: row.status,
        };
        Employee::try_from(&form).map_err(|problems| StoreError::Unreadable {
            employee_id: form.employee_id,
            problems: problems.to_string(),
        })
    }
}

/// A row of `employees`, whole.
#[derive(Queryable, Selectable)]
#[diesel(table_name = employees)]
pub(super) struct StoredRecord {
    id: i64,
    #[diesel(embed)]
    row: EmployeeRow,
    version: i32,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
}

/// One stored employee: its fields, and where and when it is stored.
#[derive(Debug, Clone)]
pub struct EmployeeRecord {
    pub id: i64,
    pub employee: Employee,
    pub version: i32,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

/// Pages read a record's fields as if they were its own.
impl Deref for EmployeeRecord {
    type Target = Employee;

    fn deref(&self) -> &Employee {
        &self.employee
    }
}

impl TryFrom<StoredRecord> for EmployeeRecord {
    type Error = StoreError;

    fn try_from(stored: StoredRecord) -> Result<Self, StoreError> {
        Ok(Self {
            id: stored.id,
            employee: Employee::try_from(stored.row)?,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }
}

pub(super) fn records(stored: Vec<StoredRecord>) -> Result<Vec<EmployeeRecord>, StoreError> {
    stored.into_iter().map(EmployeeRecord::try_from).collect()
}

pub(super) fn find(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
) -> Result<EmployeeRecord, StoreError> {
    employees::table
        .filter(employees::employee_id.eq(employee_id.as_str()))
        .select(StoredRecord::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Every record's id, newest first: the page map of the whole list.
pub(super) fn ids_newest_first(conn: &mut DbConnection) -> Result<Vec<i64>, StoreError> {
    Ok(employees::table
        .select(employees::id)
        .order(employees::id.desc())
        .load(conn)?)
}

/// Records' claims in id order, a page at a time, for rebuilding the duplicate index.
pub(super) fn claims_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    Ok(employees::table
        .filter(employees::id.gt(after))
        .order(employees::id.asc())
        .limit(limit)
        .select((employees::id, employees::employee_id, employees::email))
        .load(conn)?)
}

pub(super) fn records_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<EmployeeRecord>, StoreError> {
    let stored = employees::table
        .filter(employees::id.gt(after))
        .order(employees::id.asc())
        .limit(limit)
        .select(StoredRecord::as_select())
        .load(conn)?;
    records(stored)
}

#[derive(Debug, Clone, Queryable)]
pub struct Department {
    pub id: i64,
    pub name: String,
}

pub(super) fn departments(conn: &mut DbConnection) -> Result<Vec<Department>, StoreError> {
    Ok(departments::table
        .select((departments::id, departments::name))
        .order(departments::name.asc())
        .load(conn)?)
}
