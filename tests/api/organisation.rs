//! The organisation: departments, the rules a manager must meet (also between two
//! concurrent edits), leavers and their return, the list's order and pages, and the org
//! chart.

use crate::on_both_backends;
use roster::domain::Role;

use crate::support::{Backend, Browser, TestApp, edit_fields, employee_form, field_value};

on_both_backends!(
    department_names_are_unique_ignoring_case_and_spaces,
    a_department_is_renamed_given_a_head_and_archived,
    a_manager_must_exist_be_on_the_staff_and_not_report_to_the_employee,
    two_edits_that_together_close_a_loop_cannot_both_commit,
    a_manager_is_picked_by_name_or_by_id,
    a_leaver_keeps_the_record_its_id_and_email_and_can_return,
    a_manager_is_terminated_only_once_nobody_reports_to_them,
    the_list_sorts_by_its_columns_and_pages_in_chosen_sizes,
    the_list_sorts_by_department_name_and_follows_a_rename,
    the_org_chart_nests_reports_from_the_top_or_from_anyone,
    search_finds_the_start_of_every_word_ignoring_case_and_accents,
    search_finds_rows_another_tool_wrote_or_changed,
    the_history_speaks_the_forms_words,
);

type Form = std::collections::HashMap<&'static str, String>;

fn reporting_to(id: &str, manager: &str) -> Form {
    let mut form = employee_form(id, &format!("{}@example.com", id.to_lowercase()));
    if !manager.is_empty() {
        form.insert("manager_id", manager.to_owned());
    }
    form
}

async fn added(app: &TestApp, form: &Form) {
    let response = app.post_employee(form).await;
    assert_eq!(response.status().as_u16(), 303, "{form:?}");
}

/// Asserts the answer's status; returns its page.
async fn page_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    response.text().await.unwrap()
}

fn department_id(app: &TestApp, name: &str) -> i64 {
    app.database().count(&format!(
        "SELECT id AS n FROM departments WHERE name = '{name}'"
    ))
}

async fn add_department(app: &TestApp, admin: &Browser, name: &str) -> i64 {
    let added = admin.post_form("/departments", &[("name", name)]).await;
    assert!(admin.follow(added).await.contains("was added"));
    department_id(app, name)
}

async fn version_of(app: &TestApp, id: &str) -> String {
    field_value(
        &app.get_html(&format!("/employees/{id}/edit")).await,
        "version",
    )
    .unwrap()
}

async fn terminate(app: &TestApp, id: &str, date: &str) -> reqwest::Response {
    let version = version_of(app, id).await;
    app.post_form(
        &format!("/employees/{id}/terminate"),
        &[
            ("termination_date", date),
            ("termination_reason", "moved abroad"),
            ("version", &version),
        ],
    )
    .await
}

async fn department_names_are_unique_ignoring_case_and_spaces(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    add_department(&app, &admin, "Field Ops").await;

    for taken in [" field  ops ", "FIELDOPS", "Field\tOps"] {
        let page = page_of(
            admin.post_form("/departments", &[("name", taken)]).await,
            409,
        )
        .await;
        assert!(
            page.contains("There is a department called “Field Ops” already"),
            "{page}"
        );
        if taken == "FIELDOPS" {
            assert!(
                page.contains("value=\"FIELDOPS\""),
                "the name typed is kept: {page}"
            );
        }
    }
    let blank = page_of(
        admin.post_form("/departments", &[("name", "  ")]).await,
        422,
    )
    .await;
    assert!(
        blank.contains("Enter the department&#39;s name")
            || blank.contains("Enter the department's name"),
        "{blank}"
    );
    assert_eq!(
        app.database()
            .count("SELECT count(*) AS n FROM departments"),
        1
    );

    let viewer = app.browser(Role::Viewer).await;
    let list = viewer.get_html("/departments").await;
    assert!(
        list.contains("Field Ops") && !list.contains("Add a department"),
        "{list}"
    );
}

