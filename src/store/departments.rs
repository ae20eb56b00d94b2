//! Departments: the list with head counts, and the admin's writes (add, rename,
//! archive, head), each with its audit entry. A name is unique by its key (case and
//! spaces do not count): the unique index decides, as for employees.

use std::collections::HashMap;

use diesel::prelude::*;

use super::audit::{self, AuditAction, FieldChange, Subject};
use super::connection::DbConnection;
use super::employees::now_utc;
use super::schema::{departments, employees};
use super::{Rule, StoreError};
use crate::domain::{DepartmentName, EmployeeId, EmploymentStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = departments)]
pub struct Department {
    pub id: i64,
    pub name: String,
    archived_at: Option<time::PrimitiveDateTime>,
    pub head_id: Option<String>,
}

impl Department {
    /// Archived: takes no new members, keeps the ones it has and its history.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// What an admin changes about a department.
#[derive(Debug, Clone)]
pub enum DepartmentChange {
    Rename(DepartmentName),
    Archive(bool),
    Head(Option<EmployeeId>),
}

pub(super) fn all(conn: &mut DbConnection) -> Result<Vec<Department>, StoreError> {
    Ok(departments::table
        .select(Department::as_select())
        .order((departments::name.asc(), departments::id.asc()))
        .load(conn)?)
}

/// Each department's current staff (active or on leave), by department id: one
/// grouped scan, for the departments page.
pub(super) fn head_counts(conn: &mut DbConnection) -> Result<HashMap<i64, i64>, StoreError> {
    let counts: Vec<(Option<i64>, i64)> = employees::table
        .filter(employees::merged_into.is_null())
        .filter(employees::status.ne(EmploymentStatus::Terminated.as_str()))
        .filter(employees::department_id.is_not_null())
        .group_by(employees::department_id)
        .select((employees::department_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts
        .into_iter()
        .filter_map(|(id, count)| id.map(|id| (id, count)))
        .collect())
}

pub(super) fn add(
    conn: &mut DbConnection,
    name: &DepartmentName,
    actor: &str,
) -> Result<i64, StoreError> {
    let added = conn.transaction(|conn| {
        let id: i64 = diesel::insert_into(departments::table)
            .values((
                departments::name.eq(name.as_str()),
                departments::name_key.eq(name.key()),
            ))
            .returning(departments::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor,
            AuditAction::Create,
            Subject::department(id, name.as_str()),
            &created_changes(name),
        )?;
        Ok(id)
    });
    added.map_err(|error| name_taken(conn, name, error))
}

/// What a department's audit entry records of its creation.
pub(super) fn created_changes(name: &DepartmentName) -> [FieldChange; 1] {
    [field_change("name", None, Some(name.to_string()))]
}

/// Applies an admin's changes to one department in one transaction with one audit
/// entry, so a refused head never leaves a rename behind (or the other way round).
pub(super) fn change_department(
    conn: &mut DbConnection,
    id: i64,
    changes: &[DepartmentChange],
    actor: &str,
) -> Result<(), StoreError> {
    let renamed_to = changes.iter().find_map(|change| match change {
        DepartmentChange::Rename(name) => Some(name),
        _ => None,
    });
    let written = conn.transaction(|conn| {
        let old: Department = departments::table
            .find(id)
            .select(Department::as_select())
            .first(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let mut recorded = Vec::new();
        for change in changes {
            recorded.extend(apply(conn, &old, change)?);
        }
        if recorded.is_empty() {
            return Ok(());
        }
        let name = renamed_to.map_or_else(|| old.name.clone(), ToString::to_string);
        audit::record(
            conn,
            actor,
            AuditAction::Update,
            Subject::department(id, &name),
            &recorded,
        )
    });
    match (written, renamed_to) {
        (Err(error), Some(name)) => Err(name_taken(conn, name, error)),
        (written, _) => written,
    }
}

/// One change against the department as it was: the field it changed, or nothing
/// when it already had that value.
fn apply(
    conn: &mut DbConnection,
    old: &Department,
    change: &DepartmentChange,
) -> Result<Option<FieldChange>, StoreError> {
    let target = departments::table.find(old.id);
    match change {
        DepartmentChange::Rename(name) => {
            if name.as_str() == old.name {
                return Ok(None);
            }
            diesel::update(target)
                .set((
                    departments::name.eq(name.as_str()),
                    departments::name_key.eq(name.key()),
                ))
                .execute(conn)?;
            Ok(Some(field_change(
                "name",
                Some(old.name.clone()),
                Some(name.to_string()),
            )))
        }
        DepartmentChange::Archive(archive) => {
            if *archive == old.is_archived() {
                return Ok(None);
            }
            let archived_at = archive.then(now_utc);
            diesel::update(target)
                .set(departments::archived_at.eq(archived_at))
                .execute(conn)?;
            let state = |archived: bool| Some(if archived { "Archived" } else { "Open" }.into());
            Ok(Some(field_change(
                "state",
                state(old.is_archived()),
                state(*archive),
            )))
        }
        DepartmentChange::Head(head) => {
            if let Some(head) = head {
                current_employee(conn, head)?;
            }
            let head = head.as_ref().map(EmployeeId::to_string);
            if head == old.head_id {
                return Ok(None);
            }
            diesel::update(target)
                .set(departments::head_id.eq(&head))
                .execute(conn)?;
            Ok(Some(field_change("head", old.head_id.clone(), head)))
        }
    }
}

/// A department's head must be someone on the staff: stored, not merged away, not
/// terminated.
fn current_employee(conn: &mut DbConnection, id: &EmployeeId) -> Result<(), StoreError> {
    let found: Option<(String, Option<i64>)> = employees::table
        .filter(employees::employee_id.eq(id.as_str()))
        .select((employees::status, employees::merged_into))
        .first(conn)
        .optional()?;
    match found {
        Some((status, None)) if status != EmploymentStatus::Terminated.as_str() => Ok(()),
        _ => Err(StoreError::NotOnStaff(id.clone())),
    }
}

fn field_change(field: &str, old: Option<String>, new: Option<String>) -> FieldChange {
    FieldChange {
        field: field.into(),
        old,
        new,
    }
}

/// A unique violation of the name: which department holds it.
fn name_taken(conn: &mut DbConnection, name: &DepartmentName, error: StoreError) -> StoreError {
    if !matches!(
        error,
        StoreError::Violation {
            rule: Rule::Unique,
            ..
        }
    ) {
        return error;
    }
    let holder = departments::table
        .filter(departments::name_key.eq(name.key()))
        .select(departments::name)
        .first::<String>(conn);
    match holder {
        Ok(holder) => StoreError::DepartmentTaken(holder),
        Err(diagnosis) => diagnosis.into(),
    }
}
