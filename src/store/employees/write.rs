//! Writing one record with its audit entry, and turning a refused write into what the
//! user must change.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::created::{Creation, insert_created};
use super::hierarchy;
use super::{EmployeeRecord, EmployeeRow, answering_for, find};
use crate::domain::{Employee, EmployeeForm, EmployeeId, EmploymentStatus, Field, WorkEmail};
use crate::store::audit::{self, AuditAction, FieldChange, Subject, diff};
use crate::store::connection::DbConnection;
use crate::store::people;
use crate::store::schema::{departments, employees};
use crate::store::{Rule, StoreError, lower};

/// The record's fields as the audit trail shows them: each field's text as the form
/// shows it, empty meaning absent.
pub(in crate::store) fn audited_fields(employee: &Employee) -> Vec<(&'static str, Option<String>)> {
    EmployeeForm::from(employee)
        .into_fields()
        .into_iter()
        .map(|(field, text)| (field.name(), Some(text).filter(|text| !text.is_empty())))
        .collect()
}

/// Turns a failed write into what the user must change. Runs after the transaction
/// rolled back, so that the diagnostic queries may run (PostgreSQL refuses them inside
/// a failed transaction).
fn explain_write_error(conn: &mut DbConnection, new: &Employee, error: StoreError) -> StoreError {
    let StoreError::Violation { rule, .. } = &error else {
        return error;
    };
    let explained = match rule {
        Rule::Unique => {
            let field = clashing_field(&error);
            match field {
                Field::Email => holder_of_email(conn, &new.email),
                _ => answering_for(conn, new.employee_id.clone()).map(Some),
            }
            .map(|holder| StoreError::Conflict { field, holder })
        }
        Rule::ForeignKey => missing_reference(conn, new).map(StoreError::MissingReference),
        Rule::Check => return error,
    };
    explained.unwrap_or_else(|diagnosis_error| diagnosis_error)
}

/// One record and its audit entry, atomically; a refusal names what to change.
/// `confirmed` are the records a person said are someone else, although they look
/// alike: recorded in the same transaction, and named in the audit entry.
pub(in crate::store) fn insert(
    conn: &mut DbConnection,
    new: &Employee,
    actor: &str,
    confirmed: &[EmployeeId],
) -> Result<(), StoreError> {
    let written = match conn {
        DbConnection::Pg(pg) if confirmed.is_empty() => {
            let creation = Creation {
                employee: new,
                actor,
            };
            insert_created(pg, &[creation], false).map(drop)
        }
        _ => conn.transaction(|conn| {
            let record_id = diesel::insert_into(employees::table)
                .values(EmployeeRow::from(new))
                .returning(employees::id)
                .get_result::<i64>(conn)?;
            let mut changes = diff(&[], &audited_fields(new));
            if !confirmed.is_empty() {
                changes.push(people::confirmation_change(confirmed));
            }
            let subject = Subject::employee(record_id, new.employee_id.as_str());
            audit::record(conn, actor, AuditAction::Create, subject, &changes)?;
            people::confirm_distinct(conn, &new.employee_id, confirmed, actor)
        }),
    };
    written.map_err(|error| explain_write_error(conn, new, error))
}

pub(in crate::store) fn now_utc() -> PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    PrimitiveDateTime::new(now.date(), now.time())
}

