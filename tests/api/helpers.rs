//! Test harness: each test gets a fresh database (a temp SQLite file, or a new
//! PostgreSQL database dropped afterwards) and, on PostgreSQL, its own Valkey database
//! number; apps are the real `roster` binary, spawned on port 0.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use deadpool_redis::redis;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use roster::domain::Role;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded mode: SQLite and the in-process index.
    Sqlite,
    /// Stack mode: PostgreSQL and Valkey.
    Postgres,
}

const SECRET_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const START_DEADLINE: Duration = Duration::from_secs(30);

fn required_env(name: &str) -> String {
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

/// Polls `check` until it returns `Some`, or fails the test after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One test's private database and index.
pub struct TestEnv {
    pub backend: Backend,
    database_url: String,
    pub valkey: Option<TestValkey>,
    cleanup: Cleanup,
    users_seeded: AtomicBool,
}

/// Every seeded account's password.
pub const PASSWORD: &str = "correct horse battery staple";

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| roster::auth::password::hash(PASSWORD).unwrap())
}

/// The seeded account of each role.
pub fn username(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Hr => "hr-staff",
        Role::Viewer => "viewer",
    }
}

enum Cleanup {
    SqliteDir(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestEnv {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("roster-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).unwrap();
                Self {
                    backend,
                    database_url: format!("sqlite://{}", dir.join("roster.db").display()),
                    valkey: None,
                    cleanup: Cleanup::SqliteDir(dir),
                    users_seeded: AtomicBool::new(false),
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
                let app_role = app_role(&app_url);
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} OWNER {app_role}"))
                    .unwrap();
                let (base, _) = app_url.rsplit_once('/').unwrap();
                Self {
                    backend,
                    database_url: format!("{base}/{name}"),
                    valkey: Some(TestValkey::new().await),
                    cleanup: Cleanup::PostgresDatabase { admin_url, name },
                    users_seeded: AtomicBool::new(false),
                }
            }
        }
    }

    pub async fn spawn(&self) -> TestApp {
        let valkey_url = self.valkey.as_ref().map(|valkey| valkey.url.clone());
        self.spawn_with_valkey(valkey_url).await
    }

    /// Starts the app with its index reached through `valkey_url` (a proxy, say).
    pub async fn spawn_with_valkey(&self, valkey_url: Option<String>) -> TestApp {
        let app = self.start(valkey_url).await;
        app.wait_until_index_ready().await;
        app
    }

    /// Starts the app without waiting for its index, which may not come up.
    pub async fn spawn_with_valkey_unready(&self, valkey_url: String) -> TestApp {
        self.start(Some(valkey_url)).await
    }

    /// Starts the app with no accounts at all: `TestApp::setup_link` then holds the
    /// first-administrator link it printed.
    pub async fn spawn_without_accounts(&self) -> TestApp {
        let valkey_url = self.valkey.as_ref().map(|valkey| valkey.url.clone());
        self.launch(valkey_url, false, &[]).await
    }

    async fn start(&self, valkey_url: Option<String>) -> TestApp {
        self.launch(valkey_url, true, &[]).await
    }

    /// Starts the app with extra settings in its environment.
    pub async fn spawn_with_env(&self, variables: &[(&str, &str)]) -> TestApp {
        let valkey_url = self.valkey.as_ref().map(|valkey| valkey.url.clone());
        self.launch(valkey_url, true, variables).await
    }

    /// An account of each role, written as an outside tool would (the app has
    /// migrated the database by then).
    fn seed_users(&self) {
        if self.users_seeded.swap(true, Ordering::SeqCst) {
            return;
        }
        let rows: Vec<String> = Role::ALL
            .iter()
            .map(|role| {
                format!(
                    "('{}', '{}', '{}')",
                    username(*role),
                    password_hash(),
                    role.as_str()
                )
            })
            .collect();
        self.database().execute(&format!(
            "INSERT INTO users (username, password_hash, role) VALUES {}",
            rows.join(", ")
        ));
    }

    /// As `spawn_with_env`, with the app's log lines going to `logs` from its start,
    /// so that a test can follow them before the app serves.
    pub async fn spawn_with_env_and_logs(&self, variables: &[(&str, &str)], logs: Logs) -> TestApp {
        let valkey_url = self.valkey.as_ref().map(|valkey| valkey.url.clone());
        self.launch_logging(valkey_url, true, variables, logs).await
    }

