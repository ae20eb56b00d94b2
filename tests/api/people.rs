//! No duplicate people: likely duplicates asked about on create, edit and import, the
//! possible-duplicates page, merging, and double submissions.

use crate::on_both_backends;
use crate::support::{Backend, TestApp, edit_fields, employee_form, field_value};

on_both_backends!(
    the_same_name_and_birth_date_in_any_spelling_is_asked_about,
    the_same_name_born_another_day_is_stored,
    the_same_phone_written_another_way_is_asked_about,
    confirming_stores_the_record_and_a_new_candidate_asks_again,
    an_edit_asks_only_when_it_makes_someone_look_alike,
    the_pairs_page_finds_rows_written_behind_the_apps_back,
    a_merge_keeps_one_record_and_reserves_the_others_id_and_email,
    a_stale_merge_changes_nothing,
    a_merge_never_makes_anyone_their_own_manager,
    a_merge_racing_an_edit_has_one_outcome,
    concurrent_double_submissions_make_one_record,
    an_import_holds_back_likely_duplicates_unless_accepted,
);

type Form = std::collections::HashMap<&'static str, String>;

fn person(id: &str, first: &str, last: &str, born: &str) -> Form {
    let mut form = employee_form(id, &format!("{}@example.com", id.to_lowercase()));
    form.insert("first_name", first.to_owned());
    form.insert("last_name", last.to_owned());
    form.insert("date_of_birth", born.to_owned());
    form
}

fn fields(form: &Form) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

async fn added(app: &TestApp, form: &Form) {
    let response = app.post_employee(form).await;
    assert_eq!(response.status().as_u16(), 303, "{:?}", form);
}

/// Asserts the answer's status; returns its page.
async fn page_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    response.text().await.unwrap()
}

/// Merges `other` into `survivor`, each at the version given, as the merge page does.
async fn merge(
    app: &TestApp,
    survivor: &str,
    other: &str,
    (version, other_version): (&str, &str),
) -> reqwest::Response {
    app.post_form(
        &format!("/employees/{survivor}/merge"),
        &[
            ("other", other),
            ("version", version),
            ("other_version", other_version),
        ],
    )
    .await
}

fn stored(app: &TestApp) -> i64 {
    app.database().count("SELECT count(*) AS n FROM employees")
}

async fn the_same_name_and_birth_date_in_any_spelling_is_asked_about(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &person("E-1", "Ada", "Lovelace", "1985-12-10")).await;

    for (n, (first, last)) in [
        ("ada", "LOVELACE"),
        ("  Ada ", "  Lovelace"),
        ("Lovelace", "Ada"),
        ("Adá", "Lovelacé"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("E-{}", n + 2);
        let response = app
            .post_employee(&person(&id, first, last, "1985-12-10"))
            .await;
        let page = page_of(response, 409).await;
        assert!(
            page.contains("This may be someone already on file"),
            "{page}"
        );
        assert!(page.contains("href=\"/employees/E-1\""), "{page}");
        assert!(page.contains("same name and date of birth"), "{page}");
        assert!(page.contains("name=\"confirm_distinct\" value=\"E-1\""));
        assert!(
            page.contains(&format!("value=\"{id}\"")),
            "values are kept: {page}"
        );
    }
    assert_eq!(stored(&app), 1);
}

async fn the_same_name_born_another_day_is_stored(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &person("E-1", "Ada", "Lovelace", "1985-12-10")).await;
    added(&app, &person("E-2", "Ada", "Lovelace", "1985-12-11")).await;
    added(&app, &person("E-3", "Ada", "Lovelace", "")).await;
    assert_eq!(stored(&app), 3);
}

async fn the_same_phone_written_another_way_is_asked_about(backend: Backend) {
    let app = TestApp::on(backend)
        .with_env("ROSTER_PHONE_REGION", "GB")
        .spawn()
        .await;
    let mut first = employee_form("E-1", "one@example.com");
    first.insert("phone", "+44 20 7946 0018".into());
    added(&app, &first).await;

    for (n, written) in ["020 7946 0018", "(020) 7946-0018", "+442079460018"]
        .into_iter()
        .enumerate()
    {
        let mut other = employee_form(&format!("E-{}", n + 2), &format!("o{n}@example.com"));
        other.insert("first_name", "Bea".into());
        other.insert("phone", written.into());
        let response = app.post_employee(&other).await;
        let page = page_of(response, 409).await;
        assert!(page.contains("same phone"), "{written}: {page}");
    }
    let mut another = employee_form("E-9", "nine@example.com");
    another.insert("phone", "020 7946 0019".into());
    added(&app, &another).await;
}

