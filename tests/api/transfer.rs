//! Bulk import and export, through the pages and the command line: a file goes in whole
//! or not at all, each row's problem is named with its line, and an export reads back
//! in unchanged.

use std::collections::BTreeSet;

use roster::domain::Role;

use crate::support::{Backend, PASSWORD, TestApp, employee_form};

const HEADER: &str =
    "employee_id,first_name,last_name,email,hire_date,department,manager_id,phone,status";

fn csv(rows: &[&str]) -> String {
    let mut text = format!("{HEADER}\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

crate::on_both_backends!(
    an_import_stores_every_row_with_its_audit_entry_and_index_claims,
    one_bad_row_imports_nothing_and_each_problem_is_named_by_line,
    rows_valid_alone_but_clashing_with_stored_records_import_nothing,
    a_dry_run_checks_every_row_and_stores_nothing,
    a_file_that_is_not_an_employee_csv_is_refused_with_its_reason,
    an_upload_without_the_csrf_token_is_refused_and_changes_nothing,
    an_export_imports_back_unchanged,
    the_command_line_imports_all_or_nothing_and_exports_to_a_file,
    an_import_racing_form_submissions_never_duplicates_a_record,
    missing_departments_are_created_only_when_an_admin_asks_and_the_file_goes_in,
    the_command_line_creates_missing_departments_when_asked,
);

async fn an_import_stores_every_row_with_its_audit_entry_and_index_claims(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.database()
        .execute("INSERT INTO departments (name) VALUES ('Finance')");
    // The manager comes after the report that names them.
    let file = csv(&[
        "e-1,Ann,Lee,Ann@Example.com,2024-03-01,finance,E-2,+44 20 7946 0000,On leave",
        "E-2,Bo,Ng,bo@example.com,2023-01-15,,,,",
        "E-3,Cy,Li,cy@example.com,2022-06-30,Finance,E-2,,terminated",
    ]);

    let response = app.upload_csv(&file, false).await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Imported 3 records."), "{page}");

    let mut db = app.database();
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM employees e JOIN departments d ON d.id = e.department_id \
             WHERE e.employee_id IN ('E-1', 'E-3') AND e.manager_id = 'E-2' AND d.name = 'Finance'"
        ),
        2
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM employees WHERE employee_id = 'E-1' \
             AND email = 'ann@example.com' AND status = 'on_leave' AND phone = '+44 20 7946 0000'"
        ),
        1
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM audit_events a JOIN employees e ON e.id = a.record_id \
             WHERE a.action = 'create' AND a.actor = 'hr-staff' AND a.changes LIKE '%\"employee_id\"%'"
        ),
        3
    );
    let shown = app.get_html("/employees/E-1/history").await;
    assert!(shown.contains("hr-staff"), "{shown}");

    // The index learned the records: their duplicates are turned away without a query.
    app.assert_rejected_without_a_query("E-2", "new@example.com")
        .await;
}

async fn one_bad_row_imports_nothing_and_each_problem_is_named_by_line(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-9", "taken@example.com").await;
    let file = csv(&[
        "E-1,Ann,Lee,ann@example.com,2024-03-01,,,,",
        "E-2,Bo,Ng,not-an-address,2024-03-01,,,,",
        "e-9,Cy,Li,cy@example.com,2024-03-01,,,,",
        "E-4,Di,Wu,TAKEN@example.com,2024-03-01,,,,",
        "E-5,Ed,Yu,ANN@example.com,2024-03-01,,,,",
        "E-6,Fay,Oh,fay@example.com,2024-03-01,Nowhere,,,",
        "E-7,Gil,Ma,gil@example.com,2024-03-01,,E-404,,",
    ]);

    let response = app.upload_csv(&file, false).await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("6 of 7 rows were rejected, so nothing was imported"),
        "{page}"
    );
    for expected in [
        "email: Enter an e-mail address like name@example.com.",
        "employee_id: a stored record has this ID",
        "email: E-9 already has this e-mail",
        "email: line 2 has the same e-mail",
        "department: there is no department named &#34;Nowhere&#34;",
        "manager_id: no employee has the ID E-404",
    ] {
        assert!(
            page.contains(expected),
            "the report lacks {expected:?}:\n{page}"
        );
    }
    let mut db = app.database();
    assert_eq!(db.count("SELECT count(*) AS n FROM employees"), 1);
    assert_eq!(db.count("SELECT count(*) AS n FROM audit_events"), 1);
    app.assert_claims_free("E-1", "ann@example.com").await;
}

