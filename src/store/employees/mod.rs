//! Employee queries: `write` (insert, update, delete, each with its audit entry),
//! `list` (the pages of the list and search), and here the stored record and the reads
//! of one record or all. Uniqueness is decided by the unique indexes: insert, and turn a
//! violation into a conflict naming the record that holds the value. Never check first.

mod list;
mod write;

use diesel::prelude::*;
use time::{Date, PrimitiveDateTime};

pub use list::{EmployeePage, ListQuery, PAGE_SIZE, SortOrder};
pub(super) use list::{filtered_page, plain_page, search_newest_window};
pub(super) use write::{audited_fields_of_new, delete, insert, update};

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{departments, employees};
use crate::domain::{EmployeeId, EmploymentStatus};

/// One stored employee, as pages show it.
#[derive(Debug, Clone, Queryable)]
pub struct EmployeeRecord {
    pub id: i64,
    pub employee_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub hire_date: Date,
    pub phone: Option<String>,
    pub date_of_birth: Option<Date>,
    pub department_id: Option<i64>,
    pub job_title: Option<String>,
    pub manager_id: Option<String>,
    pub status: String,
    pub version: i32,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

impl EmployeeRecord {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn status_label(&self) -> &'static str {
        EmploymentStatus::parse(&self.status)
            .map(EmploymentStatus::label)
            .unwrap_or("Unknown")
    }
}

pub(super) fn find(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
) -> Result<EmployeeRecord, StoreError> {
    employees::table
        .filter(employees::employee_id.eq(employee_id.as_str()))
        .select(employees::all_columns)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
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
    Ok(employees::table
        .filter(employees::id.gt(after))
        .order(employees::id.asc())
        .limit(limit)
        .select(employees::all_columns)
        .load(conn)?)
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
