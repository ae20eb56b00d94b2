//! Bulk import and export, as CSV, for the command line and the web pages alike.
//!
//! An import is all or nothing: every row is checked (its fields, repeats within the
//! file, clashes with stored records, managers that exist nowhere), and only a file
//! without a single rejected row is written, in one transaction. The report names
//! each row's fate, so a rejected file can be fixed and imported again.

use std::io::Write;

use std::sync::mpsc::SyncSender;

use crate::domain::import::{
    COLUMNS, CsvFileError, DepartmentNames, ImportRow, RowReader, guard_formula,
};
use std::collections::HashMap;

use crate::domain::{EmployeeForm, EmployeeId, Field, Likeness, WorkEmail};
use crate::registry::Registry;
use crate::store::{
    EmployeeRecord, ImportBatch, ImportClash, ImportFindings, ImportRecord, Store, StoreError,
};

/// Records read from the database per step of an export.
pub const EXPORT_PAGE: i64 = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{0}")]
    File(#[from] CsvFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("failed to write the CSV: {0}")]
    Output(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    Imported,
    /// Valid, but not written: a dry run, or other rows were rejected.
    Valid,
    /// Valid, but it looks like someone already on file (or on another line): held
    /// back until the person says the file holds other people.
    Held,
    Rejected,
}

impl RowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imported => "imported",
            Self::Valid => "valid",
            Self::Held => "possible duplicate",
            Self::Rejected => "rejected",
        }
    }
}

/// How an import is to go.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check every row, write nothing.
    pub dry_run: bool,
    /// Import rows that look like people already on file, or like each other.
    pub accept_likely: bool,
    /// Create the departments the file names that do not exist yet.
    pub create_departments: bool,
}

pub struct ImportReport {
    pub rows: Vec<ImportRow>,
    pub imported: usize,
    pub options: ImportOptions,
    /// The departments created (or, if nothing was written, to be created) for the
    /// file's rows, by name, in the order the file first names them.
    pub new_departments: Vec<String>,
}

impl ImportReport {
    pub fn rejected(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| !row.problems.is_empty())
            .count()
    }

    /// Rows held back as likely duplicates (none when they were accepted).
    pub fn held(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| self.outcome(row) == RowOutcome::Held)
            .count()
    }

    pub fn outcome(&self, row: &ImportRow) -> RowOutcome {
        if !row.problems.is_empty() {
            RowOutcome::Rejected
        } else if !row.warnings.is_empty() && !self.options.accept_likely {
            RowOutcome::Held
        } else if self.imported > 0 {
            RowOutcome::Imported
        } else {
            RowOutcome::Valid
        }
    }

    /// One sentence on the whole file.
    pub fn summary(&self) -> String {
        let (total, rejected) = (self.rows.len(), self.rejected());
        let held = self.held();
        if rejected == 0 && held > 0 {
            let run = if self.options.dry_run {
                " (dry run)"
            } else {
                ""
            };
            return format!(
                "{held} of {total} rows look like people already on file or on another line, \
                 so nothing was imported{run}. Check them; if they are other people, import \
                 the file again accepting likely duplicates."
            );
        }
        let departments = self.new_departments.join(", ");
        match (rejected, self.options.dry_run) {
            (0, true) if !departments.is_empty() => format!(
                "All {total} rows are valid; importing them would create the departments \
                 {departments}. Nothing was imported (dry run)."
            ),
            (0, true) => format!("All {total} rows are valid. Nothing was imported (dry run)."),
            (0, false) if !departments.is_empty() => format!(
                "Imported {} records, and created the departments {departments}.",
                self.imported
            ),
            (0, false) => format!("Imported {} records.", self.imported),
            (_, true) => {
                format!("{rejected} of {total} rows were rejected. Nothing was imported (dry run).")
            }
            (_, false) => format!(
                "{rejected} of {total} rows were rejected, so nothing was imported. \
                 Fix them and import the file again."
            ),
        }
    }

    /// The report as the command line prints it: a line per row, then the summary.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        for row in &self.rows {
            write!(
                out,
                "line {}\t{}\t{}",
                row.line,
                row.employee_id,
                self.outcome(row).as_str()
            )?;
            let notes: Vec<&str> = row
                .problems
                .iter()
                .chain(&row.warnings)
                .map(String::as_str)
                .collect();
            if !notes.is_empty() {
                write!(out, ": {}", notes.join("; "))?;
            }
            writeln!(out)?;
        }
        writeln!(out, "{}", self.summary())
    }
}

