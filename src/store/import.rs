//! Bulk import. Every valid row's claims (ID, e-mail, manager) go into a temporary
//! table (PostgreSQL's `COPY`, or batched inserts in SQLite's process), the database
//! finds every clash with stored records in three joins, and only a file without any
//! is written, in one transaction: a batch of records as every write stores them
//! (`EmployeeRow`), then their audit entries with the ids the records were given. The
//! unique indexes stay the last word: a record added meanwhile fails the write as a
//! whole.
//!
//! On PostgreSQL a file expected to go in whole is first tried the short way: the
//! records are copied straight into their table as the file is read, in one
//! transaction, and the constraints judge. Only if they refuse does the check above
//! run, to name every clash.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Nullable, Text};
use std::collections::HashMap;
use std::sync::mpsc::Receiver;

use diesel::{PgConnection, SqliteConnection};

use super::audit::{self, NewAuditEvent, Subject, diff};
use super::connection::DbConnection;
use super::departments as departments_store;
use super::employees::{EmployeeRow, audited_fields};
use super::people;
use super::schema::{audit_events, departments, employees, import_rows};
use super::{Rule, StoreError};
use crate::domain::{DepartmentName, Employee, EmployeeId, Field, Likeness, MatchReason};

/// Rows per write: in SQLite, 11 columns each stay under its 32,766 bound parameters.
const WRITE_BATCH: usize = 2_000;

const CREATE_POSTGRES: &str = "CREATE TEMP TABLE import_rows (
    line BIGINT NOT NULL, employee_id TEXT NOT NULL, email TEXT NOT NULL, manager_id TEXT)
    ON COMMIT DROP";

/// SQLite has no ON COMMIT DROP (the table is dropped before the commit), and plans
/// its joins by index, so the rows' own lookups get one.
const CREATE_SQLITE: &str = "CREATE TEMP TABLE import_rows (
    line INTEGER NOT NULL, employee_id TEXT NOT NULL UNIQUE, email TEXT NOT NULL,
    manager_id TEXT)";

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
       AND NOT EXISTS (SELECT 1 FROM employees e
                        WHERE e.employee_id = i.manager_id AND e.merged_into IS NULL)
       AND NOT EXISTS (SELECT 1 FROM import_rows j WHERE j.employee_id = i.manager_id)
    ORDER BY line";

/// A valid row on its way to the store: its line, the record, and its audit entry,
/// encoded where the file is read, so that the store's connection only copies.
pub struct ImportRecord {
    line: u64,
    row: EmployeeRow,
    changes: String,
    /// A department to create for this record, and the record, to encode its audit
    /// entry again once the department has an id.
    new_department: Option<(DepartmentName, Box<Employee>)>,
}

impl ImportRecord {
    pub fn new(line: u64, employee: &Employee, new_department: Option<DepartmentName>) -> Self {
        Self {
            line,
            row: EmployeeRow::from(employee),
            changes: creation_changes(employee),
            new_department: new_department.map(|name| (name, Box::new(employee.clone()))),
        }
    }

    /// Puts the record in the department created for it. Idempotent: a retried write
    /// places it again, in the department as that attempt created it.
    fn place_in(&mut self, department: i64) {
        if let Some((_, employee)) = &mut self.new_department {
            employee.department_id = Some(department);
            self.row.department_id = Some(department);
            self.changes = creation_changes(employee);
        }
    }

    fn has_likeness_keys(&self) -> bool {
        let keyed = |key: &Option<String>| key.as_deref().is_some_and(|key| !key.is_empty());
        keyed(&self.row.person_key) || keyed(&self.row.phone_key)
    }
}

