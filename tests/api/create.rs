use crate::on_both_backends;
use crate::support::{Backend, TestApp, employee_form};

on_both_backends!(
    a_new_employee_is_stored_and_the_user_sees_a_flash,
    every_invalid_field_is_reported_at_once_and_values_are_kept,
    an_unknown_manager_is_reported_beside_its_field,
    every_problem_comes_in_one_answer_in_the_forms_order,
    a_taken_id_and_e_mail_are_both_named_with_an_unknown_manager,
    a_date_that_does_not_exist_is_named_plainly,
    a_taken_e_mail_is_named_beside_an_invalid_id,
    markup_in_text_fields_comes_back_escaped,
    simultaneous_creates_each_get_their_own_outcome_and_audit_entry,
);

/// On PostgreSQL, creates that arrive together share a transaction (group commit): one
/// bad row among them must not fail the others, nor lose or double an audit entry, and
/// a row the group skips (its ID or e-mail held by a record the index does not know)
/// still gets its own 409 naming the holder.
async fn simultaneous_creates_each_get_their_own_outcome_and_audit_entry(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("TAKEN-1", "taken@example.com").await;
    // Written behind the app's back: only the database knows these.
    app.database().execute(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date) VALUES \
         ('G-3', 'Out', 'Side', 'out@example.com', '2024-01-01'), \
         ('OUT-2', 'Out', 'Side', 'g5@example.com', '2024-01-01')",
    );
    let forms: Vec<_> = (0..40)
        .map(|n| {
            let mut form = employee_form(&format!("G-{n}"), &format!("g{n}@example.com"));
            match n {
                7 => {
                    form.insert("manager_id", "NOBODY-1".into());
                }
                13 => {
                    form.insert("email", "TAKEN@example.com".into());
                }
                _ => {}
            }
            form
        })
        .collect();

    let app = &app;
    let answers = futures_util::future::join_all(forms.iter().map(|form| async move {
        let response = app.post_employee(form).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }))
    .await;

    for (n, (status, page)) in answers.iter().enumerate() {
        let expected = match n {
            7 => 422,
            3 | 5 | 13 => 409,
            _ => 303,
        };
        assert_eq!(*status, expected, "G-{n}");
        let holder = match n {
            3 => "G-3",
            5 => "OUT-2",
            _ => continue,
        };
        assert!(
            page.contains(&format!("href=\"/employees/{holder}\"")),
            "G-{n}: {page}"
        );
    }
    let mut db = app.database();
    assert_eq!(db.count("SELECT count(*) AS n FROM employees"), 39);
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM employees e WHERE e.last_name <> 'Side' AND \
             (SELECT count(*) FROM audit_events a WHERE a.record_id = e.id \
              AND a.action = 'create' AND a.subject = e.employee_id) <> 1"
        ),
        0,
        "every record the app created has exactly one creation in its history"
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM audit_events"), 37);
}

async fn a_new_employee_is_stored_and_the_user_sees_a_flash(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;

    let response = app
        .post_employee(&employee_form(" e-1001 ", "Ann.Lee@Example.com"))
        .await;

    assert_eq!(response.headers()["location"], "/employees/E-1001");
    let page = app.follow(response).await;
    assert!(page.contains("Employee E-1001 was added."), "{page}");
    assert!(page.contains("ann.lee@example.com"));
    let shown_again = app.get_html("/employees/E-1001").await;
    assert!(!shown_again.contains("was added"), "a flash is shown once");
    assert_eq!(
        app.database().count(
            "SELECT count(*) AS n FROM employees \
             WHERE employee_id = 'E-1001' AND email = 'ann.lee@example.com'"
        ),
        1,
        "stored in its one spelling"
    );
}

async fn every_invalid_field_is_reported_at_once_and_values_are_kept(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let mut form = employee_form("?bad id", "not-an-address");
    form.insert("first_name", " ".into());
    form.insert("hire_date", "01/03/2024".into());
    form.insert("job_title", "Keeper of <b>things</b>".into());

    let response = app.post_employee(&form).await;

    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    for field in ["employee_id", "first_name", "email", "hire_date"] {
        assert!(
            page.contains(&format!("id=\"{field}-error\"")),
            "no error for {field}"
        );
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-error\""))
                || page.contains(&format!("{field}-hint {field}-error"))
        );
    }
    assert!(!page.contains("id=\"last_name-error\""));
    assert!(page.contains("value=\"?bad id\""), "the typed ID is kept");
    assert!(page.contains("value=\"not-an-address\""));
    assert!(
        page.contains("Keeper of &#60;b&#62;things&#60;/b&#62;")
            || page.contains("Keeper of &lt;b&gt;things&lt;/b&gt;")
    );
    assert_eq!(
        app.database().count("SELECT count(*) AS n FROM employees"),
        0
    );
}

/// Posts a new E-1 whose `field` is `value`: it must be refused with 422 and leave
/// nothing stored. Answers the page.
async fn refused_with(app: &TestApp, field: &'static str, value: &str) -> String {
    let mut form = employee_form("E-1", "ann@example.com");
    form.insert(field, value.into());

    let response = app.post_employee(&form).await;

    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(app.database().employees_with_id("E-1"), 0);
    response.text().await.unwrap()
}

