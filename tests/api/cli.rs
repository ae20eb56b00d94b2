use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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
