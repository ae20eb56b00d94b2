//! A dependency goes away and comes back: with Valkey gone (possibly coming back empty)
//! the app stays correct and rebuilds the index without a restart (DESIGN.md,
//! invariant 5, whose own test is in `invariants.rs`); with PostgreSQL gone it answers
//! 503 and loses nothing it said it stored.

use std::collections::BTreeSet;

use futures_util::future::join_all;

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

async fn create(app: &TestApp, id: &str) -> u16 {
    let form = employee_form(id, &format!("{}@example.com", id.to_lowercase()));
    app.post_employee(&form).await.status().as_u16()
}

/// Creates of `ids` at once, each answered with its status.
async fn create_all(app: &TestApp, ids: &[String]) -> Vec<(String, u16)> {
    join_all(
        ids.iter()
            .map(|id| async move { (id.clone(), create(app, id).await) }),
    )
    .await
}

fn ids(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}-{n}")).collect()
}

fn with_status(answers: &[(String, u16)], status: u16) -> BTreeSet<String> {
    answers
        .iter()
        .filter(|(_, answered)| *answered == status)
        .map(|(id, _)| id.clone())
        .collect()
}

/// SQLite is a file and cannot go away; PostgreSQL can. While it is cut off every
/// request answers 503 with the error page; once it is back the same app answers 200,
/// every record that got a 303 is stored, and none that got a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_cut_off_requests_answer_503_and_nothing_answered_303_is_lost() {
    let app = TestApp::on(Backend::Postgres)
        .with_database_proxy()
        .spawn()
        .await;
    let before = create_all(&app, &ids("UP", 5)).await;
    assert_eq!(with_status(&before, 303).len(), 5, "{before:?}");
    assert_eq!(app.get("/employees").await.status().as_u16(), 200);

    app.database_proxy().cut().await;
    let refused = ids("DOWN", 5);
    // At once: each waits out the pool's connection timeout.
    let (during, page, readyz) = tokio::join!(
        create_all(&app, &refused),
        app.get("/employees"),
        app.readyz_status()
    );

    assert_eq!(with_status(&during, 503).len(), 5, "{during:?}");
    assert_eq!(page.status().as_u16(), 503);
    let page = page.text().await.unwrap();
    assert!(page.contains("Temporarily unavailable"), "{page}");
    assert_eq!(readyz, 503);

    app.database_proxy().restore();
    eventually("pages to answer 200 again", RECOVERY, || async {
        (app.get("/employees").await.status().as_u16() == 200).then_some(())
    })
    .await;
    let after = create_all(&app, &ids("BACK", 5)).await;
    assert_eq!(with_status(&after, 303).len(), 5, "{after:?}");

    let mut db = app.database();
    let stored: BTreeSet<String> = db
        .texts("SELECT employee_id AS s FROM employees")
        .into_iter()
        .collect();
    let answered_303: BTreeSet<String> = [&before, &after]
        .into_iter()
        .flat_map(|answers| with_status(answers, 303))
        .collect();
    assert_eq!(stored, answered_303, "stored exactly what was answered 303");
    let mut audited = db.texts("SELECT subject AS s FROM audit_events");
    audited.sort();
    assert_eq!(
        audited,
        Vec::from_iter(stored),
        "one audit entry per stored record, none for a refused one"
    );
    // What the outage refused left no claim that sticks: each goes in, at the latest
    // once a reservation whose answer came too late (Valkey's 200 ms, on a busy
    // machine) has expired, as a crashed one would.
    for id in &refused {
        eventually(&format!("{id} to go in"), RECOVERY, || async {
            match create(&app, id).await {
                303 => Some(()),
                409 => None,
                other => panic!("{id} answered {other}"),
            }
        })
        .await;
    }
}