async fn a_department_is_renamed_given_a_head_and_archived(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    let ops = add_department(&app, &admin, "Field Ops").await;
    add_department(&app, &admin, "Sales").await;
    let mut member = employee_form("E-1", "one@example.com");
    member.insert("department_id", ops.to_string());
    added(&app, &member).await;
    let list = app.get_html("/departments").await;
    assert!(
        list.contains(&format!("href=\"/employees?department={ops}\">1<")),
        "{list}"
    );

    let path = format!("/departments/{ops}");
    let taken = admin
        .post_form(&path, &[("name", "sales"), ("head_id", "")])
        .await;
    assert!(page_of(taken, 409).await.contains("“Sales” already"));
    // A refused head takes the rename beside it back with it: nothing half-saved.
    let nobody = admin
        .post_form(&path, &[("name", "Field Force"), ("head_id", "E-404")])
        .await;
    let refused = page_of(nobody, 422).await;
    assert!(refused.contains("E-404 is not on the staff"), "{refused}");
    assert!(
        refused.contains("value=\"Field Force\""),
        "the name typed is kept"
    );
    assert!(!app.get_html("/departments").await.contains("Field Force"));
    let renamed = admin
        .post_form(&path, &[("name", "Field  Operations"), ("head_id", "e-1")])
        .await;
    let list = admin.follow(renamed).await;
    assert!(
        list.contains("Field Operations") && list.contains("href=\"/employees/E-1\""),
        "{list}"
    );

    let archived = admin
        .post_form(&format!("{path}/archive"), &[("archived", "true")])
        .await;
    assert!(admin.follow(archived).await.contains("Archived"));
    let mut newcomer = employee_form("E-2", "two@example.com");
    newcomer.insert("department_id", ops.to_string());
    let refused = page_of(app.post_employee(&newcomer).await, 422).await;
    assert!(refused.contains("This department is archived"), "{refused}");
    newcomer.remove("department_id");
    added(&app, &newcomer).await;
    newcomer.insert("department_id", ops.to_string());
    let moved = app
        .post_form("/employees/E-2", &edit_fields(&newcomer, "1"))
        .await;
    assert!(
        page_of(moved, 422)
            .await
            .contains("This department is archived")
    );
    // Its member stays, and can still be edited.
    member.insert("job_title", "Surveyor".into());
    let kept = app
        .post_form("/employees/E-1", &edit_fields(&member, "1"))
        .await;
    assert_eq!(kept.status().as_u16(), 303);
    let events = app
        .database()
        .count("SELECT count(*) AS n FROM audit_events WHERE subject_kind = 'department'");
    assert_eq!(
        events, 4,
        "two adds, one edit (its name and head), an archive"
    );
}

async fn a_manager_must_exist_be_on_the_staff_and_not_report_to_the_employee(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &reporting_to("A-1", "")).await;
    added(&app, &reporting_to("B-1", "A-1")).await;
    added(&app, &reporting_to("C-1", "B-1")).await;
    added(&app, &reporting_to("GONE-1", "")).await;
    assert_eq!(
        terminate(&app, "GONE-1", "2026-01-31")
            .await
            .status()
            .as_u16(),
        303
    );

    let missing = page_of(
        app.post_employee(&reporting_to("D-1", "NOBODY-1")).await,
        422,
    )
    .await;
    assert!(missing.contains("No employee has this ID"), "{missing}");
    let left = page_of(app.post_employee(&reporting_to("D-1", "GONE-1")).await, 422).await;
    assert!(left.contains("GONE-1 has left"), "{left}");
    let own = app
        .post_form(
            "/employees/A-1",
            &edit_fields(&reporting_to("A-1", "A-1"), "1"),
        )
        .await;
    assert_eq!(own.status().as_u16(), 422);
    let looped = app
        .post_form(
            "/employees/A-1",
            &edit_fields(&reporting_to("A-1", "C-1"), "1"),
        )
        .await;
    let looped = page_of(looped, 422).await;
    assert!(
        looped.contains("C-1 reports to this employee, directly or through others"),
        "{looped}"
    );
    let to_leaver = app
        .post_form(
            "/employees/A-1",
            &edit_fields(&reporting_to("A-1", "GONE-1"), "1"),
        )
        .await;
    assert!(page_of(to_leaver, 422).await.contains("GONE-1 has left"));
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees WHERE employee_id = 'A-1' AND manager_id IS NULL AND version = 1"),
        1,
        "nothing was written"
    );
}