async fn an_unknown_manager_is_reported_beside_its_field(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let page = refused_with(&app, "manager_id", "E-404").await;
    assert!(page.contains("id=\"manager_id-error\""), "{page}");
}

async fn markup_in_text_fields_comes_back_escaped(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let mut form = employee_form("E-1", "a@example.com");
    form.insert("first_name", "<script>alert(1)</script>".into());
    form.insert("job_title", "\"><script>x</script>".into());

    let page = app.follow(app.post_employee(&form).await).await;

    assert!(!page.contains("<script>"), "{page}");
    let list = app.get_html("/employees").await;
    assert!(!list.contains("<script>"));

    // Every text field, re-rendered into value="…" attributes after a rejection.
    let mut everywhere = employee_form("<script>x</script>", "<script>@x.io");
    for field in [
        "first_name",
        "last_name",
        "hire_date",
        "phone",
        "date_of_birth",
        "department_id",
        "job_title",
        "manager_id",
        "status",
    ] {
        everywhere.insert(field, "\"><script>alert(3)</script>".into());
    }
    let response = app.post_employee(&everywhere).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(!page.contains("<script>"), "{page}");

    // Re-rendered into value="…" attributes after a rejection.
    let mut rejected = employee_form("E-2", "not an address");
    rejected.insert("last_name", "\"><script>alert(2)</script>".into());
    let response = app.post_employee(&rejected).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(!page.contains("<script>"), "{page}");
    let escaped = ["&#34;&#62;&#60;script&#62;", "&quot;&gt;&lt;script&gt;"];
    assert!(
        escaped.iter().any(|form| page.contains(form)),
        "the value is kept, escaped: {page}"
    );
}

/// The links of the error summary that lead to fields, in the page's order.
fn summary_targets(page: &str) -> Vec<&str> {
    let summary = &page[page
        .find("class=\"error-summary\"")
        .expect("an error summary")..];
    let summary = &summary[..summary.find("</div>").unwrap()];
    summary
        .match_indices("href=\"#")
        .map(|(at, _)| {
            let name = &summary[at + 7..];
            &name[..name.find('"').unwrap()]
        })
        .collect()
}

/// Field rules, taken values and an unknown manager, all in the first answer (a 422,
/// as the fields are invalid), listed as the form orders its fields.
async fn every_problem_comes_in_one_answer_in_the_forms_order(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "ann@example.com").await;
    let mut form = employee_form("e-1", "ANN@example.com");
    form.insert("first_name", String::new());
    form.insert("phone", "call me".into());
    form.insert("hire_date", String::new());
    form.insert("manager_id", "NOBODY-1".into());

    let response = app.post_employee(&form).await;

    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert_eq!(
        summary_targets(&page),
        [
            "employee_id",
            "first_name",
            "email",
            "phone",
            "hire_date",
            "manager_id"
        ],
        "{page}"
    );
    assert!(page.contains("It belongs to employee E-1."), "{page}");
    assert!(page.contains("href=\"/employees/E-1\""), "{page}");
    assert!(page.contains("No employee has this ID."), "{page}");
    assert!(
        page.contains("Use digits, spaces, +, - and brackets"),
        "{page}"
    );
    assert!(
        page.contains("autofocus"),
        "the summary takes the focus: {page}"
    );
    assert_eq!(app.database().employees_with_id("E-1"), 1);
}

/// Valid fields whose ID and e-mail are both taken, and an unknown manager: a 409
/// naming both holders, and the manager beside its field.
async fn a_taken_id_and_e_mail_are_both_named_with_an_unknown_manager(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "ann@example.com").await;
    app.add_employee("E-2", "bob@example.com").await;
    let mut form = employee_form("E-1", "bob@example.com");
    form.insert("manager_id", "NOBODY-1".into());

    let response = app.post_employee(&form).await;

    assert_eq!(response.status().as_u16(), 409);
    let page = response.text().await.unwrap();
    assert_eq!(
        summary_targets(&page),
        ["employee_id", "email", "manager_id"],
        "{page}"
    );
    for holder in ["E-1", "E-2"] {
        assert!(
            page.contains(&format!("It belongs to employee {holder}.")),
            "{holder}: {page}"
        );
    }
    assert!(page.contains("id=\"manager_id-error\""), "{page}");
}

/// The ID is too broken to look up; the e-mail's holder is still named in the same answer.
async fn a_taken_e_mail_is_named_beside_an_invalid_id(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-2", "ann@example.com").await;
    let page = refused_with(&app, "employee_id", "E 1").await;
    assert_eq!(summary_targets(&page), ["employee_id", "email"], "{page}");
    assert!(page.contains("It belongs to employee E-2."), "{page}");
}

async fn a_date_that_does_not_exist_is_named_plainly(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let page = refused_with(&app, "hire_date", "2024-02-30").await;
    assert!(page.contains("February 2024 has 29 days."), "{page}");
    assert!(page.contains("type=\"date\""), "{page}");
}
