//! New records and their audit entries in one PostgreSQL statement: the insert runs as
//! a data-modifying CTE and the audit rows join what it returned. One round trip and
//! one commit, where BEGIN, two INSERTs and COMMIT take four; still atomic, as a
//! statement is its own transaction. (SQLite has no data-modifying CTEs, and its
//! transaction is in-process anyway.)

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Text};

use super::{EmployeeRow, audited_fields};
use crate::domain::Employee;
use crate::store::StoreError;
use crate::store::audit::{self, diff};
use crate::store::schema::employees;

/// Who creates what: a record and the account its audit entry names.
pub(in crate::store) struct Creation<'a> {
    pub employee: &'a Employee,
    pub actor: &'a str,
}

/// Inserts the records with their audit entries; returns the IDs stored. With
/// `skip_taken`, a record whose ID or e-mail is taken is left out (a group commit
/// writes it again alone); otherwise it fails the statement, naming the rule.
pub(in crate::store) fn insert_created(
    pg: &mut PgConnection,
    creations: &[Creation],
    skip_taken: bool,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<EmployeeRow> = creations
        .iter()
        .map(|creation| EmployeeRow::from(creation.employee))
        .collect();
    let audit = AuditColumns::of(creations);
    let returning = (employees::id, employees::employee_id);
    let insert = diesel::insert_into(employees::table).values(&rows);
    Ok(if skip_taken {
        let insert = insert.on_conflict_do_nothing().returning(returning);
        WithAudit { insert, audit }.load(pg)?
    } else {
        WithAudit {
            insert: insert.returning(returning),
            audit,
        }
        .load(pg)?
    })
}

/// The audit entries' columns, one element per record, joined to the inserted rows by
/// employee ID.
struct AuditColumns {
    employee_ids: Vec<String>,
    actors: Vec<String>,
    changes: Vec<String>,
}

impl AuditColumns {
    fn of(creations: &[Creation]) -> Self {
        let mut columns = Self {
            employee_ids: Vec::with_capacity(creations.len()),
            actors: Vec::with_capacity(creations.len()),
            changes: Vec::with_capacity(creations.len()),
        };
        for Creation { employee, actor } in creations {
            columns.employee_ids.push(employee.employee_id.to_string());
            columns.actors.push((*actor).to_owned());
            columns
                .changes
                .push(audit::encode(&diff(&[], &audited_fields(employee))));
        }
        columns
    }
}

/// `WITH created AS (<insert … RETURNING id, employee_id>) INSERT INTO audit_events …`
struct WithAudit<I> {
    insert: I,
    audit: AuditColumns,
}

impl<I: QueryFragment<Pg>> QueryFragment<Pg> for WithAudit<I> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Its text varies with the number of rows.
        out.unsafe_to_cache_prepared();
        out.push_sql("WITH created AS (");
        self.insert.walk_ast(out.reborrow())?;
        out.push_sql(
            "), audited AS (
                INSERT INTO audit_events (actor, action, subject_kind, record_id, subject, changes)
                SELECT a.actor, 'create', 'employee', c.id, c.employee_id, a.changes
                  FROM created c JOIN unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.audit.employee_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.audit.actors)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.audit.changes)?;
        out.push_sql(
            ") AS a(employee_id, actor, changes) USING (employee_id))
             SELECT employee_id FROM created",
        );
        Ok(())
    }
}

impl<I> QueryId for WithAudit<I> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<I> Query for WithAudit<I> {
    type SqlType = Text;
}

impl<I> RunQueryDsl<PgConnection> for WithAudit<I> {}