/// Replaces the record at `version` with `new`; returns the record as it was. Version
/// checked optimistically: the update matches only the version the form was made
/// from, so a concurrent edit makes it match nothing, and the audit's "old" values are
/// exactly what was replaced.
pub(in crate::store) fn update(
    conn: &mut DbConnection,
    current: &EmployeeId,
    version: i32,
    new: &Employee,
    actor: &str,
    confirmed: &[EmployeeId],
) -> Result<EmployeeRecord, StoreError> {
    let old = find(conn, current)?;
    if old.version != version {
        return Err(StoreError::StaleVersion);
    }
    let terminated = old.status == EmploymentStatus::Terminated;
    if terminated != (new.status == EmploymentStatus::Terminated) {
        return Err(StoreError::LeavingByForm { terminated });
    }
    if let Some(department) = new.department_id
        && new.department_id != old.department_id
    {
        refuse_archived(conn, department)?;
    }
    let mut changes = diff(&audited_fields(&old), &audited_fields(new));
    if !confirmed.is_empty() {
        changes.push(people::confirmation_change(confirmed));
    }
    if changes.is_empty() {
        return Ok(old);
    }
    let new_manager = new
        .manager_id
        .as_ref()
        .filter(|_| new.manager_id != old.manager_id);
    conn.transaction(|conn| {
        if new_manager.is_some() {
            hierarchy::lock_hierarchy(conn)?;
        }
        let updated = diesel::update(
            employees::table
                .filter(employees::employee_id.eq(current.as_str()))
                .filter(employees::version.eq(version)),
        )
        .set((
            EmployeeRow::from(new),
            employees::version.eq(version + 1),
            employees::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(StoreError::StaleVersion);
        }
        if let Some(manager) = new_manager {
            hierarchy::check_new_manager(conn, &new.employee_id, manager)?;
        }
        let subject = Subject::employee(old.id, new.employee_id.as_str());
        audit::record(conn, actor, AuditAction::Update, subject, &changes)?;
        people::confirm_distinct(conn, &new.employee_id, confirmed, actor)?;
        if old.employee_id != new.employee_id {
            record_reports_renamed_manager(conn, actor, &old.employee_id, &new.employee_id)?;
        }
        Ok(())
    })
    .map_err(|error| explain_write_error(conn, new, error))?;
    Ok(old)
}

/// An archived department keeps its members but takes no new ones. (A department
/// archived between this check and the commit still gains this one member: archiving
/// is an admin's rare act, and the member can be moved.)
fn refuse_archived(conn: &mut DbConnection, department: i64) -> Result<(), StoreError> {
    let archived = departments::table
        .find(department)
        .select(departments::archived_at.is_not_null())
        .first::<bool>(conn)
        .optional()?;
    match archived {
        Some(true) => Err(StoreError::DepartmentArchived),
        _ => Ok(()),
    }
}

/// A manager's new ID reaches their reports through `ON UPDATE CASCADE` (and a new
/// version through the version trigger); this makes it part of their history too.
fn record_reports_renamed_manager(
    conn: &mut DbConnection,
    actor: &str,
    old_id: &EmployeeId,
    new_id: &EmployeeId,
) -> Result<(), StoreError> {
    let reports: Vec<(i64, String)> = employees::table
        .filter(employees::manager_id.eq(new_id.as_str()))
        .select((employees::id, employees::employee_id))
        .load(conn)?;
    record_manager_change(conn, actor, &reports, old_id, new_id)
}

/// A line in each report's history: their manager is now `new_id`.
pub(in crate::store) fn record_manager_change(
    conn: &mut DbConnection,
    actor: &str,
    reports: &[(i64, String)],
    old_id: &EmployeeId,
    new_id: &EmployeeId,
) -> Result<(), StoreError> {
    let change = [FieldChange {
        field: "manager_id".into(),
        old: Some(old_id.to_string()),
        new: Some(new_id.to_string()),
    }];
    for (record_id, report) in reports {
        let subject = Subject::employee(*record_id, report);
        audit::record(conn, actor, AuditAction::Update, subject, &change)?;
    }
    Ok(())
}

/// Removes the record at `version`, and with it the records merged into it; returns
/// it as it was, and the claims its aliases held.
pub(in crate::store) fn delete(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
    version: i32,
    actor: &str,
) -> Result<(EmployeeRecord, Vec<(EmployeeId, WorkEmail)>), StoreError> {
    let old = find(conn, employee_id)?;
    if old.version != version {
        return Err(StoreError::StaleVersion);
    }
    let removed = conn.transaction(|conn| {
        let aliases = people::aliases_of(conn, old.id)?;
        let deleted = diesel::delete(
            employees::table
                .filter(employees::employee_id.eq(employee_id.as_str()))
                .filter(employees::version.eq(version)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(StoreError::StaleVersion);
        }
        let changes = diff(&audited_fields(&old), &[]);
        let subject = Subject::employee(old.id, employee_id.as_str());
        audit::record(conn, actor, AuditAction::Delete, subject, &changes)?;
        Ok(aliases)
    });
    match removed {
        Ok(aliases) => Ok((old, aliases)),
        Err(StoreError::Violation {
            rule: Rule::ForeignKey,
            ..
        }) => Err(StoreError::StillManaging),
        Err(error) => Err(error),
    }
}

/// The unique index a refused write broke: the e-mail's, or else the employee ID's.
fn clashing_field(violation: &StoreError) -> Field {
    if violation.violation_names("email") {
        Field::Email
    } else {
        Field::EmployeeId
    }
}

fn holder_of_email(
    conn: &mut DbConnection,
    email: &WorkEmail,
) -> Result<Option<EmployeeId>, StoreError> {
    let holder = employees::table
        .filter(lower(employees::email).eq(email.as_str()))
        .select(employees::employee_id)
        .first::<String>(conn)
        .optional()?;
    holder
        .map(|id| answering_for(conn, EmployeeId::from_stored(id)))
        .transpose()
}

/// SQLite does not say which foreign key failed, so both backends ask; this runs only
/// on the failure path.
fn missing_reference(conn: &mut DbConnection, new: &Employee) -> Result<Field, StoreError> {
    if let Some(manager) = &new.manager_id {
        let found = employees::table
            .filter(employees::employee_id.eq(manager.as_str()))
            .count()
            .get_result::<i64>(conn)?;
        if found == 0 {
            return Ok(Field::ManagerId);
        }
    }
    Ok(Field::DepartmentId)
}