/// Every row passes the checks that need no database, so PostgreSQL's constraints are
/// the first to refuse (a taken ID, then a manager nobody has): the report still names
/// each row.
async fn rows_valid_alone_but_clashing_with_stored_records_import_nothing(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-9", "taken@example.com").await;
    for (rows, problem) in [
        (
            [
                "E-1,Ann,Lee,ann@example.com,2024-03-01,,,,",
                "e-9,Bo,Ng,bo@example.com,2024-03-01,,,,",
            ],
            "employee_id: a stored record has this ID",
        ),
        (
            [
                "E-1,Ann,Lee,ann@example.com,2024-03-01,,,,",
                "E-2,Bo,Ng,bo@example.com,2024-03-01,,E-404,,",
            ],
            "no employee has the ID E-404",
        ),
    ] {
        let page = app
            .upload_csv(&csv(&rows), false)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("1 of 2 rows were rejected, so nothing was imported"),
            "{page}"
        );
        assert!(page.contains(problem), "{page}");
        let mut db = app.database();
        assert_eq!(db.count("SELECT count(*) AS n FROM employees"), 1);
        assert_eq!(db.count("SELECT count(*) AS n FROM audit_events"), 1);
    }
    app.assert_claims_free("E-1", "ann@example.com").await;
}

async fn a_dry_run_checks_every_row_and_stores_nothing(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let file = csv(&["E-1,Ann,Lee,ann@example.com,2024-03-01,,,,"]);

    let page = app.upload_csv(&file, true).await.text().await.unwrap();
    assert!(
        page.contains("All 1 rows are valid. Nothing was imported (dry run)."),
        "{page}"
    );
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        0
    );
    app.assert_claims_free("E-1", "ann@example.com").await;

    let page = app.upload_csv(&file, false).await.text().await.unwrap();
    assert!(page.contains("Imported 1 records."), "{page}");
}

async fn a_file_that_is_not_an_employee_csv_is_refused_with_its_reason(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let cases = [
        ("", "Choose a CSV file"),
        (
            "employee_id,first_name\nE-1,Ann\n",
            "lacks the required column(s) last_name, email, hire_date",
        ),
        (
            "employee_id,first_name,last_name,email,hire_date,salary\n",
            "unknown column &#34;salary&#34;",
        ),
        (
            "employee_id,first_name,last_name,email,hire_date\n",
            "no rows below its header",
        ),
    ];
    for (file, reason) in cases {
        let response = app.upload_csv(file, false).await;
        assert_eq!(response.status().as_u16(), 422, "{file:?}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(reason),
            "{file:?} should say {reason:?}:\n{page}"
        );
        assert!(page.contains("aria-describedby=\"file-error\""));
    }
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        0
    );
}

async fn an_upload_without_the_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    // Nobody signed out gets to upload, not even to the sign-in form with its token.
    let mut anonymous = app.anonymous();
    anonymous.open_login().await;
    let sign_in = reqwest::multipart::Form::new()
        .text("csrf_token", anonymous.csrf_token.clone())
        .text("username", "hr-staff")
        .text("password", PASSWORD);
    let response = anonymous
        .client
        .post(anonymous.url("/login"))
        .multipart(sign_in)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text(csv(&["E-1,Ann,Lee,ann@example.com,2024-03-01,,,,"]))
            .file_name("employees.csv"),
    );
    let response = app
        .client
        .post(app.url("/employees/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        0
    );
}