fn creation_changes(employee: &Employee) -> String {
    audit::encode(&diff(&[], &audited_fields(employee)))
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
    /// Rows arrived that only the check path handles: ones with likeness keys, to
    /// compare with the store, or ones naming a department to create.
    NeedsCheck,
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
    (actor, accept_likely): (&str, bool),
) -> Result<ShortWay, StoreError> {
    let copied = pg.transaction(|pg| {
        for batch in batches {
            match batch {
                ImportBatch::Rows(rows) => {
                    let start = received.len();
                    received.extend(rows);
                    let fresh = &received[start..];
                    let needs_check = |record: &ImportRecord| {
                        record.new_department.is_some()
                            || (!accept_likely && record.has_likeness_keys())
                    };
                    if fresh.iter().any(needs_check) {
                        return Err(Stop::NeedsCheck);
                    }
                    copy_records(pg, fresh, actor)?;
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
        Err(Stop::NeedsCheck | Stop::Failed(StoreError::Violation { .. })) => Ok(ShortWay::Clashed),
        Err(Stop::Failed(error)) => Err(error),
    }
}

/// The ids of the records written since `$floor` was taken, by employee ID: their
/// audit entries name them. A range of the primary key, not a lookup of each ID (which
/// PostgreSQL answers with a scan of the whole table). Records another connection wrote
/// meanwhile come too, and are left out by their IDs. A macro, as each backend runs it
/// on its own connection type.
macro_rules! ids_after {
    ($conn:expr, $floor:expr) => {
        employees::table
            .filter(employees::id.gt($floor))
            .select((employees::employee_id, employees::id))
            .load::<(String, i64)>($conn)?
            .into_iter()
            .collect::<HashMap<String, i64>>()
    };
}

fn audit_events<'a>(
    batch: &'a [ImportRecord],
    ids: &HashMap<String, i64>,
    actor: &'a str,
) -> Vec<NewAuditEvent<'a>> {
    batch
        .iter()
        .filter_map(|record| {
            let id = *ids.get(&record.row.employee_id)?;
            Some(NewAuditEvent::created(
                actor,
                Subject::employee(id, &record.row.employee_id),
                &record.changes,
            ))
        })
        .collect()
}

fn copy_records(
    pg: &mut PgConnection,
    rows: &[ImportRecord],
    actor: &str,
) -> Result<(), DieselError> {
    for batch in rows.chunks(WRITE_BATCH) {
        // Every record copied next takes a later value of the sequence than this.
        let floor = diesel::sql_query("SELECT nextval('employees_id_seq') AS id")
            .get_result::<TakenId>(pg)?
            .id;
        diesel::copy_from(employees::table)
            .from_insertable(batch.iter().map(|record| &record.row).collect::<Vec<_>>())
            .execute(pg)?;
        let ids = ids_after!(pg, floor);
        diesel::copy_from(audit_events::table)
            .from_insertable(audit_events(batch, &ids, actor))
            .execute(pg)?;
    }
    Ok(())
}

fn stage_postgres(pg: &mut PgConnection, rows: &[ImportRecord]) -> Result<(), DieselError> {
    diesel::copy_from(import_rows::table)
        .from_insertable(rows.iter().map(StagedRow::of).collect::<Vec<_>>())
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
struct TakenId {
    #[diesel(sql_type = BigInt)]
    id: i64,
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

/// A row's claims, staged for the check.
#[derive(Insertable)]
#[diesel(table_name = import_rows, treat_none_as_default_value = false)]
struct StagedRow<'a> {
    line: i64,
    employee_id: &'a str,
    email: &'a str,
    manager_id: Option<&'a str>,
}

impl<'a> StagedRow<'a> {
    fn of(ImportRecord { line, row, .. }: &'a ImportRecord) -> Self {
        Self {
            line: *line as i64,
            employee_id: &row.employee_id,
            email: &row.email,
            manager_id: row.manager_id.as_deref(),
        }
    }
}

/// The same steps on either backend's own connection (each fills the table its way):
/// find the clashes, and only if there are none (and the job may write) create the
/// departments the rows need, then write the rows.
macro_rules! check_then_write {
    ($conn:expr, $job:expr, $write_records:expr) => {{
        let clashes = diesel::sql_query(FIND_CLASHES).load::<ClashRow>($conn)?;
        if clashes.is_empty() && $job.write {
            let mut created: HashMap<String, i64> = HashMap::new();
            for record in $job.rows.iter_mut() {
                let Some((name, _)) = &record.new_department else {
                    continue;
                };
                let key = name.key();
                let id = match created.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = department_for_import!($conn, name, &key, $job.actor);
                        created.insert(key, id);
                        id
                    }
                };
                record.place_in(id);
            }
            $write_records?;
        }
        clashes
    }};
}

/// The id of the department named `$name` (key `$key`), created with its audit entry
/// unless another admin added it meanwhile.
macro_rules! department_for_import {
    ($conn:expr, $name:expr, $key:expr, $actor:expr) => {{
        let inserted: Option<i64> = diesel::insert_into(departments::table)
            .values((
                departments::name.eq($name.as_str()),
                departments::name_key.eq($key),
            ))
            .on_conflict(departments::name_key)
            .do_nothing()
            .returning(departments::id)
            .get_result($conn)
            .optional()?;
        match inserted {
            Some(id) => {
                let changes = audit::encode(&departments_store::created_changes($name));
                diesel::insert_into(audit_events::table)
                    .values(NewAuditEvent::created(
                        $actor,
                        Subject::department(id, $name.as_str()),
                        &changes,
                    ))
                    .execute($conn)?;
                id
            }
            None => departments::table
                .filter(departments::name_key.eq($key))
                .select(departments::id)
                .first::<i64>($conn)?,
        }
    }};
}

/// Finds every clash of the rows with stored records, and (unless `accept_likely`)
/// every stored record a row looks like; writes them all, with their audit entries,
/// only when `write` is set, nothing was refused, and there is neither.
pub(super) fn import(
    conn: &mut DbConnection,
    batches: Receiver<ImportBatch>,
    actor: &str,
    (write, accept_likely): (bool, bool),
) -> Result<ImportFindings, StoreError> {
    let mut rows = Vec::new();
    let mut write = write;
    if let (DbConnection::Pg(pg), true) = (&mut *conn, write) {
        match copy_postgres(pg, &batches, &mut rows, (actor, accept_likely))? {
            ShortWay::Written => return Ok(ImportFindings::default()),
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
    let likely = if accept_likely {
        Vec::new()
    } else {
        stored_twins_of(conn, &rows)?
    };
    let mut job = Job {
        rows: &mut rows,
        actor,
        write: write && complete && likely.is_empty(),
    };
    let mut attempt = |conn: &mut DbConnection| match conn {
        DbConnection::Pg(pg) => pg.transaction(|pg| import_postgres(pg, &mut job)),
        DbConnection::Sqlite(sqlite) => {
            // Immediate: it writes after reading, and a deferred transaction would fail
            // at that point if another connection wrote meanwhile.
            sqlite.immediate_transaction(|sqlite| import_sqlite(sqlite, &mut job))
        }
    };
    let clashes = match attempt(conn) {
        // A record stored between the check and the write: the second check names it.
        Err(StoreError::Violation {
            rule: Rule::Unique, ..
        }) => attempt(conn)?,
        other => other?,
    };
    Ok(ImportFindings {
        clashes: clashes.into_iter().map(ImportClash::from).collect(),
        likely,
    })
}

/// What the store found wrong with an import's rows.
#[derive(Debug, Default)]
pub struct ImportFindings {
    pub clashes: Vec<ImportClash>,
    /// Rows that look like stored records (see `people`).
    pub likely: Vec<ImportLikely>,
}

/// A file's row that looks like a stored record.
#[derive(Debug, Clone)]
pub struct ImportLikely {
    pub line: u64,
    pub holder: EmployeeId,
    pub name: String,
    pub reason: MatchReason,
}

/// Keys looked up per query.
const LIKELY_CHUNK: usize = 1_000;

/// The stored records each row looks like, through the key indexes.
fn stored_twins_of(
    conn: &mut DbConnection,
    rows: &[ImportRecord],
) -> Result<Vec<ImportLikely>, StoreError> {
    let mut lines_by_key: HashMap<&str, Vec<(u64, Likeness)>> = HashMap::new();
    for record in rows.iter().filter(|record| record.has_likeness_keys()) {
        let likeness = record.row.likeness();
        for key in [&record.row.person_key, &record.row.phone_key]
            .into_iter()
            .flatten()
            .filter(|key| !key.is_empty())
        {
            lines_by_key
                .entry(key.as_str())
                .or_default()
                .push((record.line, likeness.clone()));
        }
    }
    let keys: Vec<&str> = lines_by_key.keys().copied().collect();
    let mut found = Vec::new();
    for chunk in keys.chunks(LIKELY_CHUNK) {
        for twin in people::twins_by_keys(conn, chunk)? {
            for key in [&twin.likeness.person, &twin.likeness.phone]
                .into_iter()
                .flatten()
            {
                for (line, likeness) in lines_by_key.get(key.as_str()).into_iter().flatten() {
                    if let Some(reason) = likeness.reason(&twin.likeness) {
                        found.push(ImportLikely {
                            line: *line,
                            holder: twin.employee_id.clone(),
                            name: twin.name.clone(),
                            reason,
                        });
                    }
                }
            }
        }
    }
    found.sort_by(|a, b| (a.line, &a.holder).cmp(&(b.line, &b.holder)));
    found.dedup_by(|a, b| a.line == b.line && a.holder == b.holder);
    Ok(found)
}

/// The rows a check path looks at, and whether it may write them.
struct Job<'a> {
    rows: &'a mut [ImportRecord],
    actor: &'a str,
    write: bool,
}

fn import_postgres(pg: &mut PgConnection, job: &mut Job) -> Result<Vec<ClashRow>, StoreError> {
    diesel::sql_query(CREATE_POSTGRES).execute(pg)?;
    stage_postgres(pg, job.rows)?;
    // Without statistics the planner would take the table for empty.
    diesel::sql_query("ANALYZE import_rows").execute(pg)?;
    Ok(check_then_write!(
        pg,
        job,
        copy_records(pg, job.rows, job.actor)
    ))
}

fn import_sqlite(
    sqlite: &mut SqliteConnection,
    job: &mut Job,
) -> Result<Vec<ClashRow>, StoreError> {
    diesel::sql_query(CREATE_SQLITE).execute(sqlite)?;
    for batch in job.rows.chunks(WRITE_BATCH) {
        let staged: Vec<StagedRow> = batch.iter().map(StagedRow::of).collect();
        diesel::insert_into(import_rows::table)
            .values(&staged)
            .execute(sqlite)?;
    }
    let clashes = check_then_write!(sqlite, job, insert_records(sqlite, job.rows, job.actor));
    diesel::sql_query("DROP TABLE temp.import_rows").execute(sqlite)?;
    Ok(clashes)
}

fn insert_records(
    sqlite: &mut SqliteConnection,
    rows: &[ImportRecord],
    actor: &str,
) -> Result<(), DieselError> {
    for batch in rows.chunks(WRITE_BATCH) {
        // The transaction is immediate: no other writer adds records meanwhile.
        let floor: Option<i64> = employees::table
            .select(diesel::dsl::max(employees::id))
            .first(sqlite)?;
        let records: Vec<&EmployeeRow> = batch.iter().map(|record| &record.row).collect();
        diesel::insert_into(employees::table)
            .values(records)
            .execute(sqlite)?;
        let ids = ids_after!(sqlite, floor.unwrap_or_default());
        diesel::insert_into(audit_events::table)
            .values(audit_events(batch, &ids, actor))
            .execute(sqlite)?;
    }
    Ok(())
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
