//! The CSV file shape that import reads and export writes, and every check of an
//! imported row that needs no database: each row becomes a [`Employee`] by the same
//! rules as the form, or a list of problems, each naming its column.

use std::collections::HashMap;

use super::{DepartmentName, Employee, EmployeeForm, EmployeeId, Field, WorkEmail};

/// The columns, in the order export writes them: the form's fields, but a department
/// by its name. Import takes them in any order.
pub const COLUMNS: [&str; Field::ALL.len()] = {
    let mut columns = [""; Field::ALL.len()];
    let mut at = 0;
    while at < columns.len() {
        columns[at] = column_of(Field::ALL[at]);
        at += 1;
    }
    columns
};
const REQUIRED_COLUMNS: [&str; 5] = [
    "employee_id",
    "first_name",
    "last_name",
    "email",
    "hire_date",
];
/// Where each column sits in a file, in the order of `COLUMNS`.
type Positions = [Option<usize>; Field::ALL.len()];

/// A bound on the work and memory one upload may ask for.
pub const MAX_ROWS: usize = 200_000;

/// Spreadsheets run a cell starting with one of these as a formula. Export puts an
/// apostrophe before such a value (OWASP's advice) and import takes it off again, so a
/// phone number like `+44 20 7946 0000` makes the round trip unchanged. A value that
/// itself starts with an apostrophe gets one more, or import would take its own off.
/// (The last of these is that apostrophe; the others start formulas.)
const GUARDED_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

pub fn guard_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(GUARDED_STARTS) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

fn unguard_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(GUARDED_STARTS) => rest,
        _ => value,
    }
}

/// Why a whole file was refused before any of its rows was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvFileError {
    #[error("the file is not readable as CSV ({0})")]
    Unreadable(String),
    #[error("the file is empty: its first line must name the columns ({})", COLUMNS.join(","))]
    NoHeader,
    #[error("the header has an unknown column {0:?}; the columns are {cols}", cols = COLUMNS.join(", "))]
    UnknownColumn(String),
    #[error("the header names the column {0:?} twice")]
    RepeatedColumn(String),
    #[error("the header lacks the required column(s) {0}")]
    MissingColumns(String),
    #[error("the file has no rows below its header")]
    NoRows,
    #[error("the file has more than {MAX_ROWS} rows; split it into smaller files")]
    TooManyRows,
}

/// One row of the file: the employee it describes, or what is wrong with it.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The file's line number, as an editor or spreadsheet counts it.
    pub line: u64,
    /// The ID as written, so that the report can name a row whose ID is invalid.
    pub employee_id: String,
    pub problems: Vec<String>,
    /// Likely duplicates: another row or a stored record looks like the same person.
    pub warnings: Vec<String>,
    pub employee: Option<Employee>,
    /// The department the row names when none has that name yet and the import was
    /// asked to create missing ones: the employee has no department id until then.
    pub new_department: Option<DepartmentName>,
}

impl ImportRow {
    pub fn reject(&mut self, column: &str, message: impl std::fmt::Display) {
        self.problems.push(format!("{column}: {message}"));
        self.employee = None;
    }
}

/// Department names, ignoring case and spaces as their unique index does, to their ids
/// and whether they are archived; and whether a name none has is to be created.
pub struct DepartmentNames {
    known: HashMap<String, (i64, bool)>,
    create_missing: bool,
}

impl DepartmentNames {
    /// From each department's id, name and whether it is archived.
    pub fn new<'a>(
        departments: impl IntoIterator<Item = (i64, &'a str, bool)>,
        create_missing: bool,
    ) -> Self {
        let known = departments
            .into_iter()
            .map(|(id, name, archived)| (super::department_key(name), (id, archived)))
            .collect();
        Self {
            known,
            create_missing,
        }
    }
}

/// What a row's department column names.
enum NamedDepartment {
    None,
    Known(i64),
    New(DepartmentName),
}

/// The rows of a file one at a time, each checked as it is read, so that storing the
/// first rows can start while later ones are still being read.
pub struct RowReader<'a> {
    input: &'a [u8],
    records: csv::ByteRecordsIntoIter<&'a [u8]>,
    columns: Positions,
    width: usize,
    departments: &'a DepartmentNames,
    lines: LineCounter,
    read: usize,
    first_with_id: HashMap<EmployeeId, u64>,
    first_with_email: HashMap<WorkEmail, u64>,
}

