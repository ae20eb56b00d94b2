//! Employee queries: `write` (insert, update, delete, each with its audit entry),
//! `list` (the pages of the list and search), and here the stored record and the reads
//! of one record or all. Uniqueness is decided by the unique indexes: insert, and turn a
//! violation into a conflict naming the record that holds the value. Never check first.

mod created;
mod hierarchy;
mod leaving;
mod list;
mod org;
mod search;
mod write;

use diesel::prelude::*;
use std::ops::Deref;

use time::{Date, PrimitiveDateTime};

pub(super) use created::{Creation, insert_created};
pub(super) use hierarchy::chain_reaches;
pub(super) use leaving::{Leaving, current_reports, set_leaving};
pub use list::{EmployeePage, ListQuery, PAGE_SIZE, PageSize, SortColumn, SortOrder, StatusFilter};
pub(super) use list::{filtered_page, plain_page, search_page};
pub use org::OrgPerson;
pub(super) use org::staff;
pub(super) use search::fill_search_words;
pub(super) use write::{audited_fields, delete, insert, now_utc, record_manager_change, update};

use super::StoreError;
use super::connection::DbConnection;
use super::schema::employees;
use crate::domain::{
    Employee, EmployeeId, EmploymentStatus, Likeness, OptionalText, PersonName, Phone, Termination,
    WorkEmail, search_words,
};

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
    /// The likeness keys (`domain::Likeness`), `''` for none: written with every
    /// record so that only rows another tool wrote are left to fill in.
    pub(in crate::store) person_key: Option<String>,
    pub(in crate::store) phone_key: Option<String>,
    /// The words the list's search finds the record by (`domain::search_words`).
    pub(in crate::store) search_words: Option<String>,
}

impl From<&Employee> for EmployeeRow {
    fn from(employee: &Employee) -> Self {
        let text = |value: Option<&str>| value.map(str::to_owned);
        let likeness = Likeness::of(employee);
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
            person_key: Some(likeness.person.unwrap_or_default()),
            phone_key: Some(likeness.phone.unwrap_or_default()),
            search_words: Some(search_words(employee)),
        }
    }
}

impl EmployeeRow {
    pub(in crate::store) fn likeness(&self) -> Likeness {
        let key = |key: &Option<String>| key.clone().filter(|key| !key.is_empty());
        Likeness {
            person: key(&self.person_key),
            phone: key(&self.phone_key),
        }
    }
}

/// Reading a record back: the row holds what a write checked, so nothing is parsed
/// again (a page of records costs no validation).
impl From<EmployeeRow> for Employee {
    fn from(row: EmployeeRow) -> Self {
        Self {
            employee_id: EmployeeId::from_stored(row.employee_id),
            first_name: PersonName::from_stored(row.first_name),
            last_name: PersonName::from_stored(row.last_name),
            email: WorkEmail::from_stored(row.email),
            hire_date: row.hire_date,
            phone: Phone::from_stored(row.phone, row.phone_key),
            date_of_birth: row.date_of_birth,
            department_id: row.department_id,
            job_title: OptionalText::from_stored(row.job_title),
            manager_id: row.manager_id.map(EmployeeId::from_stored),
            status: EmploymentStatus::from_stored(&row.status),
        }
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
    merged_into: Option<i64>,
    termination_date: Option<Date>,
    termination_reason: Option<String>,
}

/// One stored employee: its fields, and where and when it is stored.
#[derive(Debug, Clone)]
pub struct EmployeeRecord {
    pub id: i64,
    pub employee: Employee,
    pub version: i32,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    /// Set while the record's status is terminated.
    pub termination: Option<Termination>,
}

/// Pages read a record's fields as if they were its own.
impl Deref for EmployeeRecord {
    type Target = Employee;

