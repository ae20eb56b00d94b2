//! Bulk import: the checked rows go into a temporary table (PostgreSQL's `COPY`, or
//! batched inserts in SQLite's process), the database finds every clash with stored
//! records in three joins, and only a file without any is written, with one statement
//! for the records and one for their audit entries, in one transaction. The unique
//! indexes stay the last word: a record added meanwhile fails the write as a whole.
//!
//! On PostgreSQL a file expected to go in whole is first tried the short way: the
//! records and their audit entries are copied straight into their tables, in one
//! transaction, and the constraints judge. Only if they refuse does the check above run,
//! to name every clash.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Nullable, Text};
use std::sync::mpsc::Receiver;

use diesel::{PgConnection, SqliteConnection};
use time::Date;

use super::audit::{self, diff};
use super::connection::DbConnection;
use super::employees::audited_fields_of_new;
use super::schema::{audit_events, employees, import_rows};
use super::{Rule, StoreError};
use crate::domain::{EmployeeId, Field, NewEmployee};

/// Rows per SQLite insert: 13 columns each stay under its 32,766 bound parameters.
const SQLITE_BATCH: usize = 2_000;

const CREATE_POSTGRES: &str = "CREATE TEMP TABLE import_rows (
    line BIGINT NOT NULL, employee_id TEXT NOT NULL, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, email TEXT NOT NULL, hire_date DATE NOT NULL, phone TEXT,
    date_of_birth DATE, department_id BIGINT, job_title TEXT, manager_id TEXT,
    status TEXT NOT NULL, changes TEXT NOT NULL) ON COMMIT DROP";

/// SQLite has no ON COMMIT DROP (the table is dropped before the commit), and plans
/// its joins by index, so the rows' own lookups get one.
const CREATE_SQLITE: &str = "CREATE TEMP TABLE import_rows (
    line INTEGER NOT NULL, employee_id TEXT NOT NULL UNIQUE, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, email TEXT NOT NULL, hire_date TEXT NOT NULL, phone TEXT,
    date_of_birth TEXT, department_id INTEGER, job_title TEXT, manager_id TEXT,
    status TEXT NOT NULL, changes TEXT NOT NULL)";

/// Each row's clashes with stored records, and managers found neither in the store
/// nor among the rows.
const FIND_CLASHES: &str = "
    SELECT i.line AS line, 'employee_id' AS field, e.employee_id AS holder
      FROM import_rows i JOIN employees e ON e.employee_id = i.employee_id
    UNION ALL
    SELECT i.line, 'email', e.employee_id
      FROM import_rows i JOIN employees e ON lower(e.email) = i.email
    UNION ALL
    SELECT i.line, 'manager_id', i.manager_id
      FROM import_rows i
     WHERE i.manager_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM employees e WHERE e.employee_id = i.manager_id)
       AND NOT EXISTS (SELECT 1 FROM import_rows j WHERE j.employee_id = i.manager_id)
    ORDER BY line";

const INSERT_EMPLOYEES: &str = "
    INSERT INTO employees (employee_id, first_name, last_name, email, hire_date, phone,
                           date_of_birth, department_id, job_title, manager_id, status)
    SELECT employee_id, first_name, last_name, email, hire_date, phone,
           date_of_birth, department_id, job_title, manager_id, status
      FROM import_rows ORDER BY line";

const INSERT_AUDIT: &str = "
    INSERT INTO audit_events (actor, action, subject_kind, record_id, subject, changes)
    SELECT $1, 'create', 'employee', e.id, e.employee_id, i.changes
      FROM import_rows i JOIN employees e ON e.employee_id = i.employee_id
     ORDER BY i.line";

/// Both COPYs of the short way name these ids; taken from the sequence first, so that
/// each audit entry knows its record's id before either exists.
const TAKE_EMPLOYEE_IDS: &str =
    "SELECT nextval('employees_id_seq') AS id FROM generate_series(1, $1)";

#[derive(QueryableByName)]
struct TakenId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(Insertable)]
#[diesel(table_name = employees, treat_none_as_default_value = false)]
struct CopiedEmployee<'a> {
    id: i64,
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

