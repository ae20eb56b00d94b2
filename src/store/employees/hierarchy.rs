//! Who reports to whom: the rules a new manager must meet, decided inside the write's
//! transaction. A chain of managers is followed in one recursive query however long it
//! is, and stops at a loop already there (`UNION` keeps each ID once).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::domain::{EmployeeId, EmploymentStatus};
use crate::store::StoreError;
use crate::store::connection::DbConnection;
use crate::store::schema::employees;

/// Taken by every write that gives someone a new manager, until it commits: two edits
/// that together would close a loop (A under B, B under A) each check the chain
/// alone, so on PostgreSQL they take turns; SQLite has one writer at a time anyway.
const HIERARCHY_LOCK_KEY: i64 = 0x526f_7374_6572_0001;

/// Waits for the other writes changing who reports to whom. Taken first in the
/// transaction, before the record's own row: taken after it, two edits would each hold
/// a row the other's check must read (a deadlock).
pub(in crate::store) fn lock_hierarchy(conn: &mut DbConnection) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(HIERARCHY_LOCK_KEY)
            .execute(pg)?;
    }
    Ok(())
}

const CHAIN_REACHES: &str = "WITH RECURSIVE chain(employee_id) AS (
        SELECT CAST($1 AS TEXT)
        UNION
        SELECT e.manager_id FROM employees e JOIN chain c ON e.employee_id = c.employee_id
         WHERE e.manager_id IS NOT NULL
    )
    SELECT count(*) AS found FROM chain WHERE employee_id IN ($2, $3)";

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    found: i64,
}

/// Whether following managers up from `manager` (itself included) reaches either of
/// `records`.
pub(in crate::store) fn chain_reaches(
    conn: &mut DbConnection,
    manager: &EmployeeId,
    records: [&EmployeeId; 2],
) -> Result<bool, StoreError> {
    let found: Found = diesel::sql_query(CHAIN_REACHES)
        .bind::<Text, _>(manager.as_str())
        .bind::<Text, _>(records[0].as_str())
        .bind::<Text, _>(records[1].as_str())
        .get_result(conn)?;
    Ok(found.found > 0)
}

/// `manager` may manage `record` (its ID after the write): on the staff (stored, not
/// merged away, not terminated) and not reporting to `record` at any remove. Runs after
/// `lock_hierarchy` and the record's own update, in the same transaction; on PostgreSQL
/// the manager's row is
/// share-locked, so a termination of them waits for this write (and then sees the
/// report) or this waits for it (and then sees them terminated).
pub(in crate::store) fn check_new_manager(
    conn: &mut DbConnection,
    record: &EmployeeId,
    manager: &EmployeeId,
) -> Result<(), StoreError> {
    let standing = employees::table
        .filter(employees::employee_id.eq(manager.as_str()))
        .select((employees::status, employees::merged_into));
    let found: Option<(String, Option<i64>)> = match conn {
        DbConnection::Pg(pg) => standing.for_share().first(pg).optional()?,
        DbConnection::Sqlite(sqlite) => standing.first(sqlite).optional()?,
    };
    match found {
        None => {
            return Err(StoreError::MissingReference(
                crate::domain::Field::ManagerId,
            ));
        }
        Some((status, merged_into))
            if merged_into.is_some() || status == EmploymentStatus::Terminated.as_str() =>
        {
            return Err(StoreError::NotOnStaff(manager.clone()));
        }
        Some(_) => {}
    }
    if chain_reaches(conn, manager, [record, record])? {
        return Err(StoreError::ManagementLoop {
            manager: manager.clone(),
        });
    }
    Ok(())
}
