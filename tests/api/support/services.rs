//! The test servers as each test sees them: a database of its own (a temp SQLite file,
//! or a PostgreSQL database dropped afterwards) and, beside PostgreSQL, a Valkey
//! database number of its own. Shared with `tests/internals`, which includes this file.

use std::path::PathBuf;

use deadpool_redis::redis;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded mode: SQLite and the in-process index.
    Sqlite,
    /// Stack mode: PostgreSQL and Valkey.
    Postgres,
}

/// Runs the test function once per backend, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}

/// A server the suite needs: in CI a missing one fails the test, never skips it.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the suite with scripts/test, which starts PostgreSQL and Valkey"
        )
    })
}

/// The user name in a `postgres://USER:PASSWORD@HOST/DB` URL.
fn app_role(url: &str) -> &str {
    let credentials = url
        .strip_prefix("postgres://")
        .and_then(|rest| rest.split_once('@'))
        .map(|(credentials, _)| credentials)
        .expect("ROSTER_TEST_APP_DATABASE_URL is postgres://USER:PASSWORD@HOST:PORT/DB");
    credentials.split(':').next().unwrap()
}

/// One test's private database, gone when this is dropped.
pub struct TestDatabase {
    pub backend: Backend,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDatabase {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("roster-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).unwrap();
                Self {
                    backend,
                    url: format!("sqlite://{}", dir.join("roster.db").display()),
                    cleanup: Cleanup::SqliteDir(dir),
                }
            }
            Backend::Postgres => {
                // The superuser makes and drops the database; the app connects as a
                // role that must give its password, as in a deployment.
                let admin_url = required_env("ROSTER_TEST_DATABASE_URL");
                let app_url = required_env("ROSTER_TEST_APP_DATABASE_URL");
                let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url)
                    .expect("failed to connect to the test PostgreSQL");
                admin
                    .batch_execute(&format!(
                        "CREATE DATABASE {name} OWNER {}",
                        app_role(&app_url)
                    ))
                    .unwrap();
                let (base, _) = app_url.rsplit_once('/').unwrap();
                Self {
                    backend,
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::PostgresDatabase { admin_url, name },
                }
            }
        }
    }

    /// What the app is given as `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection of the test's own, beside the app's.
    pub fn connect(&self) -> DirectDb {
        match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut connection = SqliteConnection::establish(path).unwrap();
                connection
                    .batch_execute("PRAGMA busy_timeout = 5000")
                    .unwrap();
                DirectDb::Sqlite(connection)
            }
            Backend::Postgres => DirectDb::Pg(PgConnection::establish(&self.url).unwrap()),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// The database as outside tools see it: rows read and written behind the app's back.
pub enum DirectDb {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    s: String,
}

impl DirectDb {
    /// Runs `sql`, answering with the database's refusal if it refuses.
    pub fn try_execute(&mut self, sql: &str) -> QueryResult<()> {
        match self {
            DirectDb::Pg(connection) => connection.batch_execute(sql),
            DirectDb::Sqlite(connection) => connection.batch_execute(sql),
        }
    }

    pub fn execute(&mut self, sql: &str) {
        self.try_execute(sql)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// `sql` selects one integer column named `n`.
    pub fn count(&mut self, sql: &str) -> i64 {
        let query = diesel::sql_query(sql);
        match self {
            DirectDb::Pg(connection) => query.get_result::<Count>(connection).unwrap().n,
            DirectDb::Sqlite(connection) => query.get_result::<Count>(connection).unwrap().n,
        }
    }

    /// `sql` selects one text column named `s`.
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        let query = diesel::sql_query(sql);
        let rows = match self {
            DirectDb::Pg(connection) => query.load::<TextRow>(connection),
            DirectDb::Sqlite(connection) => query.load::<TextRow>(connection),
        };
        rows.unwrap().into_iter().map(|row| row.s).collect()
    }

    pub fn employees_with_id(&mut self, employee_id: &str) -> i64 {
        self.count(&format!(
            "SELECT count(*) AS n FROM employees WHERE employee_id = '{employee_id}'"
        ))
    }
}

/// A Valkey database number of this test's own on the shared test server.
pub struct TestValkey {
    pub url: String,
    upstream: String,
}

impl TestValkey {
    pub fn fresh() -> Self {
        let upstream = required_env("ROSTER_TEST_VALKEY_URL");
        let mut connection = redis::Client::open(upstream.as_str())
            .and_then(|client| client.get_connection())
            .expect("failed to connect to the test Valkey");
        let next: i64 = redis::cmd("INCR")
            .arg("roster-test:next-database")
            .query(&mut connection)
            .unwrap();
        // The server runs with 10000 databases; 0 holds only the counter.
        let database = 1 + next % 9_999;
        let valkey = Self {
            url: format!("{upstream}/{database}"),
            upstream,
        };
        valkey.flush();
        valkey
    }

    /// The server's `HOST:PORT`, for a proxy in front of it.
    pub fn host_port(&self) -> &str {
        self.upstream.trim_start_matches("redis://")
    }

    /// This database on the same server, reached through `address` (a proxy).
    pub fn url_through(&self, address: &str) -> String {
        self.url.replacen(self.host_port(), address, 1)
    }

    /// Runs any command on this database.
    pub fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> T {
        let mut connection = redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection())
            .unwrap();
        command.query(&mut connection).unwrap()
    }

    /// As if Valkey restarted: it keeps nothing on disk.
    pub fn flush(&self) {
        self.query::<()>(&redis::cmd("FLUSHDB"));
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.query(redis::cmd("GET").arg(key))
    }

    /// What `PTTL` says: milliseconds left, -1 for a key without expiry, -2 for none.
    pub fn ttl_millis(&self, key: &str) -> i64 {
        self.query(redis::cmd("PTTL").arg(key))
    }
}
