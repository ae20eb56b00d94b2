//! The store's one error type. Diesel's errors are classified here, once: callers
//! match on what went wrong (a lost connection, a rule of the schema), never on a
//! backend's error codes or wording.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::domain::{EmployeeId, Field};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such record")]
    NotFound,
    #[error("the {} is already taken", .field.name())]
    Conflict {
        field: Field,
        /// The record holding the value, when it could be found.
        holder: Option<EmployeeId>,
    },
    #[error("the {} refers to nothing", .0.name())]
    MissingReference(Field),
    /// The record was merged into another, which answers for it now.
    #[error("the record was merged into {0}")]
    MergedInto(EmployeeId),
    #[error("the record was changed since it was read")]
    StaleVersion,
    #[error("the employee still manages others")]
    StillManaging,
    /// A department's name is taken by this department (its name as stored).
    #[error("the department name is taken by {0}")]
    DepartmentTaken(String),
    /// The employee named is not on the staff: not stored, merged away or terminated.
    #[error("{0} is not on the staff")]
    NotOnStaff(EmployeeId),
    /// A manager's new manager reports to them, directly or through others.
    #[error("{manager} reports to the employee, so cannot manage them")]
    ManagementLoop { manager: EmployeeId },
    /// A termination refused: these current staff still report to the employee.
    #[error("the employee still manages {}", .0.len())]
    StillManages(Vec<(EmployeeId, String)>),
    /// Termination or reactivation of a record that is in that state already.
    #[error("the record is already {0}")]
    AlreadyIs(&'static str),
    /// An edit that would start or end a termination by setting the status: that is
    /// what terminate and reactivate are for (they keep the date).
    #[error("the status can change to or from terminated only by terminate or reactivate")]
    LeavingByForm { terminated: bool },
    /// An archived department takes no new members.
    #[error("the department is archived")]
    DepartmentArchived,
    #[error("the username is taken")]
    UsernameTaken,
    /// A rule of the schema refused the write; the caller says what it means.
    #[error("the database refused the write ({rule:?}: {detail})")]
    Violation { rule: Rule, detail: String },
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The task running a call ended without an answer (it panicked): a bug, not an
    /// outage.
    #[error("a database call ended without an answer")]
    Interrupted(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a database query failed")]
    Query(#[source] DieselError),
}

/// Which rule of the schema a refused write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Unique,
    ForeignKey,
    Check,
}

impl StoreError {
    /// Whether the refusal names `text` (a column, an index): PostgreSQL names the
    /// violated constraint; SQLite only puts it in the message ("UNIQUE constraint
    /// failed: employees.email").
    pub(super) fn violation_names(&self, text: &str) -> bool {
        matches!(self, StoreError::Violation { detail, .. } if detail.contains(text))
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        if is_connection_lost(&error) {
            return StoreError::Unavailable(error.into());
        }
        let DieselError::DatabaseError(kind, info) = &error else {
            return StoreError::Query(error);
        };
        let rule = match kind {
            DatabaseErrorKind::UniqueViolation => Rule::Unique,
            DatabaseErrorKind::ForeignKeyViolation => Rule::ForeignKey,
            DatabaseErrorKind::CheckViolation => Rule::Check,
            // SQLite reports an ON DELETE RESTRICT refusal with no error kind.
            _ if info.message().contains("FOREIGN KEY constraint failed") => Rule::ForeignKey,
            _ => return StoreError::Query(error),
        };
        let detail = match info.constraint_name() {
            Some(name) => format!("{name}: {}", info.message()),
            None => info.message().to_owned(),
        };
        StoreError::Violation { rule, detail }
    }
}

fn is_connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        // SQLite's answer when the busy timeout ran out behind another writer.
        DieselError::DatabaseError(_, info) => info.message().contains("database is locked"),
        _ => false,
    }
}
