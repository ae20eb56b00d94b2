use roster::domain::Role;

use crate::on_both_backends;
use crate::support::{Backend, TestApp, edit_fields, employee_form, field_value};

on_both_backends!(
    changing_the_id_frees_the_old_one_and_claims_the_new_one,
    an_edit_cannot_take_another_records_email,
    removal_asks_first_then_frees_the_id_and_email,
    a_manager_cannot_be_removed_while_managing_others,
    a_managers_new_id_reaches_their_reports_with_a_new_version_and_an_audit_entry,
    a_change_behind_the_apps_back_makes_an_open_edit_form_stale,
);

async fn changing_the_id_frees_the_old_one_and_claims_the_new_one(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;

    let page = app.get_html("/employees/E-1/edit").await;
    assert_eq!(field_value(&page, "version").as_deref(), Some("1"));
    let saved = app
        .post_form(
            "/employees/E-1",
            &edit_fields(&employee_form("e-2", "One@Example.com"), "1"),
        )
        .await;
    assert_eq!(saved.headers()["location"], "/employees/E-2");
    assert!(app.follow(saved).await.contains("Employee E-2 was saved."));

    let before = app.metric("roster_store_calls_total").await;
    let taken = app
        .post_employee(&employee_form("E-2", "new@example.com"))
        .await;
    assert_eq!(taken.status().as_u16(), 409);
    let email_taken = app
        .post_employee(&employee_form("E-3", "one@example.com"))
        .await;
    assert_eq!(email_taken.status().as_u16(), 409);
    assert_eq!(
        app.metric("roster_store_calls_total").await,
        before,
        "the index knows the new claims"
    );
    let reused = app
        .post_employee(&employee_form("E-1", "another@example.com"))
        .await;
    assert_eq!(reused.status().as_u16(), 303, "the old ID is free");
    assert_eq!(app.get("/employees/E-2").await.status().as_u16(), 200);
}

async fn an_edit_cannot_take_another_records_email(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;
    app.add_employee("E-2", "two@example.com").await;

    let clash = app
        .post_form(
            "/employees/E-2",
            &edit_fields(&employee_form("E-2", "ONE@example.com"), "1"),
        )
        .await;

    assert_eq!(clash.status().as_u16(), 409);
    assert!(
        clash
            .text()
            .await
            .unwrap()
            .contains("<a href=\"/employees/E-1\">E-1</a>")
    );
    assert_eq!(
        app.database()
            .count("SELECT count(*) AS n FROM employees WHERE email = 'two@example.com'"),
        1
    );
    // The failed edit released what it reserved: E-2 can still be saved as it was.
    let unchanged = app
        .post_form(
            "/employees/E-2",
            &edit_fields(&employee_form("E-2", "two@example.com"), "1"),
        )
        .await;
    assert_eq!(unchanged.status().as_u16(), 303);
}

async fn removal_asks_first_then_frees_the_id_and_email(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;
    let admin = app.browser(Role::Admin).await;

    let confirm = admin.get_html("/employees/E-1/delete").await;
    assert!(confirm.contains("Remove E-1"), "{confirm}");
    assert_eq!(field_value(&confirm, "version").as_deref(), Some("1"));
    let removed = admin
        .post_form("/employees/E-1/delete", &[("version", "1")])
        .await;
    assert_eq!(removed.headers()["location"], "/employees");
    assert!(
        admin
            .follow(removed)
            .await
            .contains("Employee E-1 was removed.")
    );

    assert_eq!(admin.get("/employees/E-1").await.status().as_u16(), 404);
    app.assert_claims_free("E-1", "one@example.com").await;
    let again = app
        .post_employee(&employee_form("E-1", "one@example.com"))
        .await;
    assert_eq!(
        again.status().as_u16(),
        303,
        "the ID and e-mail are free again"
    );
}

async fn a_manager_cannot_be_removed_while_managing_others(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("BOSS-1", "boss@example.com").await;
    let mut report = employee_form("E-1", "one@example.com");
    report.insert("manager_id", "boss-1".into());
    app.follow(app.post_employee(&report).await).await;
    let admin = app.browser(Role::Admin).await;

    let refused = admin
        .post_form("/employees/BOSS-1/delete", &[("version", "1")])
        .await;

    assert_eq!(refused.status().as_u16(), 409);
    assert!(refused.text().await.unwrap().contains("manager of others"));
    assert_eq!(app.database().employees_with_id("BOSS-1"), 1);
    let before = app
        .database()
        .count("SELECT count(*) AS n FROM audit_events");
    assert_eq!(before, 2, "the refused removal left no entry");
}

async fn a_managers_new_id_reaches_their_reports_with_a_new_version_and_an_audit_entry(
    backend: Backend,
) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("BOSS-1", "boss@example.com").await;
    let mut report = employee_form("E-1", "one@example.com");
    report.insert("manager_id", "BOSS-1".into());
    app.follow(app.post_employee(&report).await).await;

    let renamed = app
        .post_form(
            "/employees/BOSS-1",
            &edit_fields(&employee_form("BOSS-2", "boss@example.com"), "1"),
        )
        .await;
    assert_eq!(renamed.status().as_u16(), 303);

    let mut db = app.database();
    assert_eq!(
        db.count("SELECT count(*) AS n FROM employees WHERE employee_id = 'E-1' AND manager_id = 'BOSS-2' AND version = 2"),
        1
    );
    let history = app.get_html("/employees/E-1/history").await;
    assert!(
        history.contains(r#"<td data-label="Field">Manager</td>"#),
        "{history}"
    );
    assert!(
        history.contains(r#"<td data-label="Before">BOSS-1</td>"#)
            && history.contains(r#"<td data-label="After">BOSS-2</td>"#)
    );
    // A form opened before the rename can no longer put the old manager back.
    let stale = app
        .post_form("/employees/E-1", &edit_fields(&report, "1"))
        .await;
    assert_eq!(stale.status().as_u16(), 409);
}

async fn a_change_behind_the_apps_back_makes_an_open_edit_form_stale(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;
    let form = app.get_html("/employees/E-1/edit").await;
    let version = field_value(&form, "version").unwrap();

    app.database()
        .execute("UPDATE employees SET job_title = 'Set by a script' WHERE employee_id = 'E-1'");

    let mut mine = employee_form("E-1", "one@example.com");
    mine.insert("first_name", "Mine".into());
    let response = app
        .post_form("/employees/E-1", &edit_fields(&mine, &version))
        .await;
    assert_eq!(response.status().as_u16(), 409);
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees WHERE job_title = 'Set by a script' AND first_name = 'Ann'"),
        1,
        "the outside change survives"
    );
}