    async fn launch(
        &self,
        valkey_url: Option<String>,
        with_accounts: bool,
        variables: &[(&str, &str)],
    ) -> TestApp {
        self.launch_logging(valkey_url, with_accounts, variables, Logs::default())
            .await
    }

    async fn launch_logging(
        &self,
        valkey_url: Option<String>,
        with_accounts: bool,
        variables: &[(&str, &str)],
        logs: Logs,
    ) -> TestApp {
        let workdir = std::env::temp_dir().join(format!("roster-app-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&workdir).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
        command
            .arg("serve")
            .current_dir(&workdir)
            .env("DATABASE_URL", &self.database_url)
            .env("ROSTER_BIND", "127.0.0.1:0")
            .env("ROSTER_SECRET_KEY", SECRET_KEY)
            .env(
                "RUST_LOG",
                std::env::var("TEST_LOG").unwrap_or_else(|_| "error".into()),
            )
            .env_remove("VALKEY_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = valkey_url {
            command.env("VALKEY_URL", url);
        }
        command.envs(variables.iter().copied());
        let mut process = command.spawn().expect("failed to start roster");
        let mut log_lines = BufReader::new(process.stderr.take().unwrap()).lines();
        tokio::spawn({
            let logs = Arc::clone(&logs);
            async move {
                while let Ok(Some(line)) = log_lines.next_line().await {
                    eprintln!("{line}");
                    logs.lock().unwrap().push(line);
                }
            }
        });
        let stdout = process.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let address = tokio::time::timeout(START_DEADLINE, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(address) = line.strip_prefix("Roster listening on ") {
                    return address.to_owned();
                }
            }
            panic!("roster exited before it listened");
        })
        .await
        .expect("roster did not start in time");
        let setup_link = if with_accounts {
            None
        } else {
            let line = tokio::time::timeout(START_DEADLINE, lines.next_line())
                .await
                .expect("no setup line")
                .unwrap()
                .unwrap_or_default();
            line.split_whitespace()
                .find(|word| word.contains("setup="))
                .map(str::to_owned)
        };
        let mut browser = Browser::new(&address);
        if with_accounts {
            self.seed_users();
            browser.sign_in(username(Role::Hr), PASSWORD).await;
        }
        TestApp {
            browser,
            setup_link,
            process,
            logs,
            workdir,
        }
    }

    /// A `roster` command against this test's database and index.
    fn cli(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
        command
            .args(args)
            .current_dir(std::env::temp_dir())
            .env("DATABASE_URL", &self.database_url)
            .env_remove("VALKEY_URL")
            .env("RUST_LOG", "error");
        if let Some(valkey) = &self.valkey {
            command.env("VALKEY_URL", &valkey.url);
        }
        command
    }

    pub fn run_cli(&self, args: &[&str]) -> std::process::Output {
        self.cli(args).output().unwrap()
    }

    /// Runs a `roster` command with `stdin` as its standard input.
    pub fn run_cli_with_input(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = self
            .cli(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Starts an app whose Valkey is reached through a proxy the test can cut.
    pub async fn spawn_behind_proxy(&self) -> (TcpProxy, TestApp) {
        let valkey = self.valkey.as_ref().expect("a Valkey backend");
        let proxy = TcpProxy::start(valkey.host_port()).await;
        let app = self
            .spawn_with_valkey(Some(valkey.url_through(&proxy)))
            .await;
        (proxy, app)
    }

    /// On Valkey, checks that nothing claims this ID and e-mail any more.
    pub async fn assert_claims_free(&self, employee_id: &str, email: &str) {
        if let Some(valkey) = &self.valkey {
            assert_eq!(
                valkey
                    .get(&format!("roster:employee_id:{employee_id}"))
                    .await,
                None
            );
            assert_eq!(valkey.get(&format!("roster:email:{email}")).await, None);
        }
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn database(&self) -> DirectDb {
        match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://");
                let mut connection = SqliteConnection::establish(path).unwrap();
                connection
                    .batch_execute("PRAGMA busy_timeout = 5000")
                    .unwrap();
                DirectDb::Sqlite(connection)
            }
            Backend::Postgres => DirectDb::Pg(PgConnection::establish(&self.database_url).unwrap()),
        }
    }
}

impl Drop for TestEnv {
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

/// The database as outside tools see it: rows written behind the app's back.
pub enum DirectDb {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl DirectDb {
    pub fn execute(&mut self, sql: &str) {
        match self {
            DirectDb::Pg(connection) => connection.batch_execute(sql).unwrap(),
            DirectDb::Sqlite(connection) => connection.batch_execute(sql).unwrap(),
        }
    }

