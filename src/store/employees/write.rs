//! Writing one record with its audit entry, and turning a refused write into what the
//! user must change.

use diesel::prelude::*;
use time::{Date, PrimitiveDateTime};

use super::{EmployeeRecord, find};
use crate::domain::{EmployeeId, Field, NewEmployee, WorkEmail};
use crate::store::audit::{self, AuditAction, FieldChange, Subject, diff};
use crate::store::connection::DbConnection;
use crate::store::schema::employees;
use crate::store::{Rule, StoreError, lower};

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = employees, treat_none_as_null = true)]
struct NewEmployeeRow<'a> {
    employee_id: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    hire_date: Date,
    phone: Option<&'a str>,
    date_of_birth: Option<Date>,
    department_id: Option<i64>,
    job_title: Option<&'a str>,
    manager_id: Option<&'a str>,
    status: &'a str,
}

impl<'a> From<&'a NewEmployee> for NewEmployeeRow<'a> {
    fn from(new: &'a NewEmployee) -> Self {
        Self {
            employee_id: new.employee_id.as_str(),
            first_name: new.first_name.as_str(),
            last_name: new.last_name.as_str(),
            email: new.email.as_str(),
            hire_date: new.hire_date,
            phone: new.phone.as_deref(),
            date_of_birth: new.date_of_birth,
            department_id: new.department_id,
            job_title: new.job_title.as_deref(),
            manager_id: new.manager_id.as_ref().map(EmployeeId::as_str),
            status: new.status.as_str(),
        }
    }
}

/// The record's fields as the audit trail shows them.
fn audited_fields_of_record(record: &EmployeeRecord) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("employee_id", Some(record.employee_id.clone())),
        ("first_name", Some(record.first_name.clone())),
        ("last_name", Some(record.last_name.clone())),
        ("email", Some(record.email.clone())),
        ("hire_date", Some(record.hire_date.to_string())),
        ("phone", record.phone.clone()),
        ("date_of_birth", record.date_of_birth.map(|d| d.to_string())),
        ("department_id", record.department_id.map(|d| d.to_string())),
        ("job_title", record.job_title.clone()),
        ("manager_id", record.manager_id.clone()),
        ("status", Some(record.status.clone())),
    ]
}

pub(in crate::store) fn audited_fields_of_new(
    new: &NewEmployee,
) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("employee_id", Some(new.employee_id.to_string())),
        ("first_name", Some(new.first_name.to_string())),
        ("last_name", Some(new.last_name.to_string())),
        ("email", Some(new.email.to_string())),
        ("hire_date", Some(new.hire_date.to_string())),
        ("phone", new.phone.as_deref().map(str::to_owned)),
        ("date_of_birth", new.date_of_birth.map(|d| d.to_string())),
        ("department_id", new.department_id.map(|d| d.to_string())),
        ("job_title", new.job_title.as_deref().map(str::to_owned)),
        (
            "manager_id",
            new.manager_id.as_ref().map(EmployeeId::to_string),
        ),
        ("status", Some(new.status.as_str().to_owned())),
    ]
}

/// Turns a failed write into what the user must change. Runs after the transaction
/// rolled back, so that the diagnostic queries may run (PostgreSQL refuses them inside
/// a failed transaction).
fn explain_write_error(
    conn: &mut DbConnection,
    new: &NewEmployee,
    error: StoreError,
) -> StoreError {
    let StoreError::Violation { rule, .. } = &error else {
        return error;
    };
    let explained = match rule {
        Rule::Unique => {
            let field = clashing_field(&error);
            match field {
                Field::Email => holder_of_email(conn, &new.email),
                _ => Ok(Some(new.employee_id.clone())),
            }
            .map(|holder| StoreError::Conflict { field, holder })
        }
        Rule::ForeignKey => missing_reference(conn, new).map(StoreError::MissingReference),
        Rule::Check => return error,
    };
    explained.unwrap_or_else(|diagnosis_error| diagnosis_error)
}

pub(in crate::store) fn insert(
    conn: &mut DbConnection,
    new: &NewEmployee,
    actor: &str,
) -> Result<(), StoreError> {
    let changes = diff(&[], &audited_fields_of_new(new));
    let written = match conn {
        DbConnection::Pg(pg) => insert_with_audit_in_one_statement(pg, new, actor, &changes),
        DbConnection::Sqlite(_) => conn.transaction(|conn| {
            let record_id = diesel::insert_into(employees::table)
                .values(NewEmployeeRow::from(new))
                .returning(employees::id)
                .get_result::<i64>(conn)?;
            let subject = Subject::employee(record_id, new.employee_id.as_str());
            audit::record(conn, actor, AuditAction::Create, subject, &changes)
        }),
    };
    written.map_err(|error| explain_write_error(conn, new, error))
}

