//! The audit trail: one event per write, in the write's own transaction, never changed
//! afterwards (the tables' triggers refuse it).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use time::PrimitiveDateTime;

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{audit_events, employees};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Create,
    Update,
    Delete,
}

impl AuditAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// One field's change; `None` where the field had, or has, no value. An absent value
/// is left out of the JSON rather than written as null: every creation and removal
/// would otherwise store a null per field, and an import stores 100,000 creations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// The changes between two versions of a record's fields, in field order.
pub fn diff(
    old: &[(&'static str, Option<String>)],
    new: &[(&'static str, Option<String>)],
) -> Vec<FieldChange> {
    let value = |fields: &[(&'static str, Option<String>)], name: &str| {
        fields
            .iter()
            .find(|(field, _)| *field == name)
            .and_then(|(_, v)| v.clone())
    };
    let names = old.iter().chain(new).map(|(name, _)| *name);
    let mut seen = Vec::new();
    names
        .filter(|name| {
            let first = !seen.contains(name);
            seen.push(*name);
            first
        })
        .filter_map(|name| {
            let (old, new) = (value(old, name), value(new, name));
            (old != new).then(|| FieldChange {
                field: name.to_owned(),
                old,
                new,
            })
        })
        .collect()
}

/// What an audit event is about: an employee record or a sign-in account, by its
/// internal id (which survives renames) and its name at the time.
pub struct Subject<'a> {
    kind: &'static str,
    record_id: i64,
    name: &'a str,
}

impl<'a> Subject<'a> {
    pub fn employee(record_id: i64, employee_id: &'a str) -> Self {
        Self {
            kind: "employee",
            record_id,
            name: employee_id,
        }
    }

    pub fn department(record_id: i64, name: &'a str) -> Self {
        Self {
            kind: "department",
            record_id,
            name,
        }
    }

    pub fn account(record_id: i64, username: &'a str) -> Self {
        Self {
            kind: "account",
            record_id,
            name: username,
        }
    }
}

/// An instant as every page shows one: `2026-12-02 14:05 UTC`.
pub fn utc_minute(at: PrimitiveDateTime) -> String {
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

#[derive(Debug, Clone, Queryable)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: PrimitiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub record_id: i64,
    pub subject: String,
    pub changes: String,
}

impl AuditEvent {
    /// When, to the minute, in UTC.
    pub fn when(&self) -> String {
        utc_minute(self.occurred_at)
    }

    /// The field changes; an unreadable entry (written by hand) shows as none.
    pub fn field_changes(&self) -> Vec<FieldChange> {
        serde_json::from_str(&self.changes).unwrap_or_default()
    }
}

/// Field changes as stored: a JSON array of `{field, old, new}`.
pub(super) fn encode(changes: &[FieldChange]) -> String {
    // A Vec of plain strings always serializes.
    serde_json::to_string(changes).unwrap_or_else(|_| "[]".into())
}

/// One audit event as written: by a single write, or many at once by an import.
#[derive(Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub(super) struct NewAuditEvent<'a> {
    actor: &'a str,
    action: &'static str,
    subject_kind: &'static str,
    record_id: i64,
    subject: &'a str,
    changes: &'a str,
}

impl<'a> NewAuditEvent<'a> {
    /// The creation of a record or a department, its changes already encoded.
    pub(super) fn created(actor: &'a str, subject: Subject<'a>, changes: &'a str) -> Self {
        Self {
            actor,
            action: AuditAction::Create.as_str(),
            subject_kind: subject.kind,
            record_id: subject.record_id,
            subject: subject.name,
            changes,
        }
    }
}

pub(super) fn record(
    conn: &mut DbConnection,
    actor: &str,
    action: AuditAction,
    subject: Subject<'_>,
    changes: &[FieldChange],
) -> Result<(), StoreError> {
    let changes = encode(changes);
    let event = NewAuditEvent {
        actor,
        action: action.as_str(),
        subject_kind: subject.kind,
        record_id: subject.record_id,
        subject: subject.name,
        changes: &changes,
    };
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

/// Everything recorded of the record now holding `employee_id`, under any of its
/// IDs, and of removed records that held it; not of a live record that held it before
/// it was renamed.
pub(super) fn history(
    conn: &mut DbConnection,
    employee_id: &str,
) -> Result<Vec<AuditEvent>, StoreError> {
    let current_record = employees::table
        .filter(employees::employee_id.eq(employee_id))
        .select(employees::id)
        .first::<i64>(conn)
        .optional()?;
    // A survivor's history holds the histories of the records merged into it.
    let mut records: Vec<i64> = current_record.into_iter().collect();
    if let Some(current) = current_record {
        records.extend(
            employees::table
                .filter(employees::merged_into.eq(current))
                .select(employees::id)
                .load::<i64>(conn)?,
        );
    }
    let record_gone = diesel::dsl::not(diesel::dsl::exists(
        employees::table.filter(employees::id.eq(audit_events::record_id)),
    ));
    Ok(audit_events::table
        .filter(audit_events::subject_kind.eq("employee"))
        .filter(
            audit_events::record_id
                .eq_any(records)
                .or(audit_events::subject.eq(employee_id).and(record_gone)),
        )
        .order(audit_events::id.desc())
        .select(audit_events::all_columns)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_only_fields_that_changed() {
        let old = [
            ("first_name", Some("Ann".to_owned())),
            ("phone", None),
            ("job_title", Some("Clerk".to_owned())),
        ];
        let new = [
            ("first_name", Some("Ann".to_owned())),
            ("phone", Some("123".to_owned())),
            ("job_title", None),
        ];
        let changes = diff(&old, &new);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            changes[0],
            FieldChange {
                field: "phone".into(),
                old: None,
                new: Some("123".into())
            }
        );
        assert_eq!(changes[1].field, "job_title");
        assert!(diff(&old, &old).is_empty());
        assert_eq!(diff(&[], &new).len(), 2, "a creation lists every value");
    }

    #[test]
    fn absent_values_are_left_out_and_read_back_as_absent() {
        let changes = diff(&[], &[("phone", Some("123".to_owned()))]);
        let stored = encode(&changes);
        assert_eq!(stored, r#"[{"field":"phone","new":"123"}]"#);
        let event = AuditEvent {
            id: 1,
            occurred_at: time::macros::datetime!(2026-01-01 0:00),
            actor: "a".into(),
            action: "create".into(),
            subject_kind: "employee".into(),
            record_id: 1,
            subject: "E-1".into(),
            changes: stored,
        };
        assert_eq!(event.field_changes(), changes);
        let written_with_nulls = AuditEvent {
            changes: r#"[{"field":"phone","old":null,"new":"123"}]"#.into(),
            ..event
        };
        assert_eq!(written_with_nulls.field_changes(), changes);
    }
}