    fn deref(&self) -> &Employee {
        &self.employee
    }
}

impl From<StoredRecord> for EmployeeRecord {
    fn from(stored: StoredRecord) -> Self {
        Self {
            id: stored.id,
            employee: Employee::from(stored.row),
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            termination: leaving::termination_of(
                stored.termination_date,
                stored.termination_reason,
            ),
        }
    }
}

pub(super) fn records(stored: Vec<StoredRecord>) -> Vec<EmployeeRecord> {
    stored.into_iter().map(EmployeeRecord::from).collect()
}

pub(super) fn find(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
) -> Result<EmployeeRecord, StoreError> {
    let stored = employees::table
        .filter(employees::employee_id.eq(employee_id.as_str()))
        .select(StoredRecord::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    match stored.merged_into {
        Some(survivor) => Err(StoreError::MergedInto(survivor_id(conn, survivor)?)),
        None => Ok(EmployeeRecord::from(stored)),
    }
}

fn survivor_id(conn: &mut DbConnection, survivor: i64) -> Result<EmployeeId, StoreError> {
    let id: String = employees::table
        .find(survivor)
        .select(employees::employee_id)
        .first(conn)?;
    Ok(EmployeeId::from_stored(id))
}

/// The record that answers for `employee_id`: itself, or the record it was merged into.
pub(in crate::store) fn answering_for(
    conn: &mut DbConnection,
    employee_id: EmployeeId,
) -> Result<EmployeeId, StoreError> {
    let merged_into: Option<Option<i64>> = employees::table
        .filter(employees::employee_id.eq(employee_id.as_str()))
        .select(employees::merged_into)
        .first(conn)
        .optional()?;
    match merged_into.flatten() {
        Some(survivor) => survivor_id(conn, survivor),
        None => Ok(employee_id),
    }
}

/// The record answering for `employee_id` (itself, or the one it was merged into) and
/// that record's status; `None` when no record holds the ID.
pub(in crate::store) fn standing(
    conn: &mut DbConnection,
    employee_id: EmployeeId,
) -> Result<Option<(EmployeeId, EmploymentStatus)>, StoreError> {
    let found: Option<(Option<i64>, String)> = employees::table
        .filter(employees::employee_id.eq(employee_id.as_str()))
        .select((employees::merged_into, employees::status))
        .first(conn)
        .optional()?;
    Ok(match found {
        None => None,
        Some((None, status)) => Some((employee_id, EmploymentStatus::from_stored(&status))),
        Some((Some(survivor), _)) => {
            let (id, status): (String, String) = employees::table
                .find(survivor)
                .select((employees::employee_id, employees::status))
                .first(conn)?;
            Some((
                EmployeeId::from_stored(id),
                EmploymentStatus::from_stored(&status),
            ))
        }
    })
}

/// The stored records holding any of these IDs or this e-mail, as (ID, e-mail): what a
/// rejected form asks so that it names every taken value and unknown manager at once.
pub(super) fn holders(
    conn: &mut DbConnection,
    ids: &[EmployeeId],
    email: Option<&WorkEmail>,
) -> Result<Vec<(EmployeeId, WorkEmail)>, StoreError> {
    let ids: Vec<&str> = ids.iter().map(EmployeeId::as_str).collect();
    let mut query = employees::table
        .select((employees::employee_id, employees::email))
        .filter(employees::employee_id.eq_any(ids))
        .into_boxed();
    if let Some(email) = email {
        query = query.or_filter(super::lower(employees::email).eq(email.as_str()));
    }
    let found: Vec<(String, String)> = query.load(conn)?;
    found
        .into_iter()
        .map(|(id, email)| {
            let holder = answering_for(conn, EmployeeId::from_stored(id))?;
            Ok((holder, WorkEmail::from_stored(email)))
        })
        .collect()
}

/// Every current record's id (leavers and merged-away ones left out), newest first: the
/// page map of the default list.
pub(super) fn ids_newest_first(conn: &mut DbConnection) -> Result<Vec<i64>, StoreError> {
    Ok(employees::table
        .filter(employees::merged_into.is_null())
        .filter(employees::status.ne(list::TERMINATED))
        .select(employees::id)
        .order(employees::id.desc())
        .load(conn)?)
}

/// Records' claims in id order, a page at a time, for rebuilding the duplicate index:
/// (id, employee ID, e-mail, the employee ID holding them). A merged-away record's
/// claims are held by the record it was merged into.
pub(super) fn claims_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    let rows: Vec<(i64, String, String, Option<i64>)> = employees::table
        .filter(employees::id.gt(after))
        .order(employees::id.asc())
        .limit(limit)
        .select((
            employees::id,
            employees::employee_id,
            employees::email,
            employees::merged_into,
        ))
        .load(conn)?;
    let survivors: Vec<i64> = rows.iter().filter_map(|row| row.3).collect();
    let survivors = if survivors.is_empty() {
        Default::default()
    } else {
        super::people::employee_ids_of(conn, survivors)?
    };
    Ok(rows
        .into_iter()
        .map(|(id, employee_id, email, merged_into)| {
            let holder = merged_into
                .and_then(|survivor| survivors.get(&survivor).cloned())
                .unwrap_or_else(|| employee_id.clone());
            (id, employee_id, email, holder)
        })
        .collect())
}

/// Up to `limit` records after `after` in id order, merged-away ones left out; empty
/// only at the end.
pub(super) fn records_after(
    conn: &mut DbConnection,
    mut after: i64,
    limit: i64,
) -> Result<Vec<EmployeeRecord>, StoreError> {
    loop {
        let stored: Vec<StoredRecord> = employees::table
            .filter(employees::id.gt(after))
            .order(employees::id.asc())
            .limit(limit)
            .select(StoredRecord::as_select())
            .load(conn)?;
        let Some(last) = stored.last().map(|record| record.id) else {
            return Ok(Vec::new());
        };
        let current: Vec<StoredRecord> = stored
            .into_iter()
            .filter(|record| record.merged_into.is_none())
            .collect();
        if !current.is_empty() {
            return Ok(records(current));
        }
        after = last;
    }
}
