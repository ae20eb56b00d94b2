//! The duplicate guarantee of DESIGN.md, one test per invariant and named after it
//! (invariant 8 is not built yet). Each runs on both backends where it stores things.

use futures_util::future::join_all;
use roster::domain::Role;

use crate::on_both_backends;
use crate::support::{Backend, RECOVERY, TestApp, edit_fields, employee_form, eventually};

on_both_backends!(
    the_database_is_the_truth,
    valkey_answers_first,
    races_have_one_winner,
    nothing_sticks_that_should_not,
    every_write_is_audited,
    no_lost_updates,
);

/// What the form page says when the index holds a reservation nobody has confirmed.
const BEING_ADDED: &str = "Another submission is adding a record with it right now";

fn outside_row(employee_id: &str, email: &str) -> String {
    format!(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date) \
         VALUES ('{employee_id}', 'Out', 'Side', '{email}', '2020-01-01')"
    )
}

/// Invariant 1: a record written behind the app's back is unknown to the index, yet its
/// ID and e-mail are refused: the unique indexes decide. They refuse a duplicate
/// whoever writes it, the app or not.
async fn the_database_is_the_truth(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.database()
        .execute(&outside_row("X-1", "Outside@Example.com"));

    let by_id = app
        .post_employee(&employee_form("x-1", "fresh@example.com"))
        .await;
    let by_email = app
        .post_employee(&employee_form("X-2", "outside@example.com"))
        .await;

    for response in [by_id, by_email] {
        assert_eq!(response.status().as_u16(), 409);
        let page = response.text().await.unwrap();
        assert!(page.contains("href=\"/employees/X-1\""), "{page}");
    }
    let mut db = app.database();
    assert_eq!(db.count("SELECT count(*) AS n FROM employees"), 1);
    for (employee_id, email) in [("X-1", "other@example.com"), ("X-3", "OUTSIDE@example.com")] {
        let refused = db
            .try_execute(&outside_row(employee_id, email))
            .expect_err("the database stored a duplicate");
        assert!(
            refused.to_string().to_lowercase().contains("unique"),
            "{employee_id}, {email}: {refused}"
        );
    }
    // An ID is stored only in its one spelling, so that one ID has one row.
    let refused = db
        .try_execute(&outside_row("x-4", "x4@example.com"))
        .expect_err("the database stored an ID in another spelling");
    assert!(
        refused
            .to_string()
            .contains("employees_employee_id_normalized"),
        "{refused}"
    );
    // The failed attempts released their reservations: a fresh record still goes in.
    assert_eq!(
        app.post_employee(&employee_form("X-2", "fresh@example.com"))
            .await
            .status()
            .as_u16(),
        303
    );
}

/// Invariant 2: with the index ready, a taken ID or e-mail is turned away by the index
/// alone: every database call goes through the store, which counts them in `/metrics`.
/// On Valkey the confirmed key names the record and never expires.
async fn valkey_answers_first(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-7", "seven@example.com").await;
    let calls_before = app.metric("roster_store_calls_total").await;

    for (id, email) in [("e-7", "new@example.com"), ("E-8", "SEVEN@example.com")] {
        let response = app.post_employee(&employee_form(id, email)).await;
        assert_eq!(response.status().as_u16(), 409);
    }

    assert_eq!(app.metric("roster_store_calls_total").await, calls_before);
    assert_eq!(app.metric("roster_index_rejections_total").await, 2);
    if let Some(valkey) = app.valkey() {
        for key in ["roster:employee_id:E-7", "roster:email:seven@example.com"] {
            assert_eq!(valkey.get(key).as_deref(), Some("E-7"), "{key}");
            assert_eq!(valkey.ttl_millis(key), -1, "{key} has an expiry");
        }
    }
}

