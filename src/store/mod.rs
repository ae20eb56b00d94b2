//! The only place SQL lives: the schema, the pool, and the queries, over PostgreSQL or
//! SQLite through one Diesel MultiConnection. Functions take and return domain types;
//! Diesel is blocking, so every call runs on the blocking thread pool.

mod audit;
mod connection;
mod departments;
mod employees;
mod error;
mod group_commit;
mod import;
mod page_map;
mod people;
mod schema;
mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;

use diesel::connection::SimpleConnection;

pub use audit::{AuditEvent, FieldChange, utc_minute};
pub use connection::SetupError;
pub use departments::{Department, DepartmentChange};
pub use employees::{
    EmployeePage, EmployeeRecord, ListQuery, OrgPerson, PAGE_SIZE, PageSize, SortColumn, SortOrder,
    StatusFilter,
};
pub use error::{Rule, StoreError};
pub use import::{ImportBatch, ImportClash, ImportFindings, ImportLikely, ImportRecord};
pub use people::{KeyedPeople, LikelyTwin, Merged};
pub use users::UserRecord;

use crate::config::{DatabaseUrl, Purpose};
use crate::domain::{
    DepartmentName, Employee, EmployeeId, Likeness, Role, Termination, Username, WorkEmail,
};
use connection::{DbConnection, Pool, TrackedConnection};

/// Newest records a search's first page looks through before using the prefix
/// indexes: common prefixes fill a page from them at a fraction of the cost.
const SEARCH_WINDOW: usize = 2_000;

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// How busy the connection pool is.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub max: u32,
    pub open: u32,
    pub in_use: u32,
    pub waiting: u64,
}

/// The database: a pool of connections, and a count of the calls made through it, which
/// `/metrics` exposes so that "this answer needed no query" can be checked from outside.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    calls: Arc<AtomicU64>,
    /// Calls waiting for a connection, for `/metrics`.
    waiting: Arc<AtomicU64>,
    page_map: Arc<page_map::PageMap>,
    /// As many calls in flight as the pool has connections: more would only park
    /// blocking threads on the pool, each with memory of its own.
    gate: Arc<tokio::sync::Semaphore>,
    group_commit: Arc<group_commit::GroupCommit>,
    postgres: bool,
    /// Parks the pool's threads when the last clone is dropped (see `PoolThreads`).
    _pool_threads: Arc<connection::PoolThreads>,
}

impl Store {
    /// Connects, and applies pending migrations.
    pub fn connect(url: &DatabaseUrl, purpose: Purpose) -> Result<Self, SetupError> {
        let (pool, pool_threads) = connection::build_pool(url, purpose)?;
        let mut connection = pool.get().map_err(|source| SetupError::Connect {
            url: url.to_string(),
            source,
        })?;
        connection::run_migrations(&mut connection)?;
        drop(connection);
        let gate = Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        Ok(Self {
            pool,
            calls: Arc::new(AtomicU64::new(0)),
            waiting: Arc::new(AtomicU64::new(0)),
            page_map: Arc::default(),
            gate,
            group_commit: Arc::new(group_commit::GroupCommit::new()),
            postgres: matches!(url, DatabaseUrl::Postgres(_)),
            _pool_threads: Arc::new(pool_threads),
        })
    }