async fn confirming_stores_the_record_and_a_new_candidate_asks_again(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &person("E-1", "Ada", "Lovelace", "1985-12-10")).await;

    let mut second = fields(&person("E-2", "Ada", "Lovelace", "1985-12-10"));
    second.push(("confirm_distinct".into(), "E-1".into()));
    let response = app.post_form("/employees", &second).await;
    assert_eq!(response.status().as_u16(), 303);
    let history = app.get_html("/employees/E-2/history").await;
    assert!(
        history.contains("Confirmed a different person than"),
        "{history}"
    );
    assert!(history.contains("E-1"), "{history}");

    // E-3 looks like both; having confirmed only E-1, it is asked about E-2.
    let mut third = fields(&person("E-3", "Lovelace", "Ada", "1985-12-10"));
    third.push(("confirm_distinct".into(), "E-1".into()));
    let response = app.post_form("/employees", &third).await;
    let page = page_of(response, 409).await;
    assert!(
        page.contains("name=\"confirm_distinct\" value=\"E-2\""),
        "{page}"
    );
    assert!(
        page.contains("value=\"E-1\" checked"),
        "what was ticked stays ticked: {page}"
    );

    // One box per candidate, as the page sends them.
    third.push(("confirm_distinct".into(), "E-2".into()));
    let response = app.post_form("/employees", &third).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(stored(&app), 3);
}

async fn an_edit_asks_only_when_it_makes_someone_look_alike(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &person("E-1", "Ada", "Lovelace", "1985-12-10")).await;
    let mut second = person("E-2", "Ada", "Lovelace", "1985-12-11");
    added(&app, &second).await;

    second.insert("job_title", "Analyst".into());
    let response = app
        .post_form("/employees/E-2", &edit_fields(&second, "1"))
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "nothing that makes a likeness changed"
    );

    second.insert("date_of_birth", "1985-12-10".into());
    let response = app
        .post_form("/employees/E-2", &edit_fields(&second, "2"))
        .await;
    assert!(
        page_of(response, 409)
            .await
            .contains("href=\"/employees/E-1\"")
    );

    let mut confirmed = edit_fields(&second, "2");
    confirmed.push(("confirm_distinct".into(), "E-1".into()));
    let response = app.post_form("/employees/E-2", &confirmed).await;
    assert_eq!(response.status().as_u16(), 303);
}

async fn the_pairs_page_finds_rows_written_behind_the_apps_back(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.database().execute(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date, date_of_birth)
         VALUES ('X-1', 'Grace', 'Hopper', 'x1@example.com', '2020-01-01', '1906-12-09'),
                ('X-2', 'grace', 'HOPPER', 'x2@example.com', '2020-01-01', '1906-12-09'),
                ('X-3', 'Grace', 'Hopper', 'x3@example.com', '2020-01-01', '1906-12-10')",
    );

    let page = app.get_html("/duplicates").await;
    assert!(page.contains("href=\"/employees/X-1\""), "{page}");
    assert!(page.contains("href=\"/employees/X-2\""), "{page}");
    assert!(
        !page.contains("href=\"/employees/X-3\""),
        "born another day: {page}"
    );
    assert!(page.contains("same name and date of birth"));
    assert!(page.contains("href=\"/employees/X-1/merge?other=X-2\""));

    // Their keys are known now, so a new record like them is asked about.
    let response = app
        .post_employee(&person("X-4", "Grace", "Hopper", "1906-12-09"))
        .await;
    assert_eq!(response.status().as_u16(), 409);

    let response = app
        .post_form(
            "/duplicates/distinct",
            &[("employee_id", "X-1"), ("other", "X-2")],
        )
        .await;
    let page = app.follow(response).await;
    assert!(page.contains("are kept as different people"), "{page}");
    assert!(
        !page.contains("href=\"/employees/X-1/merge?other=X-2\""),
        "{page}"
    );
    assert!(
        page.contains("No two records look like the same person"),
        "{page}"
    );
}