impl<'a> RowReader<'a> {
    /// Reads the header; a file whose header is not usable is refused whole.
    pub fn new(input: &'a [u8], departments: &'a DepartmentNames) -> Result<Self, CsvFileError> {
        let mut records = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(input)
            .into_byte_records();
        let header = records
            .next()
            .ok_or(CsvFileError::NoHeader)?
            .map_err(unreadable)?;
        Ok(Self {
            input,
            records,
            columns: column_positions(&header)?,
            width: header.len(),
            departments,
            lines: LineCounter::default(),
            read: 0,
            first_with_id: HashMap::new(),
            first_with_email: HashMap::new(),
        })
    }

    fn refuse_repeats(&mut self, row: &mut ImportRow) {
        let Some(employee) = &row.employee else {
            return;
        };
        let first_with_id = *self
            .first_with_id
            .entry(employee.employee_id.clone())
            .or_insert(row.line);
        let first_with_email = *self
            .first_with_email
            .entry(employee.email.clone())
            .or_insert(row.line);
        if first_with_id != row.line {
            row.reject(
                "employee_id",
                format!("line {first_with_id} has the same employee ID"),
            );
        }
        if first_with_email != row.line {
            row.reject(
                "email",
                format!("line {first_with_email} has the same e-mail"),
            );
        }
    }
}

impl Iterator for RowReader<'_> {
    type Item = Result<ImportRow, CsvFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = loop {
            match self.records.next()? {
                Err(error) => return Some(Err(unreadable(error))),
                Ok(record) if is_blank(&record) => continue,
                Ok(record) => break record,
            }
        };
        if self.read == MAX_ROWS {
            return Some(Err(CsvFileError::TooManyRows));
        }
        self.read += 1;
        // The reader's own line count passes over blank lines; the byte offset does not.
        let offset = record.position().map_or(0, |position| position.byte());
        let line = self.lines.line_at(self.input, offset as usize);
        let mut row = read_row(line, &record, &self.columns, self.width, self.departments);
        self.refuse_repeats(&mut row);
        Some(Ok(row))
    }
}

fn is_blank(record: &csv::ByteRecord) -> bool {
    record
        .iter()
        .all(|field| field.iter().all(u8::is_ascii_whitespace))
}

/// Line numbers of byte offsets, for offsets met in increasing order.
#[derive(Default)]
struct LineCounter {
    counted_to: usize,
    newlines: u64,
}

impl LineCounter {
    /// The line where the record at `offset` starts: a record's position lies before the
    /// blank lines the reader skipped to reach it.
    fn line_at(&mut self, input: &[u8], offset: usize) -> u64 {
        let offset = offset.min(input.len());
        let offset = input[offset..]
            .iter()
            .position(|byte| !matches!(byte, b'\r' | b'\n'))
            .map_or(input.len(), |skipped| offset + skipped);
        if offset > self.counted_to {
            // A line ends in "\n", "\r\n", or a lone "\r" (old Excel for Mac).
            let seen = &input[self.counted_to..offset];
            let line_ends = seen.iter().enumerate().filter(|&(at, &byte)| {
                byte == b'\n'
                    || (byte == b'\r' && input.get(self.counted_to + at + 1) != Some(&b'\n'))
            });
            self.newlines += line_ends.count() as u64;
            self.counted_to = offset;
        }
        self.newlines + 1
    }
}

fn unreadable(error: csv::Error) -> CsvFileError {
    CsvFileError::Unreadable(error.to_string())
}

/// Where each known column sits in the file.
fn column_positions(header: &csv::ByteRecord) -> Result<Positions, CsvFileError> {
    let mut positions = [None; Field::ALL.len()];
    for (position, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw);
        // Excel starts its UTF-8 files with a byte-order mark.
        let name = name.trim_start_matches('\u{feff}').trim().to_lowercase();
        let known = COLUMNS
            .iter()
            .position(|column| *column == name)
            .ok_or_else(|| CsvFileError::UnknownColumn(name.clone()))?;
        if positions[known].replace(position).is_some() {
            return Err(CsvFileError::RepeatedColumn(name));
        }
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .into_iter()
        .filter(|required| {
            let known = COLUMNS.iter().position(|column| column == required);
            known.is_some_and(|known| positions[known].is_none())
        })
        .collect();
    if !missing.is_empty() {
        return Err(CsvFileError::MissingColumns(missing.join(", ")));
    }
    Ok(positions)
}

