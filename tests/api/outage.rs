//! Valkey goes away and comes back, possibly empty: the app stays correct throughout
//! and rebuilds the index without a restart (DESIGN.md, invariant 5).

use std::time::Duration;

use crate::helpers::{Backend, TcpProxy, TestApp, TestEnv, employee_form, eventually};

const RECOVERY: Duration = Duration::from_secs(15);

async fn rebuilt_after(app: &TestApp, rebuilds_before: u64) {
    eventually("the index to be rebuilt", RECOVERY, || async {
        let rebuilt = app.metric("roster_index_rebuilds_total").await > rebuilds_before;
        let ready = app.metric("roster_index_ready").await == 1;
        (rebuilt && ready).then_some(())
    })
    .await;
}

async fn rejected_without_a_query(app: &TestApp, id: &str, email: &str) {
    let before = app.metric("roster_store_calls_total").await;
    let response = app.post_employee(&employee_form(id, email)).await;
    assert_eq!(response.status().as_u16(), 409);
    assert_eq!(app.metric("roster_store_calls_total").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_valkey_cut_off_the_database_keeps_the_guarantee_and_readyz_says_so() {
    let env = TestEnv::new(Backend::Postgres).await;
    let (proxy, app) = env.spawn_behind_proxy().await;
    app.add_employee("E-1", "one@example.com").await;
    assert_eq!(app.readyz_status().await, 200);

    proxy.cut().await;
    eventually("/readyz to answer 503", RECOVERY, || async {
        (app.readyz_status().await == 503).then_some(())
    })
    .await;
    let readyz = app.get_html("/readyz").await;
    assert!(readyz.contains("index: unreachable"), "{readyz}");

    let duplicate = app
        .post_employee(&employee_form("e-1", "other@example.com"))
        .await;
    assert_eq!(duplicate.status().as_u16(), 409);
    assert!(duplicate.text().await.unwrap().contains("/employees/E-1"));
    let created = app
        .post_employee(&employee_form("E-2", "two@example.com"))
        .await;
    assert_eq!(created.status().as_u16(), 303);
    assert_eq!(
        env.database().count("SELECT count(*) AS n FROM employees"),
        2
    );

    let rebuilds = app.metric("roster_index_rebuilds_total").await;
    proxy.restore();
    rebuilt_after(&app, rebuilds).await;
    assert_eq!(app.readyz_status().await, 200);
    // E-2 was stored while Valkey was away; the rebuild taught the index about it.
    rejected_without_a_query(&app, "E-2", "new@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_valkey_comes_back_empty_the_index_is_rebuilt_and_fast_rejection_returns() {
    let env = TestEnv::new(Backend::Postgres).await;
    let valkey = env.valkey.as_ref().unwrap();
    let app = env.spawn().await;
    app.add_employee("E-1", "one@example.com").await;
    rejected_without_a_query(&app, "E-1", "x@example.com").await;
    let rebuilds = app.metric("roster_index_rebuilds_total").await;

    valkey.flush().await;

    // Whether or not the rebuild has run yet, a duplicate is refused.
    let meanwhile = app
        .post_employee(&employee_form("E-1", "y@example.com"))
        .await;
    assert_eq!(meanwhile.status().as_u16(), 409);
    rebuilt_after(&app, rebuilds).await;
    rejected_without_a_query(&app, "E-1", "z@example.com").await;
    assert_eq!(
        valkey.get("roster:employee_id:E-1").await.as_deref(),
        Some("E-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_started_while_valkey_is_down_comes_up_and_uses_the_index_once_it_is_back() {
    let env = TestEnv::new(Backend::Postgres).await;
    let valkey = env.valkey.as_ref().unwrap();
    let proxy = TcpProxy::start(valkey.host_port()).await;
    proxy.cut().await;

    let app = env
        .spawn_with_valkey_unready(valkey.url_through(&proxy))
        .await;
    assert_eq!(app.readyz_status().await, 503);
    env.database().execute(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date) \
         VALUES ('E-1', 'Ann', 'Lee', 'one@example.com', '2020-01-01')",
    );
    assert_eq!(
        app.post_employee(&employee_form("E-2", "two@example.com"))
            .await
            .status()
            .as_u16(),
        303
    );

    proxy.restore();
    rebuilt_after(&app, 0).await;
    rejected_without_a_query(&app, "E-1", "new@example.com").await;
    rejected_without_a_query(&app, "E-2", "newer@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valkey_that_stops_answering_does_not_hold_up_requests() {
    let env = TestEnv::new(Backend::Postgres).await;
    let (proxy, app) = env.spawn_behind_proxy().await;
    app.add_employee("E-1", "one@example.com").await;

    proxy.stall();

    // The client's 10 s timeout fails the test if the index holds the request.
    let duplicate = app
        .post_employee(&employee_form("e-1", "other@example.com"))
        .await;
    assert_eq!(duplicate.status().as_u16(), 409);
    let created = app
        .post_employee(&employee_form("E-2", "two@example.com"))
        .await;
    assert_eq!(created.status().as_u16(), 303);
    eventually("/readyz to answer 503", RECOVERY, || async {
        (app.readyz_status().await == 503).then_some(())
    })
    .await;

    let rebuilds = app.metric("roster_index_rebuilds_total").await;
    proxy.restore();
    rebuilt_after(&app, rebuilds).await;
    rejected_without_a_query(&app, "E-2", "new@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_removed_while_valkey_is_away_frees_its_id_once_it_is_back() {
    let env = TestEnv::new(Backend::Postgres).await;
    let (proxy, app) = env.spawn_behind_proxy().await;
    app.add_employee("E-1", "one@example.com").await;
    let admin = app.browser(roster::domain::Role::Admin).await;

    proxy.cut().await;
    eventually("/readyz to answer 503", RECOVERY, || async {
        (app.readyz_status().await == 503).then_some(())
    })
    .await;
    let removed = admin
        .post_form("/employees/E-1/delete", &[("version", "1")])
        .await;
    assert_eq!(removed.status().as_u16(), 303);

    let rebuilds = app.metric("roster_index_rebuilds_total").await;
    proxy.restore();
    rebuilt_after(&app, rebuilds).await;
    env.assert_claims_free("E-1", "one@example.com").await;
    let again = app
        .post_employee(&employee_form("E-1", "one@example.com"))
        .await;
    assert_eq!(again.status().as_u16(), 303, "no stale claim turns it away");
}