    /// Connections in the pool: more database work than this cannot run at once.
    pub fn pool_size(&self) -> usize {
        self.pool.max_size() as usize
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        PoolStats {
            max: self.pool.max_size(),
            open: state.connections,
            in_use: state.connections - state.idle_connections,
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = self.gate.acquire().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let _permit = permit.map_err(|error| StoreError::Interrupted(error.into()))?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = pool
                .get()
                .map_err(|error| StoreError::Unavailable(error.into()))?;
            let result = work(&mut connection);
            if matches!(result, Err(StoreError::Unavailable(_))) {
                TrackedConnection::mark_lost(&mut connection);
            }
            result
        })
        .await
        .map_err(|error| StoreError::Interrupted(error.into()))?
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| Ok(conn.batch_execute("SELECT 1")?)).await
    }

    /// On PostgreSQL, in a group with the creates that arrive meanwhile (see
    /// `group_commit`); SQLite commits in-process, with nothing to share.
    pub async fn insert_employee(&self, new: Employee, actor: String) -> Result<(), StoreError> {
        if self.postgres {
            self.group_commit.insert(self, new, actor).await
        } else {
            self.insert_one(new, actor).await
        }
    }

    async fn insert_one(&self, new: Employee, actor: String) -> Result<(), StoreError> {
        self.insert_confirmed(new, actor, Vec::new()).await
    }

    /// A record some of whose likely twins a person confirmed are other people: the
    /// record, its audit entry and the confirmations in one transaction.
    pub async fn insert_confirmed(
        &self,
        new: Employee,
        actor: String,
        confirmed: Vec<EmployeeId>,
    ) -> Result<(), StoreError> {
        let inserted = self
            .run(move |conn| employees::insert(conn, &new, &actor, &confirmed))
            .await;
        self.written(inserted)
    }

    /// Returns the record as it was before. `confirmed` as for `insert_confirmed`.
    pub async fn update_employee(
        &self,
        (current, version): (EmployeeId, i32),
        new: Employee,
        actor: String,
        confirmed: Vec<EmployeeId>,
    ) -> Result<EmployeeRecord, StoreError> {
        let updated = self
            .run(move |conn| employees::update(conn, &current, version, &new, &actor, &confirmed))
            .await;
        // An edit keeps the record's id: the page map stays right.
        updated
    }

    /// Returns the record as it was, and the claims of the records merged into it,
    /// removed with it.
    pub async fn delete_employee(
        &self,
        employee_id: EmployeeId,
        version: i32,
        actor: String,
    ) -> Result<(EmployeeRecord, Vec<(EmployeeId, WorkEmail)>), StoreError> {
        let deleted = self
            .run(move |conn| employees::delete(conn, &employee_id, version, &actor))
            .await;
        self.written(deleted)
    }

    pub async fn employee_history(
        &self,
        employee_id: EmployeeId,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.run(move |conn| audit::history(conn, employee_id.as_str()))
            .await
    }

    pub async fn user_count(&self) -> Result<i64, StoreError> {
        self.run(users::count).await
    }

    pub async fn find_user_by_name(
        &self,
        username: Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.run(move |conn| users::find_by_name(conn, &username))
            .await
    }

    pub async fn find_user(&self, id: i64) -> Result<UserRecord, StoreError> {
        self.run(move |conn| users::find(conn, id)).await
    }

    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.run(users::all).await
    }

    pub async fn insert_user(
        &self,
        username: Username,
        password_hash: String,
        role: Role,
        actor: String,
    ) -> Result<UserRecord, StoreError> {
        self.run(move |conn| users::insert(conn, &username, &password_hash, role, &actor))
            .await
    }

    pub async fn set_user_enabled(
        &self,
        id: i64,
        enabled: bool,
        actor: String,
    ) -> Result<UserRecord, StoreError> {
        self.run(move |conn| users::set_enabled(conn, id, enabled, &actor))
            .await
    }

    pub async fn set_user_password(
        &self,
        id: i64,
        password_hash: String,
        actor: String,
    ) -> Result<UserRecord, StoreError> {
        self.run(move |conn| users::set_password(conn, id, &password_hash, &actor))
            .await
    }

    pub async fn find_employee(&self, id: EmployeeId) -> Result<EmployeeRecord, StoreError> {
        self.run(move |conn| employees::find(conn, &id)).await
    }

    /// Who holds these IDs or this e-mail (see `employees::holders`).
    pub async fn holders(
        &self,
        ids: Vec<EmployeeId>,
        email: Option<WorkEmail>,
    ) -> Result<Vec<(EmployeeId, WorkEmail)>, StoreError> {
        self.run(move |conn| employees::holders(conn, &ids, email.as_ref()))
            .await
    }

    pub async fn list_employees(&self, query: ListQuery) -> Result<EmployeePage, StoreError> {
        if query.search.is_some() {
            // Where the newest records' window starts, when the page map knows it
            // without a query (it lists the current records, newest first).
            let floor = self
                .page_map
                .fresh()
                .and_then(|ids| ids.get(SEARCH_WINDOW).copied());
            return self
                .run(move |conn| employees::search_page(conn, &query, (SEARCH_WINDOW, floor)))
                .await;
        }
        if !query.is_plain() {
            return self
                .run(move |conn| employees::filtered_page(conn, &query))
                .await;
        }
        for _ in 0..2 {
            let ids = self.page_map_ids().await?;
            let page_query = query.clone();
            let page = self
                .run(move |conn| employees::plain_page(conn, &page_query, &ids))
                .await?;
            match page {
                Some(page) => return Ok(page),
                None => self.page_map.invalidate(),
            }
        }
        // Records keep arriving faster than the map is rebuilt: the exact path, uncounted.
        self.run(move |conn| employees::filtered_page(conn, &query))
            .await
    }

    async fn page_map_ids(&self) -> Result<Arc<Vec<i64>>, StoreError> {
        if let Some(ids) = self.page_map.fresh() {
            return Ok(ids);
        }
        let _rebuilding = self.page_map.rebuilding.lock().await;
        if let Some(ids) = self.page_map.fresh() {
            return Ok(ids);
        }
        let generation = self.page_map.generation();
        let ids = Arc::new(self.run(employees::ids_newest_first).await?);
        self.page_map.keep(Arc::clone(&ids), generation);
        Ok(ids)
    }

    /// After a record was added or removed: the next list rebuilds the page map.
    fn written<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_ok() {
            self.page_map.invalidate();
        }
        result
    }

    /// Checks the rows, as they arrive, against the stored records and returns every
    /// clash; writes them all, with their audit entries, only when `write` is set,
    /// nothing was refused, and there is no clash.
    pub async fn import_employees(
        &self,
        batches: Receiver<ImportBatch>,
        actor: String,
        (write, accept_likely): (bool, bool),
    ) -> Result<ImportFindings, StoreError> {
        let imported = self
            .run(move |conn| import::import(conn, batches, &actor, (write, accept_likely)))
            .await;
        self.written(imported)
    }

    /// Up to `limit` records after the record `after`, in id order, for an export.
    pub async fn employees_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<EmployeeRecord>, StoreError> {
        self.run(move |conn| employees::records_after(conn, after, limit))
            .await
    }

    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        self.run(departments::all).await
    }

    /// Each department's current staff, by department id.
    pub async fn department_head_counts(
        &self,
    ) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
        self.run(departments::head_counts).await
    }

    /// Returns the new department's id.
    pub async fn add_department(
        &self,
        name: DepartmentName,
        actor: String,
    ) -> Result<i64, StoreError> {
        self.run(move |conn| departments::add(conn, &name, &actor))
            .await
    }

    pub async fn change_department(
        &self,
        id: i64,
        changes: Vec<DepartmentChange>,
        actor: String,
    ) -> Result<(), StoreError> {
        self.run(move |conn| departments::change_department(conn, id, &changes, &actor))
            .await
    }

    /// Ends the employment of the record at `version`; refused while current staff
    /// report to it.
    pub async fn terminate_employee(
        &self,
        (id, version): (EmployeeId, i32),
        termination: Termination,
        actor: String,
    ) -> Result<(), StoreError> {
        let terminated = self
            .run(move |conn| {
                let leaving = employees::Leaving::Terminate(&termination);
                employees::set_leaving(conn, &id, version, leaving, &actor)
            })
            .await;
        // The default list leaves leavers out: its page map changed.
        self.written(terminated)
    }

    /// Rehires the terminated record at `version`: the same record, active again.
    pub async fn reactivate_employee(
        &self,
        (id, version): (EmployeeId, i32),
        actor: String,
    ) -> Result<(), StoreError> {
        let reactivated = self
            .run(move |conn| {
                employees::set_leaving(conn, &id, version, employees::Leaving::Reactivate, &actor)
            })
            .await;
        self.written(reactivated)
    }

    /// Everyone on the staff with their manager, for the org chart.
    pub async fn staff(&self) -> Result<Vec<OrgPerson>, StoreError> {
        self.run(employees::staff).await
    }

    /// Who reports to `manager` (current staff), up to `limit`, by ID with names.
    pub async fn direct_reports(
        &self,
        manager: EmployeeId,
        limit: i64,
    ) -> Result<Vec<(EmployeeId, String)>, StoreError> {
        self.run(move |conn| employees::current_reports(conn, &manager, limit))
            .await
    }

    /// Up to `limit` records after `after` in id order, as (id, employee ID, e-mail,
    /// holder), for rebuilding the duplicate index page by page.
    pub async fn claims_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, String)>, StoreError> {
        self.run(move |conn| employees::claims_after(conn, after, limit))
            .await
    }

    /// Stored records that look like this person (see `people::likely_twins`).
    pub async fn likely_twins(
        &self,
        likeness: Likeness,
        owner: Option<EmployeeId>,
    ) -> Result<Vec<LikelyTwin>, StoreError> {
        self.run(move |conn| people::likely_twins(conn, &likeness, owner.as_ref()))
            .await
    }

    /// The record that answers for `employee_id`: itself, or the one it was merged into.
    pub async fn answering_for(&self, employee_id: EmployeeId) -> Result<EmployeeId, StoreError> {
        self.run(move |conn| employees::answering_for(conn, employee_id))
            .await
    }

    /// The record answering for the ID (itself or its merge survivor) and its status.
    pub async fn standing(
        &self,
        employee_id: EmployeeId,
    ) -> Result<Option<(EmployeeId, crate::domain::EmploymentStatus)>, StoreError> {
        self.run(move |conn| employees::standing(conn, employee_id))
            .await
    }

    /// The IDs and e-mails of the records merged into this one.
    pub async fn aliases_of(
        &self,
        employee_id: EmployeeId,
    ) -> Result<Vec<(EmployeeId, WorkEmail)>, StoreError> {
        self.run(move |conn| people::aliases_of_employee(conn, &employee_id))
            .await
    }

    /// Fills in the likeness keys of rows another tool wrote; returns how many.
    pub async fn fill_likeness_keys(&self) -> Result<usize, StoreError> {
        self.run(people::fill_keys).await
    }

    /// Fills in the search words of rows another tool wrote or changed; returns how many.
    pub async fn fill_search_words(&self) -> Result<usize, StoreError> {
        self.run(employees::fill_search_words).await
    }

    /// Every record with a likeness key, and the pairs confirmed as different people.
    pub async fn keyed_people(&self) -> Result<KeyedPeople, StoreError> {
        self.run(|conn| {
            people::fill_keys(conn)?;
            people::keyed_people(conn)
        })
        .await
    }

    pub async fn confirm_distinct(
        &self,
        employee_id: EmployeeId,
        other: EmployeeId,
        actor: String,
    ) -> Result<(), StoreError> {
        self.run(move |conn| people::confirm_distinct(conn, &employee_id, &[other], &actor))
            .await
    }

    /// Merges `other` into `survivor` (see `people::merge`).
    pub async fn merge_employees(
        &self,
        survivor: (EmployeeId, i32),
        other: (EmployeeId, i32),
        actor: String,
    ) -> Result<Merged, StoreError> {
        let merged = self
            .run(move |conn| {
                people::merge(conn, (&survivor.0, survivor.1), (&other.0, other.1), &actor)
            })
            .await;
        self.written(merged)
    }
}
