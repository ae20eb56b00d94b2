use roster::domain::Role;

use crate::on_both_backends;
use crate::support::{Backend, TestApp, edit_fields, employee_form};

on_both_backends!(
    the_audit_trail_cannot_be_changed_or_deleted,
    a_reused_id_does_not_inherit_the_history_of_a_renamed_record,
    account_changes_are_audited_without_secrets,
);

async fn the_audit_trail_cannot_be_changed_or_deleted(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;

    let mut db = app.database();
    for statement in [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
    ] {
        let refused = db
            .try_execute(statement)
            .expect_err("the audit trail was changed");
        assert!(
            refused.to_string().contains("append-only"),
            "{statement}: refused for another reason: {refused}"
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