/// Rows handed to the store at a time: reading the next batch overlaps storing this one.
const BATCH_ROWS: usize = 5_000;

/// Reads, checks and (unless `dry_run`, and only if every row is valid) stores the
/// records of a CSV file, then tells the duplicate index about them.
///
/// On a task of its own: if the browser goes away, the handler is dropped, but an
/// import that commits must still tell the index.
pub async fn import(
    registry: &Registry,
    csv: impl AsRef<[u8]> + Send + 'static,
    actor: String,
    options: ImportOptions,
) -> Result<ImportReport, TransferError> {
    tokio::spawn(import_detached(registry.clone(), csv, actor, options))
        .await
        .map_err(|error| StoreError::Interrupted(error.into()))?
}

async fn import_detached(
    registry: Registry,
    csv: impl AsRef<[u8]> + Send + 'static,
    actor: String,
    options: ImportOptions,
) -> Result<ImportReport, TransferError> {
    let departments = registry.store.departments().await?;
    let names = DepartmentNames::new(
        departments
            .iter()
            .map(|d| (d.id, d.name.as_str(), d.is_archived())),
        options.create_departments,
    );
    let (batches, received) = std::sync::mpsc::sync_channel(2);
    let (read, file) = tokio::sync::oneshot::channel();
    // A thread of its own, not the blocking pool: the store's import waits for it on
    // that pool, and a full pool must not keep it from starting.
    std::thread::spawn(move || {
        let file_read = read_in_batches(csv.as_ref(), &names, &batches, options.accept_likely);
        let _ = read.send(file_read);
    });
    let stored = registry
        .store
        .import_employees(received, actor, (!options.dry_run, options.accept_likely))
        .await;
    let (mut rows, claims) = file
        .await
        .map_err(|error| StoreError::Interrupted(error.into()))??;
    let ImportFindings { clashes, likely } = stored?;
    for clash in clashes {
        if let Ok(at) = rows.binary_search_by_key(&clash.line, |row| row.line) {
            let (column, message) = explain(&clash);
            rows[at].reject(column, message);
        }
    }
    for twin in likely {
        if let Ok(at) = rows.binary_search_by_key(&twin.line, |row| row.line) {
            rows[at].warnings.push(format!(
                "looks like {} {} ({})",
                twin.holder,
                twin.name,
                twin.reason.describe()
            ));
        }
    }
    let written = !options.dry_run
        && rows.iter().all(|row| row.problems.is_empty())
        && (options.accept_likely || rows.iter().all(|row| row.warnings.is_empty()));
    let imported = if written {
        registry.index.learn(&claims).await;
        claims.len()
    } else {
        0
    };
    Ok(ImportReport {
        new_departments: departments_named_anew(&rows),
        rows,
        imported,
        options,
    })
}

/// Each department the rows name that is to be created, once, as the file first
/// spells it.
fn departments_named_anew(rows: &[ImportRow]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    rows.iter()
        .filter(|row| row.problems.is_empty())
        .filter_map(|row| row.new_department.as_ref())
        .filter(|name| seen.insert(name.key()))
        .map(ToString::to_string)
        .collect()
}

type ReadFile = (Vec<ImportRow>, Vec<(EmployeeId, WorkEmail)>);

