//! What an admin running Roster relies on: the health command, request ids, logs,
//! metrics, the client address behind a proxy, waiting for the database at start, and
//! a graceful shutdown.

use std::time::Duration;

use crate::on_both_backends;
use crate::support::{Backend, Browser, PASSWORD, TestApp, employee_form, eventually};

on_both_backends!(
    health_answers_for_a_running_server_and_fails_for_none,
    every_answer_carries_a_request_id,
    metrics_count_requests_by_route_and_status,
    json_logs_give_one_object_per_request_without_secrets,
    forwarded_addresses_are_believed_only_from_trusted_proxies,
    a_request_in_flight_completes_after_sigterm,
);

async fn health_answers_for_a_running_server_and_fails_for_none(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;

    let alive = app.run_cli(&["health", "--url", &app.url("")]);
    assert!(alive.status.success(), "{alive:?}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dead = app.run_cli(&["health", "--url", &closed]);
    assert_eq!(dead.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dead.stderr).contains("could not reach"));
}

async fn every_answer_carries_a_request_id(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let request_id = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };

    let first = request_id(&app.get("/employees").await);
    let second = request_id(&app.get("/employees").await);
    assert_ne!(first, second);
    assert!(!first.is_empty() && first.len() <= 64);

    let own = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "trace-42_a")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&own), "trace-42_a");
    let unusable = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "not allowed!")
        .send()
        .await
        .unwrap();
    assert_ne!(request_id(&unusable), "not allowed!");
}

async fn metrics_count_requests_by_route_and_status(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("M-1", "m1@example.com").await;
    let duplicate = app
        .post_employee(&employee_form("M-1", "m2@example.com"))
        .await;
    assert_eq!(duplicate.status().as_u16(), 409);

    let text = app.get_html("/metrics").await;
    for expected in [
        r#"roster_http_requests_total{method="POST",route="/employees",status="303"} 1"#,
        r#"roster_http_requests_total{method="POST",route="/employees",status="409"} 1"#,
        r#"roster_http_request_duration_seconds_count{route="/employees"} "#,
        r#"roster_http_request_duration_seconds_bucket{route="/employees",le="0.001"} "#,
        r#"roster_http_request_duration_seconds_bucket{route="/employees",le="+Inf"} "#,
        r#"roster_build_info{version=""#,
        r#"roster_db_pool_connections{state="in_use"}"#,
        "roster_db_pool_waiting 0",
        r#"roster_index_state{state="ready"} 1"#,
        "roster_http_requests_in_flight 1",
    ] {
        assert!(text.contains(expected), "no {expected} in:\n{text}");
    }
}

async fn json_logs_give_one_object_per_request_without_secrets(backend: Backend) {
    let app = TestApp::on(backend)
        .with_env("ROSTER_LOG_FORMAT", "json")
        .with_env("RUST_LOG", "info")
        .spawn()
        .await;
    let secret = "setup-token-that-must-not-be-logged";
    let response = app
        .client
        .get(app.url(&format!("/login?setup={secret}")))
        .header("X-Request-Id", "json-log-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let line = eventually("the request's log line", Duration::from_secs(10), || {
        let logs = app.logs();
        async move { logs.into_iter().find(|line| line.contains("json-log-1")) }
    })
    .await;
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON object");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["route"], "/login");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["request_id"], "json-log-1");
    assert!(entry["duration_ms"].is_number());
    for line in app.logs() {
        serde_json::from_str::<serde_json::Value>(&line)
            .unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(!line.contains(secret), "a secret in the log: {line}");
        assert!(
            !line.contains("0123456789abcdef"),
            "the key in the log: {line}"
        );
    }
}

/// Behind a proxy every request comes from the proxy's address: believed blindly, one
/// client's failures would lock out everyone; ignored, anyone could pick an address.
async fn forwarded_addresses_are_believed_only_from_trusted_proxies(backend: Backend) {
    let app = TestApp::on(backend)
        .with_env("ROSTER_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
        .spawn()
        .await;
    let attacker = "203.0.113.7";
    let sign_in = |browser: Browser,
                   from: &'static str,
                   username: String,
                   password: &'static str| async move {
        let mut browser = browser;
        browser.open_login().await;
        browser
            .client
            .post(browser.url("/login"))
            .header("X-Forwarded-For", format!("198.51.100.1, {from}"))
            .form(&[
                ("username", username.as_str()),
                ("password", password),
                ("csrf_token", browser.csrf_token.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // Each failure under another name, so only the address limit (50) is reached.
    let failures = futures_util::future::join_all((0..50).map(|n| {
        sign_in(
            app.anonymous(),
            attacker,
            format!("nobody{n}"),
            "wrong password",
        )
    }))
    .await;
    assert!(failures.iter().all(|status| *status == 401), "{failures:?}");

    let from_attacker = sign_in(app.anonymous(), attacker, "hr-staff".into(), PASSWORD).await;
    assert_eq!(from_attacker, 429, "the attacker's address is refused");
    let from_colleague =
        sign_in(app.anonymous(), "198.51.100.9", "hr-staff".into(), PASSWORD).await;
    assert_eq!(
        from_colleague, 303,
        "another client behind the same proxy is not"
    );
}

async fn a_request_in_flight_completes_after_sigterm(backend: Backend) {
    let mut app = TestApp::on(backend).spawn().await;
    // Failed sign-ins are slowed, which makes a request that is still running when the
    // signal arrives: the seventh failure in a row waits two seconds.
    let mut browser = app.anonymous();
    for _ in 0..6 {
        let status = browser
            .try_sign_in("hr-staff", "wrong password")
            .await
            .status();
        assert_eq!(status.as_u16(), 401);
    }
    browser.open_login().await;
    let slow = tokio::spawn(async move {
        browser
            .post_form(
                "/login",
                &[("username", "hr-staff"), ("password", "wrong password")],
            )
            .await
            .status()
            .as_u16()
    });
    eventually(
        "the slow request to be in flight",
        Duration::from_secs(10),
        || async {
            // This request itself is one of those in flight.
            (app.metric("roster_http_requests_in_flight").await >= 2).then_some(())
        },
    )
    .await;

    app.terminate();

    assert_eq!(
        slow.await.unwrap(),
        401,
        "the request in flight was answered"
    );
    let status = app.exit_status(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
}

/// A container stack may start Roster before PostgreSQL accepts connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_waits_for_a_database_that_is_not_up_yet() {
    let starting = TestApp::on(Backend::Postgres)
        .with_database_proxy()
        .with_env("RUST_LOG", "warn");
    let (proxy, logs) = (starting.database_proxy(), starting.logs());
    proxy.cut().await;

    let (app, ()) = tokio::join!(starting.spawn(), async {
        eventually("the app to say it waits", Duration::from_secs(20), || {
            let waiting = logs
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains("the database is not reachable yet (try 1)"));
            async move { waiting.then_some(()) }
        })
        .await;
        proxy.restore();
    });

    assert!(proxy.refused() > 0);
    assert_eq!(app.readyz_status().await, 200);
}