fn named(id: &str, first: &str, last: &str) -> Form {
    let mut form = reporting_to(id, "");
    form.insert("first_name", first.to_owned());
    form.insert("last_name", last.to_owned());
    form
}

fn manager_of(app: &TestApp, id: &str, manager: &str) -> i64 {
    app.database().count(&format!(
        "SELECT count(*) AS n FROM employees WHERE employee_id = '{id}' AND manager_id = '{manager}'"
    ))
}

async fn a_manager_is_picked_by_name_or_by_id(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &named("M-1", "Ada", "Lovelace")).await;
    added(&app, &named("M-2", "Grace", "Hopper")).await;
    added(&app, &named("M-3", "Grace", "Murray")).await;

    added(&app, &reporting_to("R-1", "ada lovelace")).await;
    assert_eq!(manager_of(&app, "R-1", "M-1"), 1, "the name became the ID");
    let record = app.get_html("/employees/R-1").await;
    assert!(record.contains("Ada Lovelace"), "{record}");

    let several = page_of(app.post_employee(&reporting_to("R-2", "Grace")).await, 422).await;
    assert!(
        several.contains("Grace Hopper (M-2)") && several.contains("Grace Murray (M-3)"),
        "{several}"
    );
    assert!(
        several.contains(r#"<datalist id="manager_id-candidates">"#),
        "{several}"
    );
    assert!(
        several.contains(r#"value="Grace""#),
        "the typed name is kept: {several}"
    );
    let nobody = page_of(
        app.post_employee(&reporting_to("R-2", "Nobody Here")).await,
        422,
    )
    .await;
    assert!(nobody.contains("No current employee is called"), "{nobody}");
    assert_eq!(
        app.database()
            .count("SELECT count(*) AS n FROM employees WHERE employee_id = 'R-2'"),
        0
    );

    let edited = app
        .post_form(
            "/employees/R-1",
            &edit_fields(&reporting_to("R-1", "grace hop"), "1"),
        )
        .await;
    assert_eq!(edited.status().as_u16(), 303);
    assert_eq!(manager_of(&app, "R-1", "M-2"), 1);
    let by_id = app
        .post_form(
            "/employees/R-1",
            &edit_fields(&reporting_to("R-1", "m-3"), "2"),
        )
        .await;
    assert_eq!(by_id.status().as_u16(), 303);
    assert_eq!(manager_of(&app, "R-1", "M-3"), 1, "an ID in any case");
}

async fn two_edits_that_together_close_a_loop_cannot_both_commit(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    for round in 0..6 {
        let (a, b) = (format!("A-{round}"), format!("B-{round}"));
        added(&app, &reporting_to(&a, "")).await;
        added(&app, &reporting_to(&b, "")).await;
        let a_under_b = edit_fields(&reporting_to(&a, &b), "1");
        let b_under_a = edit_fields(&reporting_to(&b, &a), "1");
        let (a_path, b_path) = (format!("/employees/{a}"), format!("/employees/{b}"));
        let (first, second) = tokio::join!(
            app.post_form(&a_path, &a_under_b),
            app.post_form(&b_path, &b_under_a),
        );
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 422], "round {round}: one edit wins");
        let managed = app.database().count(&format!(
            "SELECT count(*) AS n FROM employees WHERE employee_id IN ('{a}', '{b}') AND manager_id IS NOT NULL"
        ));
        assert_eq!(managed, 1, "round {round}: no loop was stored");
    }
}