#[derive(Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct CopiedAuditEvent<'a> {
    actor: &'a str,
    action: &'static str,
    subject_kind: &'static str,
    record_id: i64,
    subject: &'a str,
    changes: &'a str,
}

/// A valid row on its way to the store: its line, the record, and its audit entry,
/// encoded where the file is read, so that the store's connection only copies.
pub struct ImportRecord {
    line: u64,
    new: NewEmployee,
    changes: String,
}

impl ImportRecord {
    pub fn new(line: u64, new: NewEmployee) -> Self {
        let changes = audit::encode(&diff(&[], &audited_fields_of_new(&new)));
        Self { line, new, changes }
    }
}

/// What reading a file hands the store, in file order.
pub enum ImportBatch {
    /// Valid rows, with their line numbers.
    Rows(Vec<ImportRecord>),
    /// A row was refused, or the file became unreadable: nothing may be written.
    Refused,
    /// Every row was read, and none refused. Only this lets a write commit: a reader
    /// that stopped without saying so (it failed) leaves nothing behind.
    Complete,
}

enum ShortWay {
    Written,
    /// The reader refused a row.
    Refused,
    /// The constraints refused a row: the check names it.
    Clashed,
}

/// Why the short way stopped without writing.
enum Stop {
    Refused,
    Failed(StoreError),
}

impl From<DieselError> for Stop {
    fn from(error: DieselError) -> Self {
        Self::Failed(error.into())
    }
}

/// The short way, fed while the file is still being read: each batch is copied as it
/// arrives, and the transaction commits once the reader is done, if it refused nothing.
/// Every row received lands in `received`.
fn copy_postgres(
    pg: &mut PgConnection,
    batches: &Receiver<ImportBatch>,
    received: &mut Vec<ImportRecord>,
    actor: &str,
) -> Result<ShortWay, StoreError> {
    let copied = pg.transaction(|pg| {
        for batch in batches {
            match batch {
                ImportBatch::Rows(rows) => {
                    let start = received.len();
                    received.extend(rows);
                    copy_batch(pg, &received[start..], actor)?;
                }
                ImportBatch::Refused => return Err(Stop::Refused),
                ImportBatch::Complete => return Ok(()),
            }
        }
        Err(Stop::Refused)
    });
    match copied {
        Ok(()) => Ok(ShortWay::Written),
        Err(Stop::Refused) => Ok(ShortWay::Refused),
        Err(Stop::Failed(StoreError::Violation { .. })) => Ok(ShortWay::Clashed),
        Err(Stop::Failed(error)) => Err(error),
    }
}

fn copy_batch(pg: &mut PgConnection, rows: &[ImportRecord], actor: &str) -> Result<(), Stop> {
    let ids = diesel::sql_query(TAKE_EMPLOYEE_IDS)
        .bind::<BigInt, _>(rows.len() as i64)
        .load::<TakenId>(pg)?;
    let employees: Vec<CopiedEmployee> = rows
        .iter()
        .zip(&ids)
        .map(|(ImportRecord { new, .. }, id)| CopiedEmployee {
            id: id.id,
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
        })
        .collect();
    diesel::copy_from(employees::table)
        .from_insertable(&employees)
        .execute(pg)?;
    let events: Vec<CopiedAuditEvent> = rows
        .iter()
        .zip(&ids)
        .map(|(row, id)| CopiedAuditEvent {
            actor,
            action: "create",
            subject_kind: "employee",
            record_id: id.id,
            subject: row.new.employee_id.as_str(),
            changes: &row.changes,
        })
        .collect();
    diesel::copy_from(audit_events::table)
        .from_insertable(&events)
        .execute(pg)?;
    Ok(())
}

/// A row that cannot be stored as it is: its line, the field, and the record holding
/// the value (or, for a manager, the ID nobody has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportClash {
    pub line: u64,
    pub field: Field,
    pub value: String,
}

#[derive(QueryableByName)]
struct ClashRow {
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = Text)]
    field: String,
    #[diesel(sql_type = Nullable<Text>)]
    holder: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = import_rows, treat_none_as_default_value = false)]
struct StagedRow<'a> {
    line: i64,
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
    changes: &'a str,
}