async fn a_merge_keeps_one_record_and_reserves_the_others_id_and_email(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &person("E-1", "Ada", "Lovelace", "1985-12-10")).await;
    let mut twin = fields(&person("E-2", "Ada", "Lovelace", "1985-12-10"));
    twin.push(("confirm_distinct".into(), "E-1".into()));
    twin.push(("job_title".into(), "Analyst".into()));
    twin.push(("phone".into(), "+44 20 7946 0018".into()));
    assert_eq!(
        app.post_form("/employees", &twin).await.status().as_u16(),
        303
    );
    let mut report = employee_form("E-3", "three@example.com");
    report.insert("manager_id", "E-2".into());
    added(&app, &report).await;

    let confirm = app.get_html("/employees/E-1/merge?other=E-2").await;
    assert!(confirm.contains("Merge E-2 into E-1"), "{confirm}");
    let response = merge(&app, "E-1", "E-2", ("1", "1")).await;
    let page = app.follow(response).await;
    assert!(page.contains("E-2 was merged into E-1"), "{page}");
    assert!(
        page.contains("Analyst"),
        "the empty job title was taken over: {page}"
    );
    assert!(page.contains("+44 20 7946 0018"), "{page}");

    let old = app.get("/employees/E-2").await;
    assert_eq!(old.status().as_u16(), 301);
    assert_eq!(old.headers()["location"], "/employees/E-1");
    let moved = app
        .database()
        .texts("SELECT manager_id AS s FROM employees WHERE employee_id = 'E-3'");
    assert_eq!(moved, ["E-1"]);
    let history = app.get_html("/employees/E-1/history").await;
    assert!(history.contains("Merged in"), "{history}");
    assert!(
        history.contains("Confirmed a different person than"),
        "E-2's own history is there: {history}"
    );
    let list = app.get_html("/employees").await;
    assert!(!list.contains("href=\"/employees/E-2\""), "{list}");

    for form in [
        employee_form("E-2", "fresh@example.com"),
        employee_form("E-7", "e-2@example.com"),
    ] {
        let response = app.post_employee(&form).await;
        let page = page_of(response, 409).await;
        assert!(
            page.contains("href=\"/employees/E-1\""),
            "names the survivor: {page}"
        );
    }
    if let Some(valkey) = app.valkey() {
        assert_eq!(valkey.get("roster:employee_id:E-2").as_deref(), Some("E-1"));
        assert_eq!(
            valkey.get("roster:email:e-2@example.com").as_deref(),
            Some("E-1")
        );
    }
    let mut managed = employee_form("E-8", "eight@example.com");
    managed.insert("manager_id", "E-2".into());
    let response = app.post_employee(&managed).await;
    // A merged-away record manages nobody.
    assert!(
        page_of(response, 422)
            .await
            .contains("E-2 was merged into E-1: enter E-1.")
    );

    // The survivor takes a new ID: the aliases now lead to it.
    let mut renamed = person("E-100", "Ada", "Lovelace", "1985-12-10");
    renamed.insert("email", "e-1@example.com".into());
    let version = field_value(&app.get_html("/employees/E-1/edit").await, "version").unwrap();
    let response = app
        .post_form("/employees/E-1", &edit_fields(&renamed, &version))
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let reuse = app
        .post_employee(&employee_form("E-2", "fresh@example.com"))
        .await;
    assert!(
        page_of(reuse, 409)
            .await
            .contains("href=\"/employees/E-100\"")
    );
    assert_eq!(
        app.get("/employees/E-2").await.headers()["location"],
        "/employees/E-100"
    );
}

async fn a_merge_never_makes_anyone_their_own_manager(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    // S reports to R, who reports to O: once O's reports move to S, S would report to
    // R, who reports to S.
    added(&app, &employee_form("O-1", "o@example.com")).await;
    let mut r = employee_form("R-1", "r@example.com");
    r.insert("manager_id", "O-1".into());
    added(&app, &r).await;
    let mut s = employee_form("S-1", "s@example.com");
    s.insert("manager_id", "R-1".into());
    added(&app, &s).await;

    let response = merge(&app, "S-1", "O-1", ("1", "1")).await;
    assert_eq!(response.status().as_u16(), 303);
    let managers = app.database().texts(
        "SELECT employee_id || '>' || coalesce(manager_id, '') AS s FROM employees \
         WHERE merged_into IS NULL ORDER BY employee_id",
    );
    assert_eq!(managers, ["R-1>S-1", "S-1>"]);
}

