use crate::on_both_backends;
use crate::support::{Backend, TestApp, employee_form};

on_both_backends!(
    the_list_shows_fifty_newest_first_with_page_links,
    search_matches_the_start_of_id_name_or_email_ignoring_case,
    an_unknown_or_malformed_employee_id_is_not_found,
    malformed_list_parameters_fall_back_to_the_default_with_a_notice,
    a_long_search_result_pages_on_without_counting_and_oldest_first_works_deep,
    a_search_over_many_records_finds_the_newest_matches_wherever_they_are,
);

/// Rows as an outside tool would write them: only the contract's five columns.
fn seed(app: &TestApp, count: usize) {
    let rows: Vec<String> = (1..=count)
        .map(|n| {
            format!("('S-{n:03}', 'First{n}', 'Last{n}', 'seed{n}@example.com', '2020-01-01')")
        })
        .collect();
    app.database().execute(&format!(
        "INSERT INTO employees (employee_id, first_name, last_name, email, hire_date) VALUES {}",
        rows.join(", ")
    ));
}

/// Where `text` first appears: comparing two `find`s would let a missing one pass, as
/// `None` sorts before every position.
fn position(page: &str, text: &str) -> usize {
    page.find(text)
        .unwrap_or_else(|| panic!("no {text:?} in {page}"))
}

fn rows(page: &str) -> usize {
    page.matches("<tr>").count() - 1 // the header row
}

async fn the_list_shows_fifty_newest_first_with_page_links(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    seed(&app, 55);

    let first = app.get_html("/employees").await;
    assert_eq!(rows(&first), 50);
    assert!(first.contains("55 employees"));
    assert!(first.contains("Page 1 of 2"));
    assert!(
        position(&first, "S-055") < position(&first, "S-054"),
        "newest first"
    );
    assert!(first.contains("href=\"/employees?page=2\""), "{first}");

    let second = app.get_html("/employees?page=2").await;
    assert_eq!(rows(&second), 5);
    assert!(second.contains("S-001"));
    assert!(second.contains("rel=\"prev\""));
}

async fn search_matches_the_start_of_id_name_or_email_ignoring_case(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    for (id, first, last, email) in [
        ("A-1", "Annika", "Berg", "ab@example.com"),
        ("B-2", "Bob", "Annson", "bob@example.com"),
        ("C-3", "Cid", "Cole", "anna.c@example.com"),
        ("ANN-4", "Dee", "Dane", "dee@example.com"),
        ("E-5", "Joanne", "Hannah", "e5@example.com"),
    ] {
        let mut form = employee_form(id, email);
        form.insert("first_name", first.into());
        form.insert("last_name", last.into());
        app.follow(app.post_employee(&form).await).await;
    }

    let page = app.get_html("/employees?q=aNN").await;

    for found in ["A-1", "B-2", "C-3", "ANN-4"] {
        assert!(page.contains(&format!(">{found}</a>")), "{found} missing");
    }
    assert!(
        !page.contains(">E-5</a>"),
        "a match inside a word is not a prefix"
    );
    assert!(page.contains("4 employees found"));
    let literal = app.get_html("/employees?q=%25").await;
    assert!(literal.contains("0 employees found"), "% is not a wildcard");
}

async fn an_unknown_or_malformed_employee_id_is_not_found(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;

    assert_eq!(app.get("/employees/E-404").await.status().as_u16(), 404);
    assert_eq!(
        app.get("/employees/%3Cscript%3E").await.status().as_u16(),
        404
    );
    assert_eq!(app.get("/no/such/page").await.status().as_u16(), 404);
}

async fn malformed_list_parameters_fall_back_to_the_default_with_a_notice(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "one@example.com").await;

    for (query, notice) in [
        ("page=0", "not a page number"),
        ("page=abc", "not a page number"),
        ("sort=sideways", "order in the link"),
        ("status=retired", "status in the link"),
        ("department=x", "department in the link"),
        ("per_page=7", "25, 50 or 100"),
    ] {
        let response = app.get(&format!("/employees?{query}")).await;
        assert_eq!(response.status().as_u16(), 200, "{query}");
        let page = response.text().await.unwrap();
        assert!(page.contains(notice), "{query}: {page}");
        assert!(
            page.contains(">E-1</a>"),
            "{query}: the default list is shown"
        );
    }
    assert_eq!(
        app.get("/employees?q=&status=&page=")
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_the_stylesheet_answer_without_a_session() {
    let app = TestApp::on(Backend::Sqlite).spawn().await;

    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    assert_eq!(app.readyz_status().await, 200);
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let page = app.get("/employees").await;
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"));
}

async fn a_long_search_result_pages_on_without_counting_and_oldest_first_works_deep(
    backend: Backend,
) {
    let app = TestApp::on(backend).spawn().await;
    seed(&app, 120);

    let first = app.get_html("/employees?q=FIRST").await;
    assert_eq!(rows(&first), 50);
    assert!(first.contains("120 employees found"), "counted: {first}");
    assert!(first.contains("rel=\"next\""));
    let last = app.get_html("/employees?q=first&page=3").await;
    assert_eq!(rows(&last), 20);
    assert!(last.contains("120 employees found"), "{last}");
    assert!(!last.contains("rel=\"next\""));

    let oldest = app.get_html("/employees?sort=oldest&page=3").await;
    assert_eq!(rows(&oldest), 20);
    assert!(
        position(&oldest, ">S-101</a>") < position(&oldest, ">S-120</a>"),
        "oldest first"
    );
    assert!(oldest.contains("Page 3 of 3"));
}

async fn a_search_over_many_records_finds_the_newest_matches_wherever_they_are(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    seed(&app, 2_100);

    // Common: the newest records hold a page of matches.
    let common = app.get_html("/employees?q=first").await;
    assert_eq!(rows(&common), 50);
    assert!(
        position(&common, ">S-2100</a>") < position(&common, ">S-2051</a>"),
        "newest first"
    );
    assert!(!common.contains(">S-2050</a>"));
    assert!(
        common.contains("More than 50 employees found"),
        "common matches are not counted: {common}"
    );
    // Rare and old: found beyond the newest records.
    let rare = app.get_html("/employees?q=s-00").await;
    assert_eq!(rows(&rare), 9, "{rare}");
    assert!(rare.contains("9 employees found"));
}