/// Invariant 3: fifty submissions of one new ID at once, through two app processes: one
/// record, the winner's; every other answer is a 409 on the ID that names that record
/// or says it is being added, and only the winner left an audit entry.
async fn races_have_one_winner(backend: Backend) {
    let first = TestApp::on(backend).spawn().await;
    let second = first.replica().spawn().await;
    let apps = [&first, &second];

    let submissions = (0..50).map(|n| {
        let app = apps[n % 2];
        let email = format!("racer{n}@example.com");
        let form = employee_form(if n % 3 == 0 { "race-1" } else { "RACE-1" }, &email);
        async move {
            let response = app.post_employee(&form).await;
            let status = response.status().as_u16();
            (email, status, response.text().await.unwrap())
        }
    });
    let answers = join_all(submissions).await;

    let statuses: Vec<u16> = answers.iter().map(|(_, status, _)| *status).collect();
    let (winners, losers): (Vec<_>, Vec<_>) =
        answers.iter().partition(|(_, status, _)| *status == 303);
    assert_eq!(winners.len(), 1, "{statuses:?}");
    for (email, status, page) in &losers {
        assert_eq!(*status, 409, "{email}: {page}");
        assert!(page.contains("id=\"employee_id-error\""), "{email}: {page}");
        assert!(
            page.contains("href=\"/employees/RACE-1\"") || page.contains(BEING_ADDED),
            "{email} names no holder: {page}"
        );
    }
    let winner = &winners[0].0;
    let mut db = first.database();
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM employees WHERE employee_id = 'RACE-1' AND email = '{winner}'"
        )),
        1,
        "the record is the winner's"
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM audit_events"), 1);
    if backend == Backend::Postgres {
        // The winner's ID is confirmed in the shared index: from either app, a later
        // duplicate needs no query. (Each embedded app has an index of its own.)
        for app in apps {
            app.assert_rejected_without_a_query("race-1", "late@example.com")
                .await;
        }
    }
}

/// Invariant 4: a failed insert releases its reservation; a crash between reservation
/// and commit leaves one that expires. (That a removal or a new ID or e-mail frees the
/// old claims is shown in `edits.rs`.)
async fn nothing_sticks_that_should_not(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let mut failing = employee_form("E-9", "nine@example.com");
    failing.insert("manager_id", "E-404".into());
    assert_eq!(app.post_employee(&failing).await.status().as_u16(), 422);

    app.assert_claims_free("E-9", "nine@example.com").await;
    let response = app
        .post_employee(&employee_form("E-9", "nine@example.com"))
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "the ID and e-mail are free again"
    );
    // The new record's claims are confirmed, not left pending: a duplicate is turned
    // away by the index alone, naming the record.
    app.assert_rejected_without_a_query("E-9", "other@example.com")
        .await;
    if let Some(valkey) = app.valkey() {
        assert_eq!(valkey.get("roster:employee_id:E-9").as_deref(), Some("E-9"));
    }

    if backend == Backend::Postgres {
        a_crash_between_reservation_and_commit_leaves_a_claim_that_expires().await;
    }
}

/// Only Valkey outlives the process that reserved in it. The app's insert is held up
/// at a stalled database, the app is killed, and what it reserved must still carry
/// its expiry; meanwhile it is a claim like any other, and nothing was stored.
async fn a_crash_between_reservation_and_commit_leaves_a_claim_that_expires() {
    let app = TestApp::on(Backend::Postgres)
        .with_database_proxy()
        .spawn()
        .await;
    let valkey = app.valkey().unwrap();
    let key = "roster:employee_id:C-1";
    app.database_proxy().stall();

    let form = employee_form("C-1", "crash@example.com");
    let stuck = app.post_employee(&form);
    let pending = eventually("the reservation", RECOVERY, || async {
        valkey
            .get(key)
            .filter(|value| value.starts_with("pending:"))
    });
    let pending = tokio::select! {
        response = stuck => panic!("answered with the database stalled: {response:?}"),
        pending = pending => pending,
    };
    app.crash();
    // What the stalled link held back must never reach the database.
    app.database_proxy().cut().await;

    // The app reserves for 10 s.
    let left = valkey.ttl_millis(key);
    assert!(
        (1..=10_000).contains(&left),
        "{key} = {pending} expires in {left} ms"
    );
    let replica = app.replica().spawn().await;
    let meanwhile = replica
        .post_employee(&employee_form("C-1", "other@example.com"))
        .await;
    assert_eq!(meanwhile.status().as_u16(), 409);
    assert!(meanwhile.text().await.unwrap().contains(BEING_ADDED));
    assert_eq!(replica.database().employees_with_id("C-1"), 0);
}

/// Invariant 5: with Valkey cut off, the database keeps the guarantee and `/readyz`
/// names the index; when Valkey is back the index is rebuilt without a restart. (The
/// in-process index of SQLite lives and dies with the app.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_can_die() {
    let app = TestApp::on(Backend::Postgres)
        .with_valkey_proxy()
        .spawn()
        .await;
    app.add_employee("E-1", "one@example.com").await;
    assert_eq!(app.readyz_status().await, 200);

    app.valkey_proxy().cut().await;
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
        app.database().count("SELECT count(*) AS n FROM employees"),
        2
    );

    let rebuilds = app.metric("roster_index_rebuilds_total").await;
    app.valkey_proxy().restore();
    app.wait_for_rebuild_after(rebuilds).await;
    assert_eq!(app.readyz_status().await, 200);
    // E-2 was stored while Valkey was away; the rebuild taught the index about it.
    app.assert_rejected_without_a_query("E-2", "new@example.com")
        .await;
}

