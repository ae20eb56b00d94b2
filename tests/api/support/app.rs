//! Spawning the real `roster` binary on port 0 against a test's own database and index:
//! `TestApp::on(backend)…spawn()` for a fresh one, `app.replica()…spawn()` for another
//! process beside it.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use roster::domain::Role;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use super::accounts::{self, PASSWORD, username};
use super::browser::Browser;
use super::eventually;
use super::forms::employee_form;
use super::proxy::TcpProxy;
use super::services::{Backend, DirectDb, TestDatabase, TestValkey};

const SECRET_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long the loss or return of a dependency may take to show.
pub const RECOVERY: Duration = Duration::from_secs(15);

/// What an app wrote to standard error, a line each.
pub type Logs = Arc<std::sync::Mutex<Vec<String>>>;

/// One test's database and, on PostgreSQL, its Valkey database: what replicas share.
pub struct TestEnv {
    database: TestDatabase,
    valkey: Option<TestValkey>,
    accounts_seeded: AtomicBool,
}

impl TestEnv {
    /// For tests that run only commands; an app is spawned with `TestApp::on`.
    pub fn new(backend: Backend) -> Self {
        Self {
            database: TestDatabase::new(backend),
            valkey: (backend == Backend::Postgres).then(TestValkey::fresh),
            accounts_seeded: AtomicBool::new(false),
        }
    }

    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    pub fn database(&self) -> DirectDb {
        self.database.connect()
    }

    /// A `roster` command against this test's database and index.
    fn cli(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
        command
            .args(args)
            .current_dir(std::env::temp_dir())
            .env("DATABASE_URL", self.database.url())
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

    /// Once, after the first app has migrated the database.
    fn seed_accounts(&self) {
        if !self.accounts_seeded.swap(true, Ordering::SeqCst) {
            accounts::seed(&mut self.database());
        }
    }
}

/// How an app is to be started; `spawn` starts it.
pub struct AppBuilder {
    env: Arc<TestEnv>,
    valkey_proxy: Option<Arc<TcpProxy>>,
    database_proxy: Option<Arc<TcpProxy>>,
    accounts: bool,
    wait_for_index: bool,
    variables: Vec<(String, String)>,
    logs: Logs,
}

impl AppBuilder {
    fn new(env: Arc<TestEnv>) -> Self {
        Self {
            env,
            valkey_proxy: None,
            database_proxy: None,
            accounts: true,
            wait_for_index: true,
            variables: Vec::new(),
            logs: Logs::default(),
        }
    }

    /// The app reaches Valkey through a proxy the test can cut, stall and restore.
    pub fn with_valkey_proxy(mut self) -> Self {
        let valkey = self.env.valkey.as_ref().expect("a Valkey backend");
        self.valkey_proxy = Some(Arc::new(TcpProxy::start(valkey.host_port())));
        self
    }

    /// The app reaches PostgreSQL through a proxy; the test's own connections and
    /// commands do not.
    pub fn with_database_proxy(mut self) -> Self {
        let url = self.env.database_url();
        let (_, rest) = url.split_once('@').expect("a PostgreSQL URL with a host");
        let (upstream, _) = rest.split_once('/').unwrap();
        self.database_proxy = Some(Arc::new(TcpProxy::start(upstream)));
        self
    }

    /// A setting in the app's environment, over the suite's own.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.variables.push((name.to_owned(), value.to_owned()));
        self
    }

    /// No accounts at all: `TestApp::setup_link` then holds the first-administrator
    /// link the app printed, and the app's browser is signed in as nobody.
    pub fn without_accounts(mut self) -> Self {
        self.accounts = false;
        self
    }

    /// Returns once the app listens, even if its index is not ready (its Valkey cut).
    pub fn without_waiting_for_the_index(mut self) -> Self {
        self.wait_for_index = false;
        self
    }

    /// The Valkey proxy, to work on before the app starts or while it does.
    pub fn valkey_proxy(&self) -> Arc<TcpProxy> {
        Arc::clone(self.valkey_proxy.as_ref().expect("with_valkey_proxy"))
    }

