use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Backend, TestEnv};

fn roster() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    for variable in [
        "DATABASE_URL",
        "VALKEY_URL",
        "ROSTER_BIND",
        "ROSTER_SECRET_KEY",
    ] {
        command.env_remove(variable);
    }
    command.current_dir(std::env::temp_dir());
    command
}

/// Runs the command to its end, failing the test (not hanging it) if it keeps running,
/// as a server would if a bad setting were accepted.
fn finish(mut command: Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("roster kept running: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn help_names_every_command_and_setting() {
    let output = roster().arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "reindex",
        "DATABASE_URL",
        "VALKEY_URL",
        "ROSTER_BIND",
        "ROSTER_SECRET_KEY",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_that_says_how_to_fix_it() {
    let cases = [
        ("DATABASE_URL", "mysql://db", "postgres://"),
        ("ROSTER_BIND", "nowhere", "HOST:PORT"),
        ("ROSTER_SECRET_KEY", "short", "openssl rand"),
    ];
    for (variable, value, hint) in cases {
        let mut command = roster();
        command
            .env("ROSTER_BIND", "127.0.0.1:0")
            .env(variable, value);
        let output = finish(command);
        assert!(!output.status.success(), "{variable}={value} was accepted");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(hint), "{variable}: {stderr}");
    }
    let mut command = roster();
    command.env("DATABASE_URL", "postgres://roster@127.0.0.1:1/roster");
    let output = finish(command);
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("VALKEY_URL must be set")
    );
}

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = std::env::temp_dir().join(format!("roster-migrate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("fresh.db");

    let output = roster()
        .arg("migrate")
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(database.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Against PostgreSQL with password (SCRAM) authentication, commands used to die with
/// SIGSEGV about one run in ten after doing their work: r2d2 was still opening a
/// connection on its own thread, inside OpenSSL, when the exit handlers tore OpenSSL
/// down. Only a password-protected server runs that code, so this test needs one.
#[test]
fn every_command_exits_cleanly_against_a_password_protected_postgres() {
    const RUNS: usize = 50;
    let env = TestEnv::new(Backend::Postgres);
    assert!(
        env.database_url()
            .split_once('@')
            .is_some_and(|(credentials, _)| credentials.matches(':').count() == 2),
        "the app must connect with a password: {}",
        env.database_url()
    );
    let dir = std::env::temp_dir().join(format!("roster-exits-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();

    let mut failures = Vec::new();
    for run in 0..RUNS {
        let csv = dir.join(format!("import-{run}.csv"));
        std::fs::write(
            &csv,
            format!(
                "employee_id,first_name,last_name,email,hire_date\n\
                 X-{run},Ann,Lee,x{run}@example.com,2024-01-01\n"
            ),
        )
        .unwrap();
        let csv = csv.display().to_string();
        let exported = dir.join(format!("export-{run}.csv")).display().to_string();
        let user = format!("user{run}");
        let commands: [(&[&str], &str); 5] = [
            (&["migrate"], ""),
            (
                &["user", "add", &user, "--role", "viewer", "--password-stdin"],
                "a long enough password\n",
            ),
            (&["import", &csv], ""),
            (&["export", "--output", &exported], ""),
            (&["reindex"], ""),
        ];
        for (args, stdin) in commands {
            let output = env.run_cli_with_input(args, stdin);
            if !output.status.success() {
                failures.push(format!(
                    "run {run}: roster {}: {:?}\n{}",
                    args.join(" "),
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} command runs failed:\n{}",
        failures.len(),
        RUNS * 5,
        failures.join("\n")
    );
}