async fn a_leaver_keeps_the_record_its_id_and_email_and_can_return(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "ada@example.com").await;
    app.add_employee("E-2", "bob@example.com").await;

    let bad = app
        .post_form(
            "/employees/E-1/terminate",
            &[("termination_date", "2019-01-01"), ("version", "1")],
        )
        .await;
    assert!(
        page_of(bad, 422)
            .await
            .contains("cannot be before the hire date")
    );
    let stale = app
        .post_form(
            "/employees/E-1/terminate",
            &[("termination_date", "2026-12-31"), ("version", "7")],
        )
        .await;
    assert!(
        page_of(stale, 409)
            .await
            .contains("changed since you opened")
    );

    let record = app.follow(terminate(&app, "E-1", "2026-11-30").await).await;
    assert!(
        record.contains("is recorded as having left on 2026-11-30"),
        "{record}"
    );
    assert!(
        record.contains("Terminated</span>")
            && record.contains("last day 2026-11-30 (moved abroad)")
    );
    assert!(record.contains("Reactivate"));

    let current = app.get_html("/employees").await;
    assert!(
        !current.contains(">E-1</a>") && current.contains(">E-2</a>"),
        "{current}"
    );
    assert!(current.contains("1 employee"));
    for view in ["status=all", "status=terminated"] {
        let page = app.get_html(&format!("/employees?{view}")).await;
        assert!(
            page.contains(">E-1</a>") && page.contains("badge-left"),
            "{view}: {page}"
        );
    }
    let reused_id = page_of(
        app.post_employee(&employee_form("E-1", "new@example.com"))
            .await,
        409,
    )
    .await;
    assert!(
        reused_id.contains("It belongs to employee <a href=\"/employees/E-1\">E-1</a>"),
        "{reused_id}"
    );
    let reused_email = page_of(
        app.post_employee(&employee_form("E-3", "ADA@example.com"))
            .await,
        409,
    )
    .await;
    assert!(reused_email.contains("/employees/E-1"));

    let edit = app.get_html("/employees/E-1/edit").await;
    assert!(
        edit.contains("value=\"terminated\" selected") && !edit.contains("value=\"active\""),
        "{edit}"
    );
    let mut by_hand = employee_form("E-1", "ada@example.com");
    by_hand.insert("status", "active".into());
    let by_hand = app
        .post_form("/employees/E-1", &edit_fields(&by_hand, "2"))
        .await;
    assert!(page_of(by_hand, 422).await.contains("use Reactivate"));
    let mut new_leaver = employee_form("E-4", "dan@example.com");
    new_leaver.insert("status", "terminated".into());
    assert!(
        page_of(app.post_employee(&new_leaver).await, 422)
            .await
            .contains("Use Terminate")
    );

    let stale_return = app
        .post_form("/employees/E-1/reactivate", &[("version", "1")])
        .await;
    assert_eq!(stale_return.status().as_u16(), 409);
    let back = app
        .post_form("/employees/E-1/reactivate", &[("version", "2")])
        .await;
    let record = app.follow(back).await;
    assert!(
        record.contains("is active again") && !record.contains("badge-left"),
        "{record}"
    );
    assert!(app.get_html("/employees").await.contains(">E-1</a>"));
    let mut db = app.database();
    assert_eq!(db.employees_with_id("E-1"), 1, "the same record came back");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM employees WHERE employee_id = 'E-1' AND status = 'active' AND termination_date IS NULL AND version = 3"),
        1
    );
    let history = app.get_html("/employees/E-1/history").await;
    assert!(
        history.contains("2026-11-30") && history.contains("moved abroad"),
        "{history}"
    );
}

async fn a_manager_is_terminated_only_once_nobody_reports_to_them(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &reporting_to("BOSS-1", "")).await;
    let mut report = reporting_to("E-2", "BOSS-1");
    report.insert("first_name", "Grace".into());
    report.insert("last_name", "Hopper".into());
    added(&app, &report).await;

    let refused = page_of(terminate(&app, "BOSS-1", "2026-12-01").await, 409).await;
    assert!(
        refused.contains("still manages someone") && refused.contains("Grace Hopper (E-2)"),
        "{refused}"
    );
    assert_eq!(
        app.database()
            .count("SELECT count(*) AS n FROM employees WHERE status = 'terminated'"),
        0
    );
    report.remove("manager_id");
    let moved = app
        .post_form("/employees/E-2", &edit_fields(&report, "1"))
        .await;
    assert_eq!(moved.status().as_u16(), 303);
    assert_eq!(
        terminate(&app, "BOSS-1", "2026-12-01")
            .await
            .status()
            .as_u16(),
        303
    );
}