    /// The database proxy, to work on before the app starts or while it does.
    pub fn database_proxy(&self) -> Arc<TcpProxy> {
        Arc::clone(self.database_proxy.as_ref().expect("with_database_proxy"))
    }

    /// The app's log lines from its very start, before `spawn` returns.
    pub fn logs(&self) -> Logs {
        Arc::clone(&self.logs)
    }

    fn database_url(&self) -> String {
        let url = self.env.database_url();
        match &self.database_proxy {
            Some(proxy) => {
                let (credentials, rest) = url.split_once('@').unwrap();
                let (_, database) = rest.split_once('/').unwrap();
                format!("{credentials}@{}/{database}", proxy.address)
            }
            None => url.to_owned(),
        }
    }

    fn valkey_url(&self) -> Option<String> {
        let valkey = self.env.valkey.as_ref()?;
        Some(match &self.valkey_proxy {
            Some(proxy) => valkey.url_through(&proxy.address),
            None => valkey.url.clone(),
        })
    }

    fn command(&self, workdir: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
        command
            .arg("serve")
            .current_dir(workdir)
            .env("DATABASE_URL", self.database_url())
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
        if let Some(url) = self.valkey_url() {
            command.env("VALKEY_URL", url);
        }
        command.envs(self.variables.iter().map(|(k, v)| (k, v)));
        command
    }

    pub async fn spawn(self) -> TestApp {
        let workdir = std::env::temp_dir().join(format!("roster-app-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&workdir).unwrap();
        let mut process = self
            .command(&workdir)
            .spawn()
            .expect("failed to start roster");
        forward_logs(&mut process, &self.logs);
        let mut stdout = BufReader::new(process.stdout.take().unwrap()).lines();
        let address = listening_address(&mut stdout).await;
        let mut browser = Browser::new(&address);
        let setup_link = if self.accounts {
            self.env.seed_accounts();
            browser.sign_in(username(Role::Hr), PASSWORD).await;
            None
        } else {
            setup_link(&mut stdout).await
        };
        if self.wait_for_index {
            wait_until_index_ready(&browser).await;
        }
        TestApp {
            process,
            browser,
            setup_link,
            logs: self.logs,
            valkey_proxy: self.valkey_proxy,
            database_proxy: self.database_proxy,
            workdir,
            env: self.env,
        }
    }
}

/// Echoes the app's standard error (so that a failing test shows it) into `logs`.
fn forward_logs(process: &mut Child, logs: &Logs) {
    let mut lines = BufReader::new(process.stderr.take().unwrap()).lines();
    let logs = Arc::clone(logs);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{line}");
            logs.lock().unwrap().push(line);
        }
    });
}

async fn listening_address(stdout: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(START_DEADLINE, async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if let Some(address) = line.strip_prefix("Roster listening on ") {
                return address.to_owned();
            }
        }
        panic!("roster exited before it listened");
    })
    .await
    .expect("roster did not start in time")
}

/// The line after the address, printed only while no account exists.
async fn setup_link(stdout: &mut Lines<BufReader<ChildStdout>>) -> Option<String> {
    let line = tokio::time::timeout(START_DEADLINE, stdout.next_line())
        .await
        .expect("no setup line")
        .unwrap()
        .unwrap_or_default();
    line.split_whitespace()
        .find(|word| word.contains("setup="))
        .map(str::to_owned)
}

async fn wait_until_index_ready(browser: &Browser) {
    eventually("the index to be ready", Duration::from_secs(20), || async {
        (browser.metric("roster_index_ready").await == 1).then_some(())
    })
    .await;
}

/// A running app, seen through one browser signed in as the HR account (unless started
/// `without_accounts`). Fields drop in order: the process dies before its database.
pub struct TestApp {
    process: Child,
    browser: Browser,
    pub setup_link: Option<String>,
    logs: Logs,
    valkey_proxy: Option<Arc<TcpProxy>>,
    database_proxy: Option<Arc<TcpProxy>>,
    workdir: PathBuf,
    env: Arc<TestEnv>,
}

impl TestApp {
    /// An app on a fresh database (and, on PostgreSQL, a fresh Valkey database).
    pub fn on(backend: Backend) -> AppBuilder {
        AppBuilder::new(Arc::new(TestEnv::new(backend)))
    }

