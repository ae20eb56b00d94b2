//! Connections and the pool. The backend is chosen from the URL scheme here, not by the
//! MultiConnection's derived `establish`, which hides the real cause of a failed connect.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, R2D2Connection};
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::config::{DatabaseUrl, Purpose};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Any number of app processes may start at once against one PostgreSQL; this lock lets
/// one of them migrate while the others wait, instead of failing on "table exists".
const MIGRATION_LOCK_KEY: i64 = 0x526f_7374_6572; // "Roster"

/// A pooled connection that remembers whether it lost its server, so that the pool
/// drops it instead of handing it out again. Checking on every checkout would cost a
/// round trip per request.
pub struct TrackedConnection {
    connection: DbConnection,
    lost: bool,
}

impl TrackedConnection {
    pub fn mark_lost(&mut self) {
        self.lost = true;
    }
}

impl Deref for TrackedConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.connection
    }
}

impl DerefMut for TrackedConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.connection
    }
}

pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = TrackedConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<TrackedConnection, ConnectionError> {
        let connection = match &self.url {
            DatabaseUrl::Postgres(url) => DbConnection::Pg(PgConnection::establish(url)?),
            DatabaseUrl::Sqlite(path) => DbConnection::Sqlite(connect_sqlite(path)?),
        };
        Ok(TrackedConnection {
            connection,
            lost: false,
        })
    }

    fn is_valid(&self, connection: &mut TrackedConnection) -> Result<(), ConnectionError> {
        connection
            .connection
            .ping()
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, connection: &mut TrackedConnection) -> bool {
        connection.lost || connection.connection.is_broken()
    }
}

/// Each connection keeps its own page cache; at SQLite's default of 2 MB, eight of them
/// were a fifth of the app's memory under load. The operating system caches the file
/// for all of them anyway: at 512 KB the bench's list and search rates held, and peak
/// memory fell by 11 MB.
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                            PRAGMA synchronous = NORMAL; PRAGMA cache_size = -512;";

fn connect_sqlite(path: &Path) -> Result<SqliteConnection, ConnectionError> {
    let mut connection = SqliteConnection::establish(&path.to_string_lossy())?;
    connection
        .batch_execute(SQLITE_SETUP)
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}

pub type Pool = r2d2::Pool<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("failed to connect to the database at {url}")]
    Connect {
        url: String,
        #[source]
        source: r2d2::PoolError,
    },
    #[error("failed to prepare the SQLite file {path}")]
    Sqlite {
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("failed to apply the database migrations")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The threads on which r2d2 opens connections (also unasked, to keep idle ones ready)
/// and reaps old ones. r2d2 never joins them. A process that exits while one of them is
/// inside libpq's SCRAM exchange has OpenSSL torn down under it by the exit handlers,
/// and dies with SIGSEGV. So when the last `Store` is gone, every one of these threads
/// is parked in a job of ours before the process may go on: then no connection work can
/// be running, or start, when `main` returns.
pub struct PoolThreads {
    threads: Arc<ScheduledThreadPool>,
}

/// r2d2's own default.
const POOL_THREADS: usize = 3;
/// Longer than a connect normally takes, short enough not to hold up an exit for long
/// when a server does not answer at all.
const PARK_DEADLINE: Duration = Duration::from_secs(10);

impl PoolThreads {
    fn new() -> Self {
        Self {
            threads: Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(POOL_THREADS)
                    .thread_name_pattern("roster-db-{}")
                    .build(),
            ),
        }
    }
}

impl Drop for PoolThreads {
    fn drop(&mut self) {
        let (parked, parked_threads) = mpsc::channel();
        for _ in 0..POOL_THREADS {
            let parked = parked.clone();
            // A thread takes one job at a time, so each of them ends up in one of these,
            // after whatever it was doing. They stay there until the process ends: three
            // idle threads, where letting them go could run a queued connect at exit.
            self.threads.execute(move || {
                let _ = parked.send(());
                loop {
                    std::thread::park();
                }
            });
        }
        let deadline = Instant::now() + PARK_DEADLINE;
        for _ in 0..POOL_THREADS {
            let left = deadline.saturating_duration_since(Instant::now());
            if parked_threads.recv_timeout(left).is_err() {
                log::warn!(
                    "a database connection was still being opened after {PARK_DEADLINE:?}; exiting anyway"
                );
                return;
            }
        }
        log::debug!("the database pool's threads are parked");
    }
}

/// r2d2 logs every failed connect as an error, several a second while the database is
/// down; the caller that waited in vain reports the cause once, with its context.
#[derive(Debug)]
struct QuietErrors;

impl r2d2::HandleError<ConnectionError> for QuietErrors {
    fn handle_error(&self, error: ConnectionError) {
        log::debug!("a database connection failed: {error}");
    }
}

/// Builds the pool, connecting eagerly so that a wrong URL or password stops the start
/// with the real cause. A server keeps a couple of connections ready for the next
/// request; a command opens only those it uses, and nothing runs in the background.
pub fn build_pool(url: &DatabaseUrl, purpose: Purpose) -> Result<(Pool, PoolThreads), SetupError> {
    if let DatabaseUrl::Sqlite(path) = url {
        enable_write_ahead_log(path)?;
    }
    let size = match url {
        DatabaseUrl::Postgres(_) => 16,
        // One writer at a time in SQLite; a few readers beside it in WAL mode.
        DatabaseUrl::Sqlite(_) => 8,
    };
    let threads = PoolThreads::new();
    let builder = r2d2::Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(3))
        .thread_pool(Arc::clone(&threads.threads))
        .error_handler(Box::new(QuietErrors));
    let builder = match purpose {
        Purpose::Serve => builder.min_idle(Some(2)),
        // Without an idle timeout or a lifetime r2d2 starts no reaper either.
        Purpose::Maintenance => builder
            .min_idle(Some(0))
            .idle_timeout(None)
            .max_lifetime(None),
    };
    let pool = builder
        .build(ConnectionManager::new(url.clone()))
        .map_err(|source| SetupError::Connect {
            url: url.to_string(),
            source,
        })?;
    Ok((pool, threads))
}

/// WAL is a property of the file, set once before the pool: set per connection, the
/// connections race for it and fail with "database is locked".
fn enable_write_ahead_log(path: &Path) -> Result<(), SetupError> {
    let sqlite_error = |source: Box<dyn std::error::Error + Send + Sync>| SetupError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    let mut connection = connect_sqlite(path).map_err(|e| sqlite_error(e.into()))?;
    connection
        .batch_execute("PRAGMA journal_mode = WAL;")
        .map_err(|e| sqlite_error(e.into()))
}

pub fn run_migrations(connection: &mut DbConnection) -> Result<(), SetupError> {
    match connection {
        DbConnection::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .map_err(|e| SetupError::Migrate(e.into()))?;
            let migrated = pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop);
            let unlocked = pg
                .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .map_err(Into::into);
            migrated.and(unlocked).map_err(SetupError::Migrate)
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(drop)
            .map_err(SetupError::Migrate),
    }
}
