//! Group commit for new records on PostgreSQL: creates that arrive while earlier ones
//! are being written share one statement and one transaction, so the commit, the
//! round trip and the statement's fixed costs are paid once per group rather than once
//! per record.
//!
//! Rows that the group cannot take (a taken ID or e-mail: `ON CONFLICT DO NOTHING`
//! skips them; any other error fails the group as a whole) are written again one by
//! one, which names the exact conflict: a record's outcome never depends on its group.

use std::collections::HashSet;
use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::audit::{self, diff};
use super::connection::DbConnection;
use super::employees::audited_fields_of_new;
use super::{Store, StoreError};
use crate::domain::{EmployeeId, NewEmployee};

/// Most records in one group.
const MAX_GROUP: usize = 64;
/// Groups written at once. While all are busy, new creates queue up and form the next
/// group: fewer, larger transactions exactly when the database is the bottleneck.
const GROUPS_IN_FLIGHT: usize = 4;

/// The records, each with its audit entry; rows whose ID or e-mail is taken are
/// skipped, and the IDs of those stored are returned.
const INSERT_GROUP: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[],
                             $6::text[], $7::date[], $8::bigint[], $9::text[], $10::text[],
                             $11::text[], $12::text[], $13::text[], $14::bigint[])
            AS t(employee_id, first_name, last_name, email, hire_date, phone, date_of_birth,
                 department_id, job_title, manager_id, status, actor, changes, slot)
    ), created AS (
        INSERT INTO employees (employee_id, first_name, last_name, email, hire_date, phone,
                               date_of_birth, department_id, job_title, manager_id, status)
        SELECT employee_id, first_name, last_name, email, hire_date, phone, date_of_birth,
               department_id, job_title, manager_id, status
          FROM input ORDER BY slot
        ON CONFLICT DO NOTHING
        RETURNING id, employee_id
    ), audited AS (
        INSERT INTO audit_events (actor, action, subject_kind, record_id, subject, changes)
        SELECT i.actor, 'create', 'employee', c.id, c.employee_id, i.changes
          FROM created c JOIN input i USING (employee_id)
    )
    SELECT employee_id FROM created";

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = Text)]
    employee_id: String,
}

struct Job {
    new: NewEmployee,
    actor: String,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Where creates queue for their group. The loop that forms groups starts with the
/// first create, on the runtime that made it.
pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
    waiting: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Job>>>,
}

impl GroupCommit {
    pub(super) fn new() -> Self {
        let (jobs, waiting) = mpsc::unbounded_channel();
        Self {
            jobs,
            waiting: std::sync::Mutex::new(Some(waiting)),
        }
    }

    pub(super) async fn insert(
        &self,
        store: &Store,
        new: NewEmployee,
        actor: String,
    ) -> Result<(), StoreError> {
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(jobs) = waiting {
            tokio::spawn(form_groups(store.clone(), jobs));
        }
        let (reply, outcome) = oneshot::channel();
        let job = Job { new, actor, reply };
        self.jobs
            .send(job)
            .map_err(|error| StoreError::Interrupted(error.to_string().into()))?;
        outcome
            .await
            .map_err(|error| StoreError::Interrupted(error.into()))?
    }
}

async fn form_groups(store: Store, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let slots = Arc::new(Semaphore::new(GROUPS_IN_FLIGHT));
    while let Some(first) = jobs.recv().await {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            write_group(&store, group).await;
            drop(slot);
        });
    }
}

async fn write_group(store: &Store, group: Vec<Job>) {
    if group.len() == 1 {
        return write_alone(store, group).await;
    }
    // Two creates of one ID or e-mail in one group: the later is written alone, after.
    let (mut ids, mut emails) = (HashSet::new(), HashSet::new());
    let (together, alone): (Vec<Job>, Vec<Job>) = group.into_iter().partition(|job| {
        ids.insert(job.new.employee_id.clone()) & emails.insert(job.new.email.clone())
    });
    let rows: Vec<(NewEmployee, String)> = together
        .iter()
        .map(|job| (job.new.clone(), job.actor.clone()))
        .collect();
    let stored = store
        .run(move |conn| match conn {
            DbConnection::Pg(pg) => insert_group(pg, &rows),
            // Not grouped (see `Store::insert_employee`): each is written alone below.
            DbConnection::Sqlite(_) => Ok(HashSet::new()),
        })
        .await;
    // A group that failed as a whole (a missing manager, say) stored nothing: each of
    // its records is written alone below, and meets its own error there.
    let stored = store.written(stored).unwrap_or_default();
    let (done, skipped): (Vec<Job>, Vec<Job>) = together
        .into_iter()
        .partition(|job| stored.contains(job.new.employee_id.as_str()));
    for job in done {
        let _ = job.reply.send(Ok(()));
    }
    write_alone(store, skipped.into_iter().chain(alone).collect()).await;
}

/// Each on its own, as without grouping: the answer names the exact conflict.
async fn write_alone(store: &Store, jobs: Vec<Job>) {
    let writes = jobs.into_iter().map(|job| async move {
        let outcome = store.insert_one(job.new, job.actor).await;
        let _ = job.reply.send(outcome);
    });
    futures_util::future::join_all(writes).await;
}

fn insert_group(
    pg: &mut PgConnection,
    rows: &[(NewEmployee, String)],
) -> Result<HashSet<String>, StoreError> {
    let column = |value: fn(&NewEmployee) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(|(new, _)| value(new)).collect()
    };
    let text = |value: fn(&NewEmployee) -> String| -> Vec<String> {
        rows.iter().map(|(new, _)| value(new)).collect()
    };
    let created = diesel::sql_query(INSERT_GROUP)
        .bind::<Array<Text>, _>(text(|new| new.employee_id.to_string()))
        .bind::<Array<Text>, _>(text(|new| new.first_name.to_string()))
        .bind::<Array<Text>, _>(text(|new| new.last_name.to_string()))
        .bind::<Array<Text>, _>(text(|new| new.email.to_string()))
        .bind::<Array<Date>, _>(
            rows.iter()
                .map(|(new, _)| new.hire_date)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(column(|new| new.phone.as_deref().map(str::to_owned)))
        .bind::<Array<Nullable<Date>>, _>(
            rows.iter()
                .map(|(new, _)| new.date_of_birth)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<BigInt>>, _>(
            rows.iter()
                .map(|(new, _)| new.department_id)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(column(|new| new.job_title.as_deref().map(str::to_owned)))
        .bind::<Array<Nullable<Text>>, _>(column(|new| {
            new.manager_id.as_ref().map(EmployeeId::to_string)
        }))
        .bind::<Array<Text>, _>(text(|new| new.status.as_str().to_owned()))
        .bind::<Array<Text>, _>(
            rows.iter()
                .map(|(_, actor)| actor.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(text(|new| {
            audit::encode(&diff(&[], &audited_fields_of_new(new)))
        }))
        .bind::<Array<BigInt>, _>((0..rows.len() as i64).collect::<Vec<_>>())
        .load::<Created>(pg)?;
    Ok(created.into_iter().map(|row| row.employee_id).collect())
}