    /// Another app process on the same database and index.
    pub fn replica(&self) -> AppBuilder {
        AppBuilder::new(Arc::clone(&self.env))
    }

    pub fn database(&self) -> DirectDb {
        self.env.database()
    }

    /// This test's Valkey database, on PostgreSQL; SQLite has the in-process index.
    pub fn valkey(&self) -> Option<&TestValkey> {
        self.env.valkey.as_ref()
    }

    pub fn run_cli(&self, args: &[&str]) -> std::process::Output {
        self.env.run_cli(args)
    }

    pub fn run_cli_with_input(&self, args: &[&str], stdin: &str) -> std::process::Output {
        self.env.run_cli_with_input(args, stdin)
    }

    /// A path in this app's own directory, which goes when the app does.
    pub fn file_path(&self, name: &str) -> PathBuf {
        self.workdir.join(name)
    }

    /// `roster import` of `csv` (written to a file of its own) with `flags`: its exit
    /// code and the report it printed.
    pub fn import_with_cli(&self, csv: &str, flags: &[&str]) -> (Option<i32>, String) {
        let path = self.file_path("import.csv");
        std::fs::write(&path, csv).unwrap();
        let output = self.run_cli(&[&["import", path.to_str().unwrap()], flags].concat());
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    pub fn valkey_proxy(&self) -> &TcpProxy {
        self.valkey_proxy.as_ref().expect("with_valkey_proxy")
    }

    pub fn database_proxy(&self) -> &TcpProxy {
        self.database_proxy.as_ref().expect("with_database_proxy")
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

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

    /// Checks that nothing holds this ID and e-mail, in the index or the database: a
    /// create with them gets as far as the insert, which fails on its unknown manager
    /// (422) instead of being turned away as a duplicate (409). On Valkey the keys
    /// must also be gone, not merely pending.
    pub async fn assert_claims_free(&self, employee_id: &str, email: &str) {
        if let Some(valkey) = self.valkey() {
            assert_eq!(
                valkey.get(&format!("roster:employee_id:{employee_id}")),
                None
            );
            assert_eq!(valkey.get(&format!("roster:email:{email}")), None);
        }
        let mut probe = employee_form(employee_id, email);
        probe.insert("manager_id", "NOBODY-0".into());
        let response = self.post_employee(&probe).await;
        let status = response.status().as_u16();
        let page = response.text().await.unwrap();
        assert_eq!(status, 422, "{employee_id} or {email} is held: {page}");
        assert!(page.contains("id=\"manager_id-error\""), "{page}");
    }

    /// Waits until the index was rebuilt since `/metrics` counted `rebuilds_before`
    /// rebuilds, and is ready again.
    pub async fn wait_for_rebuild_after(&self, rebuilds_before: u64) {
        eventually("the index to be rebuilt", RECOVERY, || async {
            let rebuilt = self.metric("roster_index_rebuilds_total").await > rebuilds_before;
            let ready = self.metric("roster_index_ready").await == 1;
            (rebuilt && ready).then_some(())
        })
        .await;
    }

    /// Checks that the index alone turns this create away: a 409 naming the record
    /// that holds the claim (confirmed, not merely pending), and no store call.
    pub async fn assert_rejected_without_a_query(&self, employee_id: &str, email: &str) {
        let before = self.metric("roster_store_calls_total").await;
        let response = self.post_employee(&employee_form(employee_id, email)).await;
        assert_eq!(response.status().as_u16(), 409, "{employee_id}, {email}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("It belongs to employee"),
            "{employee_id}, {email}: no holder named: {page}"
        );
        assert_eq!(
            self.metric("roster_store_calls_total").await,
            before,
            "{employee_id}, {email} cost a database query"
        );
    }

    /// Sends SIGTERM, as `docker stop` does.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// Sends SIGKILL: the process gets no chance to finish what it was doing.
    pub fn crash(&self) {
        self.signal("-KILL");
    }

    fn signal(&self, signal: &str) {
        let pid = self.process.id().expect("the app is running");
        let sent = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
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