async fn an_export_imports_back_unchanged(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.database()
        .execute("INSERT INTO departments (name) VALUES ('Sales, EMEA')");
    let file = csv(&[
        "E-1,=1+1,\"Lee \"\"Jr\"\"\",ann@example.com,2024-03-01,\"Sales, EMEA\",,,",
        "E-2,Zoë,Ng,bo@example.com,2023-01-15,,E-1,+1 555 0100,on_leave",
    ]);
    assert!(
        app.upload_csv(&file, false)
            .await
            .text()
            .await
            .unwrap()
            .contains("Imported 2")
    );

    let response = app.get("/employees/export.csv").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"employees-")
    );
    let exported = response.text().await.unwrap();
    assert!(exported.starts_with("employee_id,first_name,last_name,email,hire_date,phone,"));
    // A spreadsheet would run "=1+1" as a formula; the export defuses it.
    assert!(exported.contains("E-1,'=1+1,"), "{exported}");

    let other = TestApp::on(backend).spawn().await;
    other
        .database()
        .execute("INSERT INTO departments (name) VALUES ('Sales, EMEA')");
    assert!(
        other
            .upload_csv(&exported, false)
            .await
            .text()
            .await
            .unwrap()
            .contains("Imported 2")
    );
    let again = other.get_html("/employees/export.csv").await;
    assert_eq!(again, exported);
}

