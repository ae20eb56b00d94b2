//! Valkey goes away and comes back, possibly empty: the app stays correct throughout
//! and rebuilds the index without a restart (DESIGN.md, invariant 5, whose own test is
//! in `invariants.rs`).

use crate::support::{Backend, RECOVERY, TestApp, employee_form, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_valkey_comes_back_empty_the_index_is_rebuilt_and_fast_rejection_returns() {
    let app = TestApp::on(Backend::Postgres).spawn().await;
    let valkey = app.valkey().unwrap();
    app.add_employee("E-1", "one@example.com").await;
    app.assert_rejected_without_a_query("E-1", "x@example.com")
        .await;
    let rebuilds = app.metric("roster_index_rebuilds_total").await;

    valkey.flush();

    // Whether or not the rebuild has run yet, a duplicate is refused.
    let meanwhile = app
        .post_employee(&employee_form("E-1", "y@example.com"))
        .await;
    assert_eq!(meanwhile.status().as_u16(), 409);
    app.wait_for_rebuild_after(rebuilds).await;
    app.assert_rejected_without_a_query("E-1", "z@example.com")
        .await;
    assert_eq!(valkey.get("roster:employee_id:E-1").as_deref(), Some("E-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_started_while_valkey_is_down_comes_up_and_uses_the_index_once_it_is_back() {
    let starting = TestApp::on(Backend::Postgres)
        .with_valkey_proxy()
        .without_waiting_for_the_index();
    starting.valkey_proxy().cut().await;

    let app = starting.spawn().await;
    assert_eq!(app.readyz_status().await, 503);
    app.database().execute(
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

    app.valkey_proxy().restore();
    app.wait_for_rebuild_after(0).await;
    app.assert_rejected_without_a_query("E-1", "new@example.com")
        .await;
    app.assert_rejected_without_a_query("E-2", "newer@example.com")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valkey_that_stops_answering_does_not_hold_up_requests() {
    let app = TestApp::on(Backend::Postgres)
        .with_valkey_proxy()
        .spawn()
        .await;
    app.add_employee("E-1", "one@example.com").await;

    app.valkey_proxy().stall();

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
    app.valkey_proxy().restore();
    app.wait_for_rebuild_after(rebuilds).await;
    app.assert_rejected_without_a_query("E-2", "new@example.com")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_removed_while_valkey_is_away_frees_its_id_once_it_is_back() {
    let app = TestApp::on(Backend::Postgres)
        .with_valkey_proxy()
        .spawn()
        .await;
    app.add_employee("E-1", "one@example.com").await;
    let admin = app.browser(roster::domain::Role::Admin).await;

    app.valkey_proxy().cut().await;
    eventually("/readyz to answer 503", RECOVERY, || async {
        (app.readyz_status().await == 503).then_some(())
    })
    .await;
    let removed = admin
        .post_form("/employees/E-1/delete", &[("version", "1")])
        .await;
    assert_eq!(removed.status().as_u16(), 303);

    let rebuilds = app.metric("roster_index_rebuilds_total").await;
    app.valkey_proxy().restore();
    app.wait_for_rebuild_after(rebuilds).await;
    app.assert_claims_free("E-1", "one@example.com").await;
    let again = app
        .post_employee(&employee_form("E-1", "one@example.com"))
        .await;
    assert_eq!(again.status().as_u16(), 303, "no stale claim turns it away");
}