async fn the_list_sorts_by_its_columns_and_pages_in_chosen_sizes(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let rows: Vec<String> = (1..=60)
        .map(|n| {
            format!(
                "('S-{n:03}', 'Ann', 'Name{:02}', 'seed{n}@example.com', '2020-01-{:02}', '{}')",
                61 - n,
                n % 28 + 1,
                if n % 10 == 0 { "on_leave" } else { "active" }
            )
        })
        .collect();
    app.database().execute(&format!(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date, status) VALUES {}",
        rows.join(", ")
    ));
    let position = |page: &str, text: &str| {
        page.find(text)
            .unwrap_or_else(|| panic!("no {text} in {page}"))
    };
    let rows_of = |page: &str| page.matches("<tr>").count() - 1;

    let by_name = app.get_html("/employees?sort=name").await;
    assert!(position(&by_name, "Name01") < position(&by_name, "Name02"));
    assert!(by_name.contains("aria-sort=\"ascending\""));
    assert!(
        by_name.contains("href=\"/employees?sort=-name\""),
        "the header turns the order round"
    );
    let descending = app.get_html("/employees?sort=-name").await;
    assert!(position(&descending, "Name60") < position(&descending, "Name59"));
    let by_hire = app.get_html("/employees?sort=hire_date&per_page=25").await;
    assert_eq!(rows_of(&by_hire), 25);
    assert!(
        by_hire.contains("2020-01-01") && !by_hire.contains("2020-01-28"),
        "{by_hire}"
    );
    let not_an_order = app.get_html("/employees?sort=salary").await;
    assert!(not_an_order.contains("order in the link is not one Roster knows"));
    let by_status = app.get_html("/employees?sort=-status&per_page=100").await;
    assert_eq!(rows_of(&by_status), 60);
    assert!(position(&by_status, ">On leave</td>") < position(&by_status, ">Active</td>"));
    let by_id = app.get_html("/employees?sort=-employee_id").await;
    assert!(position(&by_id, ">S-060<") < position(&by_id, ">S-059<"));

    let small = app.get_html("/employees?per_page=25").await;
    assert!(
        small.contains("Page 1 of 3")
            && small.contains("href=\"/employees?per_page=25&#38;page=2\""),
        "{small}"
    );
    let past_the_end = app.get_html("/employees?per_page=25&page=99").await;
    assert!(past_the_end.contains("Page 3 of 3"), "{past_the_end}");
    assert_eq!(rows_of(&past_the_end), 10);
    let filtered_past = app.get_html("/employees?status=on_leave&page=5").await;
    assert_eq!(
        rows_of(&filtered_past),
        6,
        "the last page of a filtered view"
    );
}