    /// `sql` selects one integer column named `n`.
    pub fn count(&mut self, sql: &str) -> i64 {
        let query = diesel::sql_query(sql);
        match self {
            DirectDb::Pg(connection) => query.get_result::<Count>(connection).unwrap().n,
            DirectDb::Sqlite(connection) => query.get_result::<Count>(connection).unwrap().n,
        }
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
    pub upstream: String,
    database: i64,
}

impl TestValkey {
    pub async fn new() -> Self {
        let upstream = required_env("ROSTER_TEST_VALKEY_URL");
        let client = redis::Client::open(upstream.as_str()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let next: i64 = redis::cmd("INCR")
            .arg("roster-test:next-database")
            .query_async(&mut connection)
            .await
            .unwrap();
        // The server runs with 10000 databases; 0 holds only the counter.
        let database = 1 + next % 9_999;
        let valkey = Self {
            url: format!("{upstream}/{database}"),
            upstream,
            database,
        };
        valkey.flush().await;
        valkey
    }

    pub fn host_port(&self) -> String {
        self.upstream.trim_start_matches("redis://").to_owned()
    }

    pub fn url_through(&self, proxy: &TcpProxy) -> String {
        format!("redis://{}/{}", proxy.address, self.database)
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }

    /// As if Valkey restarted: it keeps nothing on disk.
    pub async fn flush(&self) {
        let mut connection = self.connection().await;
        let _: () = redis::cmd("FLUSHDB")
            .query_async(&mut connection)
            .await
            .unwrap();
    }

    /// Forgets every loaded script, as a restarted Valkey has.
    pub async fn flush_scripts(&self) {
        let mut connection = self.connection().await;
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut connection)
            .await
            .unwrap();
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        let mut connection = self.connection().await;
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection)
            .await
            .unwrap()
    }
}

/// A TCP proxy that can take a dependency away from a running app: `cut` closes every
/// connection and refuses new ones at once; `stall` keeps connections open but holds
/// back every byte, like a dead link; `restore` ends either.
pub struct TcpProxy {
    pub address: String,
    up: Arc<AtomicBool>,
    /// Connections turned away while cut.
    refused: Arc<std::sync::atomic::AtomicUsize>,
    stalled: watch::Sender<bool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut stalled: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if stalled.wait_for(|stalled| !stalled).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

impl TcpProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (stalled, _) = watch::channel(false);
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let up = Arc::clone(&up);
            let refused = Arc::clone(&refused);
            let stalled = stalled.clone();
            let connections = Arc::clone(&connections);
            async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        refused.fetch_add(1, Ordering::SeqCst);
                        continue; // dropping the socket closes it
                    }
                    let upstream = upstream.clone();
                    let stalled = stalled.subscribe();
                    let connection = tokio::spawn(async move {
                        let Ok(outbound) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        let (in_read, in_write) = inbound.into_split();
                        let (out_read, out_write) = outbound.into_split();
                        tokio::join!(
                            pump(in_read, out_write, stalled.clone()),
                            pump(out_read, in_write, stalled)
                        );
                    });
                    connections.lock().await.push(connection);
                }
            }
        });
        Self {
            address,
            up,
            refused,
            stalled,
            connections,
            accept,
        }
    }

    pub async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().await.drain(..) {
            connection.abort();
        }
    }

    pub fn stall(&self) {
        self.stalled.send_replace(true);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
        self.stalled.send_replace(false);
    }

    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// What an app wrote to standard error, a line each.
pub type Logs = Arc<std::sync::Mutex<Vec<String>>>;

pub struct TestApp {
    browser: Browser,
    pub setup_link: Option<String>,
    process: Child,
    logs: Logs,
    workdir: PathBuf,
}