fn read_row(
    line: u64,
    record: &csv::ByteRecord,
    columns: &Positions,
    width: usize,
    departments: &DepartmentNames,
) -> ImportRow {
    let mut problems = Vec::new();
    let mut form = EmployeeForm::default();
    let values = row_values(record, columns, width, &mut problems);
    for (field, value) in Field::ALL.into_iter().zip(values) {
        *form.field_mut(field) = value;
    }
    let named = department_named(&form.department_id, departments, &mut problems);
    form.department_id = match &named {
        NamedDepartment::Known(id) => id.to_string(),
        NamedDepartment::None | NamedDepartment::New(_) => String::new(),
    };
    // Spreadsheet users write "On leave" as readily as "on_leave".
    form.status = form.status.trim().to_lowercase().replace(' ', "_");
    let employee = match Employee::try_from(&form) {
        Ok(employee) => Some(employee),
        Err(errors) => {
            problems.extend(
                errors
                    .iter()
                    .map(|(field, message)| format!("{}: {message}", column_of(field))),
            );
            None
        }
    };
    ImportRow {
        line,
        employee_id: form.employee_id.trim().to_owned(),
        employee: employee.filter(|_| problems.is_empty()),
        problems,
        warnings: Vec::new(),
        new_department: match named {
            NamedDepartment::New(name) => Some(name),
            NamedDepartment::None | NamedDepartment::Known(_) => None,
        },
    }
}

/// The row's text in the order of `COLUMNS`, empty where the file lacks a column.
fn row_values(
    record: &csv::ByteRecord,
    columns: &Positions,
    width: usize,
    problems: &mut Vec<String>,
) -> [String; Field::ALL.len()] {
    let mut values: [String; Field::ALL.len()] = Default::default();
    for (value, position) in values.iter_mut().zip(columns) {
        let Some(raw) = position.and_then(|position| record.get(position)) else {
            continue;
        };
        match std::str::from_utf8(raw) {
            Ok(text) => *value = unguard_formula(text).to_owned(),
            Err(_) => problems.push("the row is not valid UTF-8 text".to_owned()),
        }
    }
    if record.len() != width {
        problems.push(format!(
            "the row has {} fields where the header has {width}",
            record.len()
        ));
    }
    values
}

/// Files name departments; records hold their number. An archived department takes
/// no new members, here as on the form.
fn department_named(
    name: &str,
    departments: &DepartmentNames,
    problems: &mut Vec<String>,
) -> NamedDepartment {
    let name = name.trim();
    if name.is_empty() {
        return NamedDepartment::None;
    }
    match departments.known.get(&super::department_key(name)) {
        Some((id, false)) => NamedDepartment::Known(*id),
        Some((_, true)) => {
            problems.push(format!(
                "department: the department {name:?} is archived and takes no new members"
            ));
            NamedDepartment::None
        }
        None if departments.create_missing => match DepartmentName::parse(name) {
            Ok(name) => NamedDepartment::New(name),
            Err(message) => {
                problems.push(format!("department: {message}"));
                NamedDepartment::None
            }
        },
        None => {
            problems.push(format!(
                "department: there is no department named {name:?}; an admin can add it, \
                 or import the file creating missing departments"
            ));
            NamedDepartment::None
        }
    }
}