async fn the_list_sorts_by_department_name_and_follows_a_rename(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    let zoo = add_department(&app, &admin, "Zoo").await;
    let alpha = add_department(&app, &admin, "Alpha").await;
    for (id, department) in [("E-1", Some(zoo)), ("E-2", Some(alpha)), ("E-3", None)] {
        let mut form = reporting_to(id, "");
        if let Some(department) = department {
            form.insert("department_id", department.to_string());
        }
        added(&app, &form).await;
    }
    app.database().execute(&format!(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date, department_id) \
         VALUES ('E-4', 'Outside', 'Tool', 'e-4@example.com', '2024-01-01', {alpha})"
    ));
    let order = |page: &str| -> Vec<usize> {
        ["E-1", "E-2", "E-3", "E-4"]
            .iter()
            .map(|id| position_of(page, &format!(">{id}<")))
            .collect()
    };
    let page = app.get_html("/employees?sort=department").await;
    let [one, two, three, four] = order(&page)[..] else {
        unreachable!()
    };
    assert!(
        three < two && two < four && four < one,
        "none, Alpha, Zoo: {page}"
    );
    assert!(page.contains("href=\"/employees?sort=-department\""));
    let descending = app.get_html("/employees?sort=-department").await;
    let [one, two, _, four] = order(&descending)[..] else {
        unreachable!()
    };
    assert!(one < four && four < two, "{descending}");

    let version_before = version_of(&app, "E-2").await;
    let renamed = admin
        .post_form(
            &format!("/departments/{alpha}"),
            &[("name", "Zulu"), ("head_id", "")],
        )
        .await;
    assert_eq!(renamed.status().as_u16(), 303);
    let page = app.get_html("/employees?sort=department").await;
    let [one, two, three, four] = order(&page)[..] else {
        unreachable!()
    };
    assert!(
        three < one && one < two && two < four,
        "none, Zoo, Zulu: {page}"
    );
    assert_eq!(
        version_of(&app, "E-2").await,
        version_before,
        "a department's new name is no change of its members' records"
    );

    app.database()
        .execute("UPDATE employees SET department_id = NULL WHERE employee_id = 'E-1'");
    let page = app.get_html("/employees?sort=department").await;
    let [one, _, three, _] = order(&page)[..] else {
        unreachable!()
    };
    assert!(one < three, "no department any more: {page}");
}

async fn the_org_chart_nests_reports_from_the_top_or_from_anyone(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let mut boss = reporting_to("BOSS-1", "");
    boss.insert("first_name", "Ada".into());
    boss.insert("job_title", "Director".into());
    added(&app, &boss).await;
    added(&app, &reporting_to("E-2", "BOSS-1")).await;
    added(&app, &reporting_to("E-3", "E-2")).await;
    added(&app, &reporting_to("LONE-1", "")).await;

    let chart = app.get_html("/org").await;
    assert!(
        chart.contains("4 on the staff; 2 with nobody above them"),
        "{chart}"
    );
    assert!(position_of(&chart, "BOSS-1") < position_of(&chart, "E-2"));
    assert!(position_of(&chart, "E-2</span>") < position_of(&chart, "E-3</span>"));
    assert!(
        chart.contains("Director")
            && chart.contains("<details open><summary class=\"org-count\">1 report")
    );
    let from_e2 = app.get_html("/org?root=E-2").await;
    assert!(
        from_e2.contains("aria-label=\"Reporting line\"")
            && from_e2.contains("href=\"/org?root=BOSS-1\""),
        "{from_e2}"
    );
    assert!(!from_e2.contains("LONE-1"));
    assert_eq!(app.get("/org?root=NOBODY-1").await.status().as_u16(), 404);
    let record = app.get_html("/employees/E-2").await;
    assert!(
        record.contains("Ann Lee (E-3)") && record.contains("Ada Lee (BOSS-1)"),
        "reports and manager by name: {record}"
    );
}

fn position_of(page: &str, text: &str) -> usize {
    page.find(text)
        .unwrap_or_else(|| panic!("no {text} in {page}"))
}