impl TestApp {
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as `docker stop` does.
    pub fn terminate(&self) {
        let pid = self.process.id().expect("the app is running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    pub async fn exit_status(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.process.wait())
            .await
            .expect("the app did not exit in time")
            .unwrap()
    }
}

/// The app as one browser sees it, signed in as the HR account unless asked otherwise.
impl Deref for TestApp {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.browser
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.workdir);
    }
}

impl TestApp {
    /// Another browser, signed in as the seeded account of `role`.
    pub async fn browser(&self, role: Role) -> Browser {
        let mut browser = Browser::new(&self.browser.address);
        browser.sign_in(username(role), PASSWORD).await;
        browser
    }

    /// Another browser, signed in as nobody.
    pub fn anonymous(&self) -> Browser {
        Browser::new(&self.browser.address)
    }
}

pub fn employee_form(employee_id: &str, email: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("employee_id", employee_id.to_owned()),
        ("first_name", "Ann".to_owned()),
        ("last_name", "Lee".to_owned()),
        ("email", email.to_owned()),
        ("hire_date", "2024-03-01".to_owned()),
    ])
}

/// The value of the first `name="…"` field in a page.
pub fn field_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

/// Cookies, and the session's CSRF token, like one browser tab.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
    pub csrf_token: String,
}

impl Browser {
    fn new(address: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A request held up by a stalled dependency fails the test, never hangs it.
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            address: address.to_owned(),
            client,
            csrf_token: String::new(),
        }
    }

    /// Reads the CSRF token from the sign-in page, as a browser would have it.
    pub async fn open_login(&mut self) -> String {
        let page = self.get_html("/login").await;
        self.csrf_token =
            field_value(&page, "csrf_token").expect("the sign-in form has a CSRF token");
        page
    }

    pub async fn try_sign_in(&mut self, username: &str, password: &str) -> reqwest::Response {
        self.open_login().await;
        let form = [("username", username), ("password", password)];
        self.post_form("/login", &form).await
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) {
        let response = self.try_sign_in(username, password).await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "{username} could not sign in"
        );
        // Signing in starts a new session with a new token.
        let page = self.get_html("/employees").await;
        self.csrf_token = field_value(&page, "csrf_token").expect("pages carry the CSRF token");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts a form with this session's CSRF token, as the app's own pages do.
    pub async fn post_form<K: serde::Serialize, V: serde::Serialize>(
        &self,
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response {
        let mut body = serde_urlencoded::to_string(fields).unwrap();
        body.push_str(&format!("&csrf_token={}", self.csrf_token));
        self.post_raw(path, body).await
    }

    /// Posts exactly this urlencoded body: no token added.
    pub async fn post_raw(&self, path: &str, body: String) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a CSV file to the import page, with this session's CSRF token.
    pub async fn upload_csv(&self, csv: &str, dry_run: bool) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new()
            .text("csrf_token", self.csrf_token.clone())
            .part(
                "file",
                reqwest::multipart::Part::text(csv.to_owned())
                    .file_name("employees.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            );
        if dry_run {
            form = form.text("dry_run", "1");
        }
        self.client
            .post(self.url("/employees/import"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_employee(&self, form: &HashMap<&'static str, String>) -> reqwest::Response {
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post_form("/employees", &fields).await
    }

    /// Adds an employee through the form, like a person would, and returns the page
    /// the browser lands on.
    pub async fn add_employee(&self, employee_id: &str, email: &str) -> String {
        self.follow(self.post_employee(&employee_form(employee_id, email)).await)
            .await
    }

    /// Follows a `303` like a browser, returning the page it leads to.
    pub async fn follow(&self, response: reqwest::Response) -> String {
        assert_eq!(response.status().as_u16(), 303, "expected a redirect");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        self.get_html(&location).await
    }

    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.get_html("/metrics").await;
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in {text}"))
    }

    pub async fn readyz_status(&self) -> u16 {
        self.get("/readyz").await.status().as_u16()
    }

    pub async fn wait_until_index_ready(&self) {
        eventually("the index to be ready", Duration::from_secs(20), || async {
            (self.metric("roster_index_ready").await == 1).then_some(())
        })
        .await;
    }
}

/// Runs the test function once per backend, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}
