//! Connections and the pool. The backend is chosen from the URL scheme here, not by the
//! MultiConnection's derived `establish`, which hides the real cause of a failed connect.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, R2D2Connection};
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;

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

/// Builds the pool, connecting eagerly so that a wrong URL or password stops the start
/// with the real cause.
pub fn build_pool(url: &DatabaseUrl) -> Result<Pool, SetupError> {
    if let DatabaseUrl::Sqlite(path) = url {
        enable_write_ahead_log(path)?;
    }
    let size = match url {
        DatabaseUrl::Postgres(_) => 16,
        // One writer at a time in SQLite; a few readers beside it in WAL mode.
        DatabaseUrl::Sqlite(_) => 8,
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(2))
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(3))
        .build(ConnectionManager::new(url.clone()))
        .map_err(|source| SetupError::Connect {
            url: url.to_string(),
            source,
        })
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