async fn search_finds_the_start_of_every_word_ignoring_case_and_accents(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    for (id, first, last, title) in [
        ("E-1001", "Ada", "Lovelace", "Principal Cartographer"),
        ("E-1002", "Zoë", "Ångström", "Analyst"),
        ("E-2001", "Ada", "Byron", "Poet"),
        ("E-2002", "Seán", "O'Brien", "Jean-Luc's deputy"),
    ] {
        let mut form = employee_form(
            id,
            &format!(
                "{}@example.com",
                first.to_lowercase().replace('ë', "e").replace('á', "a")
            ),
        );
        form.insert(
            "email",
            format!("{}.{}@example.com", id.to_lowercase(), "x"),
        );
        form.insert("first_name", first.into());
        form.insert("last_name", last.into());
        form.insert("job_title", title.into());
        added(&app, &form).await;
    }
    let found = |page: &str| -> Vec<String> {
        ["E-1001", "E-1002", "E-2001", "E-2002"]
            .into_iter()
            .filter(|id| page.contains(&format!(">{id}</a>")))
            .map(str::to_owned)
            .collect()
    };
    for (search, expected) in [
        ("ada lov", vec!["E-1001"]),
        ("LOVELACE ada", vec!["E-1001"]),
        ("ada", vec!["E-1001", "E-2001"]),
        ("principal cartog", vec!["E-1001"]),
        ("zoe angs", vec!["E-1002"]),
        ("ZOË", vec!["E-1002"]),
        ("obrien", vec!["E-2002"]),
        ("luc", vec!["E-2002"]),
        ("e-10", vec!["E-1001", "E-1002"]),
        ("e20", vec!["E-2001", "E-2002"]),
        ("e-2001.x@", vec!["E-2001"]),
        ("velace", vec![]),
        ("ada poet", vec!["E-2001"]),
        ("-", vec![]),
    ] {
        let page = app
            .get_html(&format!("/employees?q={}", urlencoding(search)))
            .await;
        assert_eq!(found(&page), expected, "{search}");
    }
}

async fn search_finds_rows_another_tool_wrote_or_changed(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.database().execute(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date) \
         VALUES ('X-1', 'Grace', 'Hopper', 'grace@example.com', '2020-01-01')",
    );
    assert!(
        app.get_html("/employees?q=grace+hop")
            .await
            .contains(">X-1</a>")
    );
    app.database()
        .execute("UPDATE employees SET last_name = 'Brewster' WHERE employee_id = 'X-1'");
    let renamed = app.get_html("/employees?q=grace+brew").await;
    assert!(renamed.contains(">X-1</a>"), "{renamed}");
    assert!(
        !app.get_html("/employees?q=grace+hop")
            .await
            .contains(">X-1</a>")
    );
    assert_eq!(
        app.database()
            .count("SELECT CAST(version AS BIGINT) AS n FROM employees WHERE employee_id = 'X-1'"),
        2,
        "the outside change is a new version; filling in its words is not"
    );
}

fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("q", text)]).unwrap()[2..].to_owned()
}

async fn the_history_speaks_the_forms_words(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    let ops = add_department(&app, &admin, "Field Ops").await;
    app.add_employee("E-1", "one@example.com").await;
    let unchanged = app
        .post_form(
            "/employees/E-1",
            &edit_fields(&employee_form("E-1", "one@example.com"), "1"),
        )
        .await;
    assert!(
        app.follow(unchanged)
            .await
            .contains("Nothing changed: E-1 is as it was.")
    );
    let mut changed = employee_form("E-1", "one@example.com");
    changed.insert("last_name", "Lovelace".into());
    changed.insert("status", "on_leave".into());
    changed.insert("department_id", ops.to_string());
    let saved = app
        .post_form("/employees/E-1", &edit_fields(&changed, "1"))
        .await;
    assert!(app.follow(saved).await.contains("Employee E-1 was saved."));

    let history = app.get_html("/employees/E-1/history").await;
    for shown in [
        "<strong>Changed</strong>: E-1, by",
        "<strong>Added</strong>: E-1, by",
        r#"<td data-label="Field">Last name</td>"#,
        r#"<td data-label="After">On leave</td>"#,
        r#"<td data-label="Before">Active</td>"#,
        r#"<td data-label="After">Field Ops</td>"#,
    ] {
        assert!(history.contains(shown), "{shown}: {history}");
    }
    assert!(
        !history.contains("on_leave") && !history.contains("last_name"),
        "{history}"
    );
    let record = app.get_html("/employees/E-1").await;
    let added = record.split("added ").nth(1).unwrap();
    let stamp = &added[..added.find(',').unwrap()];
    assert_eq!(
        stamp.len(),
        "2026-12-02 14:05 UTC".len(),
        "to the minute: {stamp}"
    );
    assert!(stamp.ends_with(" UTC") && !stamp.contains('.'), "{stamp}");
}