async fn a_stale_merge_changes_nothing(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &employee_form("E-1", "one@example.com")).await;
    added(&app, &employee_form("E-2", "two@example.com")).await;

    let response = merge(&app, "E-1", "E-2", ("1", "7")).await;
    assert!(page_of(response, 409).await.contains("Nothing was merged"));
    assert_eq!(app.get("/employees/E-2").await.status().as_u16(), 200);
    assert_eq!(
        app.database()
            .count("SELECT count(*) AS n FROM employees WHERE merged_into IS NOT NULL"),
        0
    );
}

async fn a_merge_racing_an_edit_has_one_outcome(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    for round in 0..5 {
        let (survivor, other) = (format!("S-{round}"), format!("O-{round}"));
        added(
            &app,
            &employee_form(&survivor, &format!("s{round}@example.com")),
        )
        .await;
        added(
            &app,
            &employee_form(&other, &format!("o{round}@example.com")),
        )
        .await;
        let edit_path = format!("/employees/{other}");
        let mut edited = employee_form(&other, &format!("o{round}@example.com"));
        edited.insert("job_title", "Edited".into());
        let edit_fields = edit_fields(&edited, "1");
        let (merge, edit) = tokio::join!(
            merge(&app, &survivor, &other, ("1", "1")),
            app.post_form(&edit_path, &edit_fields),
        );
        let statuses = (merge.status().as_u16(), edit.status().as_u16());
        let merged = app.database().count(&format!(
            "SELECT count(*) AS n FROM employees WHERE employee_id = '{other}' AND merged_into IS NOT NULL"
        ));
        let titled = app.database().count(&format!(
            "SELECT count(*) AS n FROM employees WHERE employee_id = '{other}' AND job_title = 'Edited'"
        ));
        match statuses {
            // The edit came after the merge committed: the record lives elsewhere now.
            (303, 409 | 301) => assert_eq!((merged, titled), (1, 0), "merge won"),
            (409, 303) => assert_eq!((merged, titled), (0, 1), "edit won"),
            other => panic!("exactly one may win, got {other:?}"),
        }
    }
}

async fn concurrent_double_submissions_make_one_record(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let page = app.get_html("/employees/new").await;
    let form_id = field_value(&page, "form_id").expect("the create form carries a form_id");
    let mut posted = fields(&employee_form("E-1", "one@example.com"));
    posted.push(("form_id".into(), form_id));

    let answers =
        futures_util::future::join_all((0..8).map(|_| app.post_form("/employees", &posted))).await;
    for answer in &answers {
        assert_eq!(answer.status().as_u16(), 303);
        assert_eq!(answer.headers()["location"], "/employees/E-1");
    }
    let again = app.post_form("/employees", &posted).await;
    assert_eq!(again.status().as_u16(), 303, "also after it succeeded");
    assert_eq!(stored(&app), 1);

    let fresh = field_value(&app.get_html("/employees/new").await, "form_id");
    assert_ne!(
        fresh,
        field_value(&page, "form_id"),
        "each form gets its own"
    );
}

async fn an_import_holds_back_likely_duplicates_unless_accepted(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    added(&app, &person("E-1", "Ada", "Lovelace", "1985-12-10")).await;
    let csv = "employee_id,first_name,last_name,email,hire_date,date_of_birth,phone\n\
               I-1,ADA,Lovelace,i1@example.com,2024-03-01,1985-12-10,\n\
               I-2,Bea,Ray,i2@example.com,2024-03-01,,+44 20 7946 0018\n\
               I-3,Cy,Ray,i3@example.com,2024-03-01,,+44 (20) 7946-0018\n\
               I-4,Di,Sun,i4@example.com,2024-03-01,,\n";

    let page = app.upload_csv_ticking(csv, &[]).await.text().await.unwrap();
    assert!(page.contains("look like people already on file"), "{page}");
    assert!(
        page.contains("looks like E-1 Ada Lovelace (same name and date of birth)"),
        "{page}"
    );
    assert!(page.contains("looks like line 3 (same phone)"), "{page}");
    assert_eq!(stored(&app), 1);

    let (code, report) = app.import_with_cli(csv, &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("line 2\tI-1\tpossible duplicate: looks like E-1"),
        "{report}"
    );
    assert_eq!(stored(&app), 1);

    let (code, report) = app.import_with_cli(csv, &["--accept-likely"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("Imported 4 records."), "{report}");
    assert_eq!(stored(&app), 5);
}
