use std::collections::BTreeMap;
use std::fmt;

/// The employee form's fields, named as in CONTRACT.md, declared in the order the form
/// shows them: problems are listed (and compared) in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    EmployeeId,
    FirstName,
    LastName,
    Email,
    Phone,
    DateOfBirth,
    HireDate,
    JobTitle,
    DepartmentId,
    ManagerId,
    Status,
}

impl Field {
    /// Every field, in the order of a file's columns: the five required ones first.
    pub const ALL: [Field; 11] = [
        Field::EmployeeId,
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::HireDate,
        Field::Phone,
        Field::DateOfBirth,
        Field::DepartmentId,
        Field::JobTitle,
        Field::ManagerId,
        Field::Status,
    ];

    /// As the form labels it.
    pub fn label(self) -> &'static str {
        match self {
            Field::EmployeeId => "Employee ID",
            Field::FirstName => "First name",
            Field::LastName => "Last name",
            Field::Email => "Work e-mail",
            Field::HireDate => "Hire date",
            Field::Phone => "Phone",
            Field::DateOfBirth => "Date of birth",
            Field::DepartmentId => "Department",
            Field::JobTitle => "Job title",
            Field::ManagerId => "Manager",
            Field::Status => "Status",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Field::EmployeeId => "employee_id",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Email => "email",
            Field::HireDate => "hire_date",
            Field::Phone => "phone",
            Field::DateOfBirth => "date_of_birth",
            Field::DepartmentId => "department_id",
            Field::JobTitle => "job_title",
            Field::ManagerId => "manager_id",
            Field::Status => "status",
        }
    }
}

/// Every invalid field of one submission with its message, so that the user sees all of
/// them at once rather than one per round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<Field, String>);

impl FieldErrors {
    pub fn single(field: Field, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: Field, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    /// Keeps the parsed value, or records its error and returns `None`.
    pub fn check<T>(&mut self, field: Field, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.get(&field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Field, &str)> {
        self.0
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, message) in self.iter() {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{}: {message}", field.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}