impl<'a> StagedRow<'a> {
    fn of(ImportRecord { line, new, changes }: &'a ImportRecord) -> Self {
        Self {
            line: *line as i64,
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
            changes,
        }
    }
}

/// The same steps on either backend's own connection (each fills the table its way).
macro_rules! check_then_write {
    ($conn:expr, $actor:expr, $write:expr) => {{
        let clashes = diesel::sql_query(FIND_CLASHES).load::<ClashRow>($conn)?;
        if clashes.is_empty() && $write {
            diesel::sql_query(INSERT_EMPLOYEES).execute($conn)?;
            diesel::sql_query(INSERT_AUDIT)
                .bind::<Text, _>($actor)
                .execute($conn)?;
        }
        clashes
    }};
}

/// Finds every clash of the rows with stored records; writes them all, with their
/// audit entries, only when `write` is set, nothing was refused, and there is none.
pub(super) fn import(
    conn: &mut DbConnection,
    batches: Receiver<ImportBatch>,
    actor: &str,
    write: bool,
) -> Result<Vec<ImportClash>, StoreError> {
    let mut rows = Vec::new();
    let mut write = write;
    if let (DbConnection::Pg(pg), true) = (&mut *conn, write) {
        match copy_postgres(pg, &batches, &mut rows, actor)? {
            ShortWay::Written => return Ok(Vec::new()),
            ShortWay::Refused => write = false,
            ShortWay::Clashed => {}
        }
    }
    let mut complete = false;
    for batch in batches {
        match batch {
            ImportBatch::Rows(more) => rows.extend(more),
            ImportBatch::Refused => write = false,
            ImportBatch::Complete => complete = true,
        }
    }
    let write = write && complete;
    let table: Vec<StagedRow> = rows.iter().map(StagedRow::of).collect();
    let attempt = |conn: &mut DbConnection| match conn {
        DbConnection::Pg(pg) => pg.transaction(|pg| import_postgres(pg, &table, actor, write)),
        DbConnection::Sqlite(sqlite) => {
            // Immediate: it writes after reading, and a deferred transaction would fail
            // at that point if another connection wrote meanwhile.
            sqlite.immediate_transaction(|sqlite| import_sqlite(sqlite, &table, actor, write))
        }
    };
    let clashes = match attempt(conn) {
        // A record stored between the check and the write: the second check names it.
        Err(StoreError::Violation {
            rule: Rule::Unique, ..
        }) => attempt(conn)?,
        other => other?,
    };
    Ok(clashes.into_iter().map(ImportClash::from).collect())
}

fn import_postgres(
    pg: &mut PgConnection,
    table: &[StagedRow],
    actor: &str,
    write: bool,
) -> Result<Vec<ClashRow>, StoreError> {
    diesel::sql_query(CREATE_POSTGRES).execute(pg)?;
    diesel::copy_from(import_rows::table)
        .from_insertable(table)
        .execute(pg)?;
    // Without statistics the planner would take the table for empty.
    diesel::sql_query("ANALYZE import_rows").execute(pg)?;
    Ok(check_then_write!(pg, actor, write))
}

fn import_sqlite(
    sqlite: &mut SqliteConnection,
    table: &[StagedRow],
    actor: &str,
    write: bool,
) -> Result<Vec<ClashRow>, StoreError> {
    diesel::sql_query(CREATE_SQLITE).execute(sqlite)?;
    for batch in table.chunks(SQLITE_BATCH) {
        diesel::insert_into(import_rows::table)
            .values(batch)
            .execute(sqlite)?;
    }
    let clashes = check_then_write!(sqlite, actor, write);
    diesel::sql_query("DROP TABLE temp.import_rows").execute(sqlite)?;
    Ok(clashes)
}

impl From<ClashRow> for ImportClash {
    fn from(row: ClashRow) -> Self {
        let field = match row.field.as_str() {
            "employee_id" => Field::EmployeeId,
            "email" => Field::Email,
            _ => Field::ManagerId,
        };
        Self {
            line: row.line as u64,
            field,
            value: row.holder.unwrap_or_default(),
        }
    }
}
