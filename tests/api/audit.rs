use roster::domain::Role;

use crate::on_both_backends;
use crate::support::{Backend, TestApp, edit_fields, employee_form};

on_both_backends!(
    each_write_leaves_exactly_its_audit_entry,
    the_audit_trail_cannot_be_changed_or_deleted,
    a_reused_id_does_not_inherit_the_history_of_a_renamed_record,
    account_changes_are_audited_without_secrets,
);

fn audit_count(app: &TestApp) -> i64 {
    app.database()
        .count("SELECT count(*) AS n FROM audit_events")
}

async fn each_write_leaves_exactly_its_audit_entry(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;

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
    assert!(
        history.contains("<strong>create</strong> of E-1 by hr-staff"),
        "{history}"
    );
    assert!(history.contains("<strong>update</strong> of E-10 by hr-staff"));
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
        history.contains("<strong>delete</strong> of E-10 by admin"),
        "the history outlives the record"
    );
}

async fn the_audit_trail_cannot_be_changed_or_deleted(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;

    let mut db = app.database();
    for statement in [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
    ] {
        assert!(
            db.try_execute(statement).is_err(),
            "{statement} was allowed"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) AS n FROM audit_events WHERE actor = 'hr-staff'"),
        1
    );
}

async fn a_reused_id_does_not_inherit_the_history_of_a_renamed_record(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "first@example.com").await;
    let renamed = edit_fields(&employee_form("E-2", "first@example.com"), "1");
    app.follow(app.post_form("/employees/E-1", &renamed).await)
        .await;
    app.add_employee("E-1", "second@example.com").await;

    let reused = app.get_html("/employees/E-1/history").await;
    assert_eq!(reused.matches("<strong>").count(), 1, "{reused}");
    assert!(reused.contains("second@example.com") && !reused.contains("first@example.com"));
    let renamed = app.get_html("/employees/E-2/history").await;
    assert_eq!(renamed.matches("<strong>").count(), 2, "{renamed}");
}

async fn account_changes_are_audited_without_secrets(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    let added = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "newbie"),
                ("role", "viewer"),
                ("password", "a secret password"),
            ],
        )
        .await;
    assert_eq!(added.status().as_u16(), 303);
    let id = app
        .database()
        .count("SELECT id AS n FROM users WHERE username = 'newbie'");
    admin
        .post_form(&format!("/admin/users/{id}/disable"), &[("x", "")])
        .await;
    admin
        .post_form(
            &format!("/admin/users/{id}/password"),
            &[("password", "another secret one")],
        )
        .await;

    let mut db = app.database();
    let events = "SELECT count(*) AS n FROM audit_events WHERE subject_kind = 'account' AND subject = 'newbie' AND actor = 'admin'";
    assert_eq!(db.count(events), 3);
    assert_eq!(db.count("SELECT count(*) AS n FROM audit_events WHERE changes LIKE '%secret%' OR changes LIKE '%argon2%'"), 0);
    assert_eq!(
        db.count(&format!(
            "{events} AND changes LIKE '%\"old\":\"enabled\",\"new\":\"disabled\"%'"
        )),
        1
    );
}