fn audit_count(app: &TestApp) -> i64 {
    app.database()
        .count("SELECT count(*) AS n FROM audit_events")
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// Invariant 6: each write leaves exactly its entry: who, when, and the fields it
/// changed, old and new. A rejected write or a save without a change leaves none.
async fn every_write_is_audited(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let day_before = today();

    app.add_employee("E-1", "one@example.com").await;
    assert_eq!(audit_count(&app), 1);
    let created = app.database().count(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'create' AND actor = 'hr-staff' \
         AND subject = 'E-1' AND changes LIKE '%\"field\":\"email\",\"new\":\"one@example.com\"%'",
    );
    assert_eq!(created, 1);

    // Rejected writes leave nothing.
    assert_eq!(
        app.post_employee(&employee_form("E-1", "x@example.com"))
            .await
            .status()
            .as_u16(),
        409
    );
    assert_eq!(
        app.post_employee(&employee_form("E-2", "bad"))
            .await
            .status()
            .as_u16(),
        422
    );
    assert_eq!(audit_count(&app), 1);

    let mut renamed = employee_form("E-10", "one@example.com");
    renamed.insert("job_title", "Payroll".into());
    app.follow(
        app.post_form("/employees/E-1", &edit_fields(&renamed, "1"))
            .await,
    )
    .await;
    assert_eq!(audit_count(&app), 2);
    let update = app.database().count(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'update' AND subject = 'E-10' \
         AND changes LIKE '%\"field\":\"employee_id\",\"old\":\"E-1\",\"new\":\"E-10\"%' \
         AND changes LIKE '%\"field\":\"job_title\",\"new\":\"Payroll\"%' \
         AND changes NOT LIKE '%first_name%'",
    );
    assert_eq!(update, 1, "only the changed fields, old and new");

    // Saving without a change is no write.
    app.follow(
        app.post_form("/employees/E-10", &edit_fields(&renamed, "2"))
            .await,
    )
    .await;
    assert_eq!(audit_count(&app), 2);

    let history = app.get_html("/employees/E-10/history").await;
    let day_after = today();
    assert!(
        history.contains("<strong>Added</strong>: E-1, by hr-staff"),
        "{history}"
    );
    assert!(history.contains("<strong>Changed</strong>: E-10, by hr-staff"));
    assert!(
        [day_before, day_after]
            .iter()
            .any(|day| history.contains(&format!("by hr-staff, {day} "))),
        "each entry says when, in UTC: {history}"
    );
    assert!(
        app.get_html("/employees/E-10")
            .await
            .contains("href=\"/employees/E-10/history\"")
    );

    let admin = app.browser(Role::Admin).await;
    let removed = admin
        .post_form("/employees/E-10/delete", &[("version", "2")])
        .await;
    assert_eq!(removed.status().as_u16(), 303);
    assert_eq!(audit_count(&app), 3);
    let deleted = app.database().count(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'delete' AND actor = 'admin' \
         AND changes LIKE '%\"field\":\"last_name\",\"old\":\"Lee\"}%'",
    );
    assert_eq!(deleted, 1, "what was removed, and by whom");
    let history = admin.get_html("/employees/E-10/history").await;
    assert!(
        history.contains("<strong>Removed</strong>: E-10, by admin"),
        "the history outlives the record"
    );
}

/// Invariant 7: two people edit the record opened at version 1: the second save is
/// refused, keeps what they typed, and overwrites nothing.
async fn no_lost_updates(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;
    let colleague = app.browser(Role::Admin).await;

    let mut first = employee_form("E-1", "one@example.com");
    first.insert("first_name", "First".into());
    assert_eq!(
        app.post_form("/employees/E-1", &edit_fields(&first, "1"))
            .await
            .status()
            .as_u16(),
        303
    );
    let mut second = employee_form("E-1", "one@example.com");
    second.insert("first_name", "Second".into());
    let stale = colleague
        .post_form("/employees/E-1", &edit_fields(&second, "1"))
        .await;

    assert_eq!(stale.status().as_u16(), 409);
    let page = stale.text().await.unwrap();
    assert!(page.contains("Someone else changed this record"), "{page}");
    assert!(
        page.contains("value=\"Second\""),
        "what was typed is kept to copy from"
    );
    let mut db = app.database();
    assert_eq!(
        db.count("SELECT count(*) AS n FROM employees WHERE first_name = 'First' AND version = 2"),
        1
    );
}