async fn the_command_line_imports_all_or_nothing_and_exports_to_a_file(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let bad = csv(&[
        "E-1,Ann,Lee,ann@example.com,2024-03-01,,,,",
        "E-2,Bo,,bo@example.com,2024-03-01,,,,",
    ]);
    let good = csv(&["E-1,Ann,Lee,ann@example.com,2024-03-01,,,,"]);

    let (code, report) = app.import_with_cli(&bad, &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("line 2\tE-1\tvalid"), "{report}");
    assert!(
        report.contains("line 3\tE-2\trejected: last_name: Enter a name."),
        "{report}"
    );
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        0
    );

    let (code, report) = app.import_with_cli(&good, &["--dry-run"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        0
    );

    let (code, report) = app.import_with_cli(&good, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("line 2\tE-1\timported"), "{report}");
    assert_eq!(
        app.database().count(
            "SELECT count(*) AS n FROM audit_events WHERE actor = 'roster import' AND subject = 'E-1'"
        ),
        1
    );
    // The running server still refuses the imported ID: on PostgreSQL from Valkey,
    // which the command taught; an embedded server's own index never hears of a
    // command's import, so there the database refuses.
    match app.valkey() {
        Some(valkey) => {
            assert_eq!(valkey.get("roster:employee_id:E-1").as_deref(), Some("E-1"));
            app.assert_rejected_without_a_query("E-1", "other@example.com")
                .await;
        }
        None => {
            let response = app
                .post_employee(&employee_form("E-1", "other@example.com"))
                .await;
            assert_eq!(response.status().as_u16(), 409);
        }
    }

    let exported = app.file_path("all.csv");
    let output = app.run_cli(&["export", "--output", exported.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!app.file_path("all.csv.partial").exists());
}

async fn an_import_racing_form_submissions_never_duplicates_a_record(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let ids: Vec<String> = (0..200).map(|n| format!("R-{n}")).collect();
    let rows: Vec<String> = ids
        .iter()
        .map(|id| format!("{id},Ann,Lee,{id}@example.com,2024-03-01,,,,"))
        .collect();
    let file = csv(&rows.iter().map(String::as_str).collect::<Vec<_>>());

    let app = &app;
    let creates = futures_util::future::join_all(ids.iter().step_by(5).map(|id| async move {
        let form = employee_form(id, &format!("{id}@example.com"));
        (id.clone(), app.post_employee(&form).await.status().as_u16())
    }));
    let (report, created) = tokio::join!(
        async { app.upload_csv(&file, false).await.text().await.unwrap() },
        creates
    );

    for (id, status) in &created {
        assert!(matches!(status, 303 | 409), "{id} answered {status}");
    }
    let created: BTreeSet<String> = created
        .into_iter()
        .filter(|(_, status)| *status == 303)
        .map(|(id, _)| id)
        .collect();
    let stored: BTreeSet<String> = app
        .database()
        .texts("SELECT employee_id AS s FROM employees")
        .into_iter()
        .collect();
    if report.contains("Imported 200 records.") {
        assert!(
            created.is_empty(),
            "{created:?} were created beside the import"
        );
        assert_eq!(stored, BTreeSet::from_iter(ids));
    } else {
        assert!(report.contains("nothing was imported"), "{report}");
        assert!(!created.is_empty());
        assert_eq!(stored, created, "exactly the creates answered 303");
    }
}

async fn missing_departments_are_created_only_when_an_admin_asks_and_the_file_goes_in(
    backend: Backend,
) {
    let app = TestApp::on(backend).spawn().await;
    let mut db = app.database();
    db.execute("INSERT INTO departments (name, name_key) VALUES ('Finance', 'finance'), ('Old Works', 'oldworks')");
    db.execute("UPDATE departments SET archived_at = CURRENT_TIMESTAMP WHERE name = 'Old Works'");
    let departments = "SELECT count(*) AS n FROM departments";
    let file = csv(&[
        "E-1,Ann,Lee,ann@example.com,2024-03-01,Field Ops,,,",
        "E-2,Bo,Ng,bo@example.com,2024-03-01,field  OPS,,,",
        "E-3,Cy,Li,cy@example.com,2024-03-01,finance,,,",
        "E-4,Di,Wu,di@example.com,2024-03-01,Sales,,,",
    ]);

    // Unasked, an unknown department rejects its row and says how to go on.
    let page = app.upload_csv(&file, false).await.text().await.unwrap();
    assert!(
        page.contains("no department named &#34;Sales&#34;; an admin can add it"),
        "{page}"
    );
    assert!(
        !page.contains("name=\"create_departments\""),
        "only an admin is offered the choice"
    );
    let refused = app.upload_csv_ticking(&file, &["create_departments"]).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(db.count(departments), 2);

    let admin = app.browser(Role::Admin).await;
    let form = admin.get_html("/employees/import").await;
    assert!(form.contains("name=\"create_departments\""), "{form}");
    let checked = admin
        .upload_csv_ticking(&file, &["create_departments", "dry_run"])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        checked.contains("importing them would create the departments Field Ops, Sales."),
        "{checked}"
    );
    // A file with a rejected row creates no department either.
    let mut with_bad_row = file.clone();
    with_bad_row.push_str("E-5,Ed,,ed@example.com,2024-03-01,Research,,,\n");
    with_bad_row.push_str("E-6,Flo,Ray,flo@example.com,2024-03-01,Old Works,,,\n");
    let rejected = admin
        .upload_csv_ticking(&with_bad_row, &["create_departments"])
        .await
        .text()
        .await
        .unwrap();
    assert!(rejected.contains("2 of 6 rows were rejected"), "{rejected}");
    assert!(
        rejected.contains("is archived and takes no new members"),
        "{rejected}"
    );
    assert_eq!(db.count(departments), 2);
    assert_eq!(db.count("SELECT count(*) AS n FROM employees"), 0);

    let imported = admin
        .upload_csv_ticking(&file, &["create_departments"])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        imported.contains("Imported 4 records, and created the departments Field Ops, Sales."),
        "{imported}"
    );
    assert_eq!(db.count(departments), 4);
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM employees e JOIN departments d ON d.id = e.department_id \
             WHERE d.name = 'Field Ops' AND e.employee_id IN ('E-1', 'E-2')"
        ),
        2
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM audit_events WHERE subject_kind = 'department' \
             AND action = 'create' AND actor = 'admin' AND subject IN ('Field Ops', 'Sales')"
        ),
        2
    );
    // The record's own entry names the department it was created in.
    let history = admin.get_html("/employees/E-4/history").await;
    assert!(history.contains("Sales"), "{history}");
    let listed = admin.get_html("/departments").await;
    assert!(
        listed.contains("Field Ops") && listed.contains("Sales"),
        "{listed}"
    );
}

async fn the_command_line_creates_missing_departments_when_asked(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let file = csv(&["E-1,Ann,Lee,ann@example.com,2024-03-01,Field Ops,,,"]);

    let (code, report) = app.import_with_cli(&file, &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("import the file creating missing departments"),
        "{report}"
    );

    let (code, report) = app.import_with_cli(&file, &["--create-departments"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("Imported 1 records, and created the departments Field Ops."),
        "{report}"
    );
    assert_eq!(
        app.database().count(
            "SELECT count(*) AS n FROM departments d JOIN employees e ON e.department_id = d.id \
             WHERE d.name = 'Field Ops' AND e.employee_id = 'E-1'"
        ),
        1
    );
}