const fn column_of(field: Field) -> &'static str {
    match field {
        Field::DepartmentId => "department",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn departments() -> DepartmentNames {
        DepartmentNames::new([(7, "Finance", false), (8, "Old Works", true)], false)
    }

    fn read(text: &str) -> Result<Vec<ImportRow>, CsvFileError> {
        RowReader::new(text.as_bytes(), &departments())?.collect()
    }

    #[test]
    fn a_valid_file_becomes_normalized_employees_with_their_line_numbers() {
        let rows = read(
            "\u{feff}Email,employee_id,first_name,last_name,hire_date,department,status\n\
             Ann@Example.com, e-1 ,Ann,Lee,2024-03-01,finance,On leave\n\
             \n\
             bo@example.com,E-2,Bo,\"Ng, Jr\",2024-03-02,,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        let ann = rows[0].employee.as_ref().unwrap();
        assert_eq!(
            (rows[0].line, ann.employee_id.as_str()),
            (2, "E-1"),
            "{:?}",
            rows[0].problems
        );
        assert_eq!(ann.department_id, Some(7));
        assert_eq!(ann.status.as_str(), "on_leave");
        assert_eq!(rows[1].line, 4);
        assert_eq!(
            rows[1].employee.as_ref().unwrap().last_name.as_str(),
            "Ng, Jr"
        );
    }

    #[test]
    fn each_problem_names_its_column_and_the_row_keeps_its_id() {
        let rows = read(
            "employee_id,first_name,last_name,email,hire_date,department\n\
             E-1,,Lee,nope,2024-03-01,Sales\n",
        )
        .unwrap();
        let row = &rows[0];
        assert!(row.employee.is_none());
        assert_eq!(row.employee_id, "E-1");
        let columns: Vec<&str> = row
            .problems
            .iter()
            .map(|problem| problem.split(':').next().unwrap())
            .collect();
        assert_eq!(
            columns,
            ["department", "first_name", "email"],
            "{:?}",
            row.problems
        );
    }

    #[test]
    fn a_missing_department_is_refused_unless_asked_for_and_an_archived_one_always() {
        let file = "employee_id,first_name,last_name,email,hire_date,department\n\
                    E-1,Ann,Lee,ann@example.com,2024-03-01, field  ops \n\
                    E-2,Bo,Ng,bo@example.com,2024-03-01,old works\n";
        let refused = read(file).unwrap();
        assert!(refused[0].problems[0].contains("no department named \"field  ops\""));
        let creating = DepartmentNames::new([(8, "Old Works", true)], true);
        let rows: Vec<ImportRow> = RowReader::new(file.as_bytes(), &creating)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let new = rows[0].new_department.as_ref().map(DepartmentName::as_str);
        assert_eq!(new, Some("field ops"), "{:?}", rows[0].problems);
        assert_eq!(rows[0].employee.as_ref().unwrap().department_id, None);
        assert!(rows[1].problems[0].contains("is archived"), "{:?}", rows[1]);
        assert!(rows[1].new_department.is_none());
    }

    #[test]
    fn a_repeated_id_or_email_is_refused_on_the_later_line() {
        let rows = read(
            "employee_id,first_name,last_name,email,hire_date\n\
             E-1,Ann,Lee,ann@example.com,2024-03-01\n\
             e-1,Bo,Ng,bo@example.com,2024-03-01\n\
             E-3,Cy,Li,ANN@example.com,2024-03-01\n",
        )
        .unwrap();
        assert!(rows[0].employee.is_some());
        assert_eq!(
            rows[1].problems,
            ["employee_id: line 2 has the same employee ID"]
        );
        assert_eq!(rows[2].problems, ["email: line 2 has the same e-mail"]);
    }

    #[test]
    fn a_bad_header_refuses_the_whole_file() {
        assert_eq!(read("").unwrap_err(), CsvFileError::NoHeader);
        assert!(matches!(
            read("employee_id,first_name,last_name,email,hire_date,salary\n").unwrap_err(),
            CsvFileError::UnknownColumn(column) if column == "salary"
        ));
        assert!(matches!(
            read("employee_id,first_name\nE-1,Ann\n").unwrap_err(),
            CsvFileError::MissingColumns(columns) if columns == "last_name, email, hire_date"
        ));
    }

    #[test]
    fn line_numbers_follow_every_kind_of_line_end() {
        for end in ["\n", "\r\n", "\r"] {
            let text = [
                "employee_id,first_name,last_name,email,hire_date",
                "E-1,Ann,Lee,a@x.io,2024-03-01",
                "",
                "E-2,Bo,Ng,b@x.io,2024-03-01",
                "E-3,Cy,Li,c@x.io,2024-03-01",
            ]
            .join(end);
            let lines: Vec<u64> = read(&text).unwrap().iter().map(|row| row.line).collect();
            assert_eq!(lines, [2, 4, 5], "line end {end:?}");
        }
    }

    #[test]
    fn a_short_row_is_refused_not_guessed() {
        let rows = read("employee_id,first_name,last_name,email,hire_date\nE-1,Ann\n").unwrap();
        assert!(rows[0].problems[0].contains("has 2 fields where the header has 5"));
    }

    #[test]
    fn formula_guards_make_the_round_trip() {
        for value in [
            "+44 20 7946 0000",
            "=SUM(A1)",
            "plain",
            "'quoted",
            "'=SUM(A1)",
            "'+1",
            "''",
        ] {
            assert_eq!(unguard_formula(&guard_formula(value)), value);
        }
        assert_eq!(guard_formula("=1+1"), "'=1+1");
    }
}
