//! Duplicates in every spelling are named; the guarantee itself is in `invariants.rs`.

use crate::on_both_backends;
use crate::support::{Backend, TestApp, employee_form};

on_both_backends!(
    the_same_id_in_other_case_and_spacing_is_a_conflict_naming_the_record,
    the_same_email_in_other_case_is_a_conflict,
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