/// Reads the file, sending its valid rows to the store a batch at a time, and a refusal
/// as soon as one row is refused. Returns every row, for the report, and the valid
/// rows' claims.
fn read_in_batches(
    csv: &[u8],
    departments: &DepartmentNames,
    batches: &SyncSender<ImportBatch>,
    accept_likely: bool,
) -> Result<ReadFile, CsvFileError> {
    // The store may have stopped listening (its database failed): reading goes on for
    // the report, and the store's error is what the caller sees.
    let send = |batch| {
        let _ = batches.send(batch);
    };
    let refuse = |error| {
        send(ImportBatch::Refused);
        error
    };
    let (mut rows, mut claims, mut batch) = (Vec::new(), Vec::new(), Vec::new());
    let mut refused = false;
    let mut earlier = EarlierRows::default();
    for row in RowReader::new(csv, departments).map_err(refuse)? {
        let mut row = row.map_err(refuse)?;
        match row.employee.take() {
            Some(employee) => {
                let likeness = Likeness::of(&employee);
                row.warnings.extend(earlier.like(row.line, &likeness));
                if !row.warnings.is_empty() && !accept_likely && !refused {
                    refused = true;
                    send(ImportBatch::Refused);
                }
                claims.push((employee.employee_id.clone(), employee.email.clone()));
                batch.push(ImportRecord::new(
                    row.line,
                    &employee,
                    row.new_department.clone(),
                ));
            }
            None if !refused => {
                refused = true;
                send(ImportBatch::Refused);
            }
            None => {}
        }
        if batch.len() == BATCH_ROWS {
            send(ImportBatch::Rows(std::mem::take(&mut batch)));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(refuse(CsvFileError::NoRows));
    }
    if !batch.is_empty() {
        send(ImportBatch::Rows(batch));
    }
    if !refused {
        send(ImportBatch::Complete);
    }
    Ok((rows, claims))
}

/// The first line of the file with each likeness key, to find rows that look like an
/// earlier one.
#[derive(Default)]
struct EarlierRows(HashMap<String, (u64, Likeness)>);

impl EarlierRows {
    /// What `likeness` (of the row at `line`) has in common with earlier rows.
    fn like(&mut self, line: u64, likeness: &Likeness) -> Option<String> {
        let mut found = None;
        for key in [&likeness.person, &likeness.phone].into_iter().flatten() {
            match self.0.get(key) {
                Some((earlier, theirs)) if found.is_none() => {
                    found = likeness
                        .reason(theirs)
                        .map(|reason| format!("looks like line {earlier} ({})", reason.describe()));
                }
                Some(_) => {}
                None => {
                    self.0.insert(key.clone(), (line, likeness.clone()));
                }
            }
        }
        found
    }
}

fn explain(clash: &ImportClash) -> (&'static str, String) {
    match clash.field {
        Field::EmployeeId => ("employee_id", "a stored record has this ID".to_owned()),
        Field::Email => ("email", format!("{} already has this e-mail", clash.value)),
        _ => (
            "manager_id",
            format!("no employee has the ID {}", clash.value),
        ),
    }
}

/// Writes every record as CSV, a page at a time, in the columns import reads.
pub struct Exporter {
    store: Store,
    departments: std::collections::HashMap<i64, String>,
    after: i64,
    header_written: bool,
}

impl Exporter {
    pub async fn new(store: Store) -> Result<Self, TransferError> {
        let departments = store
            .departments()
            .await?
            .into_iter()
            .map(|department| (department.id, department.name))
            .collect();
        Ok(Self {
            store,
            departments,
            after: 0,
            header_written: false,
        })
    }

    /// The next piece of the file, or `None` after the last.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, TransferError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        if !self.header_written {
            self.header_written = true;
            writer.write_record(COLUMNS).map_err(csv_error)?;
        } else {
            let records = self.store.employees_after(self.after, EXPORT_PAGE).await?;
            let Some(last) = records.last() else {
                return Ok(None);
            };
            self.after = last.id;
            for record in &records {
                writer
                    .write_record(
                        self.fields(record)
                            .map(|field| guard_formula(&field).into_owned()),
                    )
                    .map_err(csv_error)?;
            }
        }
        writer
            .into_inner()
            .map(Some)
            .map_err(|error| TransferError::Output(error.into_error()))
    }

    /// The record as the form shows it, but with its department's name: the file
    /// names departments, as import reads them.
    fn fields(&self, record: &EmployeeRecord) -> impl Iterator<Item = String> {
        EmployeeForm::from(&record.employee)
            .into_fields()
            .into_iter()
            .map(|(field, text)| match field {
                Field::DepartmentId => record
                    .department_id
                    .and_then(|id| self.departments.get(&id).cloned())
                    .unwrap_or_default(),
                _ => text,
            })
    }
}

fn csv_error(error: csv::Error) -> TransferError {
    TransferError::Output(error.into())
}
