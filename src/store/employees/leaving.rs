//! Leavers: terminating a record (it stays, with its ID and e-mail taken) and
//! reactivating the same record when the person returns. Each is one versioned update
//! with its audit entry; a manager's termination waits until nobody reports to them.

use diesel::prelude::*;

use super::{find, now_utc};
use crate::domain::{EmployeeId, EmploymentStatus, OptionalText, Termination};
use crate::store::StoreError;
use crate::store::audit::{self, AuditAction, FieldChange, Subject};
use crate::store::connection::DbConnection;
use crate::store::schema::employees;

/// Reports that block a termination are named, up to this many.
const NAMED_REPORTS: i64 = 20;

/// What a termination or reactivation sets.
pub enum Leaving<'a> {
    Terminate(&'a Termination),
    Reactivate,
}

pub(in crate::store) fn set_leaving(
    conn: &mut DbConnection,
    id: &EmployeeId,
    version: i32,
    leaving: Leaving,
    actor: &str,
) -> Result<(), StoreError> {
    let old = find(conn, id)?;
    if old.version != version {
        return Err(StoreError::StaleVersion);
    }
    let is_terminated = old.status == EmploymentStatus::Terminated;
    match leaving {
        Leaving::Terminate(_) if is_terminated => return Err(StoreError::AlreadyIs("terminated")),
        Leaving::Reactivate if !is_terminated => return Err(StoreError::AlreadyIs("active")),
        _ => {}
    }
    conn.transaction(|conn| {
        // The update comes first, so that it holds the record (and on SQLite the
        // write lock) while the reports are counted: an edit that gives this record a
        // report either committed before, and is counted, or reads the new status.
        let target = employees::table
            .filter(employees::employee_id.eq(id.as_str()))
            .filter(employees::version.eq(version));
        let stamp = (
            employees::version.eq(version + 1),
            employees::updated_at.eq(now_utc()),
        );
        let updated = match &leaving {
            Leaving::Terminate(termination) => diesel::update(target)
                .set((
                    employees::status.eq(EmploymentStatus::Terminated.as_str()),
                    employees::termination_date.eq(Some(termination.date)),
                    employees::termination_reason.eq(termination.reason.as_deref()),
                    stamp,
                ))
                .execute(conn)?,
            Leaving::Reactivate => diesel::update(target)
                .set((
                    employees::status.eq(EmploymentStatus::Active.as_str()),
                    employees::termination_date.eq(None::<time::Date>),
                    employees::termination_reason.eq(None::<String>),
                    stamp,
                ))
                .execute(conn)?,
        };
        if updated == 0 {
            return Err(StoreError::StaleVersion);
        }
        if let Leaving::Terminate(_) = leaving {
            let reports = current_reports(conn, id, NAMED_REPORTS)?;
            if !reports.is_empty() {
                return Err(StoreError::StillManages(reports));
            }
        }
        let changes = changes(&leaving, old.status);
        let subject = Subject::employee(old.id, id.as_str());
        audit::record(conn, actor, AuditAction::Update, subject, &changes)
    })
}

/// The audit entry: status and, for a termination, the date and reason; the values as
/// the form shows them.
fn changes(leaving: &Leaving, before: EmploymentStatus) -> Vec<FieldChange> {
    let change = |field: &str, old: Option<&str>, new: Option<&str>| FieldChange {
        field: field.into(),
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    };
    let terminated = Some(EmploymentStatus::Terminated.as_str());
    match leaving {
        Leaving::Terminate(termination) => {
            let date = termination.date.to_string();
            let mut changes = vec![
                change("status", Some(before.as_str()), terminated),
                change("termination_date", None, Some(&date)),
            ];
            if let Some(reason) = termination.reason.as_deref() {
                changes.push(change("termination_reason", None, Some(reason)));
            }
            changes
        }
        Leaving::Reactivate => vec![change(
            "status",
            terminated,
            Some(EmploymentStatus::Active.as_str()),
        )],
    }
}

/// The staff (not terminated, not merged away) who report to `manager`, by ID, with
/// their names.
pub(in crate::store) fn current_reports(
    conn: &mut DbConnection,
    manager: &EmployeeId,
    limit: i64,
) -> Result<Vec<(EmployeeId, String)>, StoreError> {
    let reports: Vec<(String, String, String)> = employees::table
        .filter(employees::manager_id.eq(manager.as_str()))
        .filter(employees::merged_into.is_null())
        .filter(employees::status.ne(EmploymentStatus::Terminated.as_str()))
        .order(employees::employee_id.asc())
        .limit(limit)
        .select((
            employees::employee_id,
            employees::first_name,
            employees::last_name,
        ))
        .load(conn)?;
    Ok(reports
        .into_iter()
        .map(|(id, first, last)| (EmployeeId::from_stored(id), format!("{first} {last}")))
        .collect())
}

/// How a stored termination reads back.
pub(in crate::store) fn termination_of(
    date: Option<time::Date>,
    reason: Option<String>,
) -> Option<Termination> {
    date.map(|date| Termination {
        date,
        reason: OptionalText::from_stored(reason),
    })
}
