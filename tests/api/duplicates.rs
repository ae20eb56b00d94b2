use futures_util::future::join_all;

use crate::on_both_backends;
use crate::support::{Backend, TestApp, employee_form};

on_both_backends!(
    the_same_id_in_other_case_and_spacing_is_a_conflict_naming_the_record,
    the_same_email_in_other_case_is_a_conflict,
    a_duplicate_is_rejected_by_the_index_without_a_database_query,
    a_failed_insert_leaves_no_reservation_behind,
    a_row_written_behind_the_apps_back_is_still_a_duplicate,
    fifty_simultaneous_submissions_through_two_apps_create_one_record,
);

async fn the_same_id_in_other_case_and_spacing_is_a_conflict_naming_the_record(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1001", "ann@example.com").await;

    let response = app
        .post_employee(&employee_form("  e-1001 ", "other@example.com"))
        .await;

    assert_eq!(response.status().as_u16(), 409);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<a href=\"/employees/E-1001\">E-1001</a>"),
        "{page}"
    );
    assert!(page.contains("id=\"employee_id-error\""));
    assert!(
        page.contains("value=\"other@example.com\""),
        "entered values are kept"
    );
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        1
    );
}

async fn the_same_email_in_other_case_is_a_conflict(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "Ann@Example.com").await;

    let response = app
        .post_employee(&employee_form("E-2", "ann@EXAMPLE.com"))
        .await;

    assert_eq!(response.status().as_u16(), 409);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"email-error\""), "{page}");
    assert!(page.contains("<a href=\"/employees/E-1\">E-1</a>"));
    assert_eq!(app.database().employees_with_id("E-2"), 0);
}

/// Every database call goes through the store, which counts them in `/metrics`.
async fn a_duplicate_is_rejected_by_the_index_without_a_database_query(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-7", "seven@example.com").await;
    let calls_before = app.metric("roster_store_calls_total").await;

    for (id, email) in [("e-7", "new@example.com"), ("E-8", "SEVEN@example.com")] {
        let response = app.post_employee(&employee_form(id, email)).await;
        assert_eq!(response.status().as_u16(), 409);
    }

    assert_eq!(app.metric("roster_store_calls_total").await, calls_before);
    assert_eq!(app.metric("roster_index_rejections_total").await, 2);
}

async fn a_failed_insert_leaves_no_reservation_behind(backend: Backend) {
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
    if let Some(valkey) = app.valkey() {
        assert_eq!(valkey.get("roster:employee_id:E-9").as_deref(), Some("E-9"));
    }
}

async fn a_row_written_behind_the_apps_back_is_still_a_duplicate(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.database().execute(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date) \
         VALUES ('X-1', 'Out', 'Side', 'Outside@Example.com', '2020-01-01')",
    );

    let by_id = app
        .post_employee(&employee_form("x-1", "fresh@example.com"))
        .await;
    let by_email = app
        .post_employee(&employee_form("X-2", "outside@example.com"))
        .await;

    assert_eq!(by_id.status().as_u16(), 409);
    assert_eq!(by_email.status().as_u16(), 409);
    assert!(by_email.text().await.unwrap().contains("/employees/X-1"));
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        1
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

async fn fifty_simultaneous_submissions_through_two_apps_create_one_record(backend: Backend) {
    let first = TestApp::on(backend).spawn().await;
    let second = first.replica().spawn().await;
    let apps = [&first, &second];

    let submissions = (0..50).map(|n| {
        let app = apps[n % 2];
        let form = employee_form(
            if n % 3 == 0 { "race-1" } else { "RACE-1" },
            &format!("racer{n}@example.com"),
        );
        async move { app.post_employee(&form).await.status().as_u16() }
    });
    let statuses = join_all(submissions).await;

    let created = statuses.iter().filter(|s| **s == 303).count();
    let conflicts = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, conflicts), (1, 49), "{statuses:?}");
    assert_eq!(first.database().employees_with_id("RACE-1"), 1);
    if backend == Backend::Postgres {
        // The winner's ID is confirmed in the shared index: from either app, a later
        // duplicate needs no query. (Each embedded app has an index of its own.)
        for app in apps {
            app.assert_rejected_without_a_query("race-1", "late@example.com")
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_forgets_records_removed_behind_the_apps_back() {
    let app = TestApp::on(Backend::Postgres).spawn().await;
    let valkey = app.valkey().unwrap();
    app.add_employee("E-1", "one@example.com").await;
    app.add_employee("E-2", "two@example.com").await;
    app.database()
        .execute("DELETE FROM employees WHERE employee_id = 'E-1'");

    let output = app.run_cli(&["reindex"]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("from 1 records"));
    assert_eq!(valkey.get("roster:employee_id:E-1"), None);
    assert_eq!(valkey.get("roster:email:one@example.com"), None);
    assert_eq!(valkey.get("roster:employee_id:E-2").as_deref(), Some("E-2"));
    let again = app
        .post_employee(&employee_form("E-1", "one@example.com"))
        .await;
    assert_eq!(again.status().as_u16(), 303);
}