/// The record and its audit entry in one statement: one round trip and one commit,
/// what a bare INSERT costs, where BEGIN, two INSERTs and COMMIT take four. Still
/// atomic: a statement is its own transaction. (SQLite has no data-modifying CTEs,
/// and its transaction is in-process anyway.)
fn insert_with_audit_in_one_statement(
    pg: &mut diesel::PgConnection,
    new: &NewEmployee,
    actor: &str,
    changes: &[FieldChange],
) -> Result<(), StoreError> {
    use diesel::sql_types::{BigInt, Date, Nullable, Text};
    diesel::sql_query(
        "WITH created AS (
             INSERT INTO employees (employee_id, first_name, last_name, email, hire_date, phone,
                                    date_of_birth, department_id, job_title, manager_id, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             RETURNING id, employee_id)
         INSERT INTO audit_events (actor, action, subject_kind, record_id, subject, changes)
         SELECT $12, 'create', 'employee', id, employee_id, $13 FROM created",
    )
    .bind::<Text, _>(new.employee_id.as_str())
    .bind::<Text, _>(new.first_name.as_str())
    .bind::<Text, _>(new.last_name.as_str())
    .bind::<Text, _>(new.email.as_str())
    .bind::<Date, _>(new.hire_date)
    .bind::<Nullable<Text>, _>(new.phone.as_deref())
    .bind::<Nullable<Date>, _>(new.date_of_birth)
    .bind::<Nullable<BigInt>, _>(new.department_id)
    .bind::<Nullable<Text>, _>(new.job_title.as_deref())
    .bind::<Nullable<Text>, _>(new.manager_id.as_ref().map(EmployeeId::as_str))
    .bind::<Text, _>(new.status.as_str())
    .bind::<Text, _>(actor)
    .bind::<Text, _>(audit::encode(changes))
    .execute(pg)?;
    Ok(())
}

fn now_utc() -> PrimitiveDateTime {
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
    new: &NewEmployee,
    actor: &str,
) -> Result<EmployeeRecord, StoreError> {
    let old = find(conn, current)?;
    if old.version != version {
        return Err(StoreError::StaleVersion);
    }
    let changes = diff(&audited_fields_of_record(&old), &audited_fields_of_new(new));
    if changes.is_empty() {
        return Ok(old);
    }
    conn.transaction(|conn| {
        let updated = diesel::update(
            employees::table
                .filter(employees::employee_id.eq(current.as_str()))
                .filter(employees::version.eq(version)),
        )
        .set((
            NewEmployeeRow::from(new),
            employees::version.eq(version + 1),
            employees::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(StoreError::StaleVersion);
        }
        let subject = Subject::employee(old.id, new.employee_id.as_str());
        audit::record(conn, actor, AuditAction::Update, subject, &changes)?;
        if old.employee_id != new.employee_id.as_str() {
            record_reports_renamed_manager(conn, actor, &old.employee_id, &new.employee_id)?;
        }
        Ok(())
    })
    .map_err(|error| explain_write_error(conn, new, error))?;
    Ok(old)
}

/// A manager's new ID reaches their reports through `ON UPDATE CASCADE` (and a new
/// version through the version trigger); this makes it part of their history too.
fn record_reports_renamed_manager(
    conn: &mut DbConnection,
    actor: &str,
    old_id: &str,
    new_id: &EmployeeId,
) -> Result<(), StoreError> {
    let reports: Vec<(i64, String)> = employees::table
        .filter(employees::manager_id.eq(new_id.as_str()))
        .select((employees::id, employees::employee_id))
        .load(conn)?;
    let change = [FieldChange {
        field: "manager_id".into(),
        old: Some(old_id.to_owned()),
        new: Some(new_id.to_string()),
    }];
    for (record_id, report) in &reports {
        let subject = Subject::employee(*record_id, report);
        audit::record(conn, actor, AuditAction::Update, subject, &change)?;
    }
    Ok(())
}

/// Removes the record at `version`; returns it as it was.
pub(in crate::store) fn delete(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
    version: i32,
    actor: &str,
) -> Result<EmployeeRecord, StoreError> {
    let old = find(conn, employee_id)?;
    if old.version != version {
        return Err(StoreError::StaleVersion);
    }
    let removed = conn.transaction(|conn| {
        let deleted = diesel::delete(
            employees::table
                .filter(employees::employee_id.eq(employee_id.as_str()))
                .filter(employees::version.eq(version)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(StoreError::StaleVersion);
        }
        let changes = diff(&audited_fields_of_record(&old), &[]);
        let subject = Subject::employee(old.id, employee_id.as_str());
        audit::record(conn, actor, AuditAction::Delete, subject, &changes)
    });
    match removed {
        Ok(()) => Ok(old),
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
    Ok(holder.and_then(|id| EmployeeId::parse(&id).ok()))
}

/// SQLite does not say which foreign key failed, so both backends ask; this runs only
/// on the failure path.
fn missing_reference(conn: &mut DbConnection, new: &NewEmployee) -> Result<Field, StoreError> {
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
