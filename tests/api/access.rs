//! Who may reach what: every route, for every role and for nobody signed in. The table
//! is checked against the routes registered in `src/web/mod.rs`, so a new route
//! without an entry here fails this test.

use std::collections::BTreeSet;

use roster::domain::Role;

use crate::support::{Backend, Browser, TestApp};

struct Case {
    method: &'static str,
    /// As registered; `{employee_id}` and `{id}` are filled in.
    path: &'static str,
    body: &'static str,
    /// Expected status: signed out, viewer, hr, admin.
    expected: [u16; 4],
}

const fn case(
    method: &'static str,
    path: &'static str,
    body: &'static str,
    expected: [u16; 4],
) -> Case {
    Case {
        method,
        path,
        body,
        expected,
    }
}

const EMPLOYEE: &str =
    "employee_id=E-1&first_name=Ann&last_name=Lee&email=e1%40example.com&hire_date=2024-03-01";

/// Order matters only at the end: removing the record and signing out come last.
const TABLE: &[Case] = &[
    case("GET", "/healthz", "", [200, 200, 200, 200]),
    case("GET", "/readyz", "", [200, 200, 200, 200]),
    case("GET", "/metrics", "", [200, 200, 200, 200]),
    case("GET", "/static/style.css", "", [200, 200, 200, 200]),
    case("GET", "/static/submit-once.js", "", [200, 200, 200, 200]),
    case("GET", "/login", "", [200, 200, 200, 200]),
    case(
        "POST",
        "/login",
        "username=nobody&password=wrong+password",
        [401, 401, 401, 401],
    ),
    case("GET", "/", "", [303, 303, 303, 303]),
    case("GET", "/employees", "", [303, 200, 200, 200]),
    case(
        "POST",
        "/employees",
        "employee_id=C-{who}&first_name=A&last_name=B&email=c-{who}%40example.com&hire_date=2024-03-01",
        [401, 403, 303, 303],
    ),
    case("GET", "/employees/new", "", [303, 403, 200, 200]),
    case("GET", "/employees/import", "", [303, 403, 200, 200]),
    // A form without a file: the page asks for one.
    case("POST", "/employees/import", "", [401, 403, 422, 422]),
    case("GET", "/employees/export.csv", "", [303, 403, 200, 200]),
    case("GET", "/employees/{employee_id}", "", [303, 200, 200, 200]),
    case(
        "POST",
        "/employees/{employee_id}",
        "version=1&{employee}",
        [401, 403, 303, 303],
    ),
    case(
        "GET",
        "/employees/{employee_id}/edit",
        "",
        [303, 403, 200, 200],
    ),
    case(
        "GET",
        "/employees/{employee_id}/history",
        "",
        [303, 200, 200, 200],
    ),
    case(
        "GET",
        "/employees/{employee_id}/delete",
        "",
        [303, 403, 403, 200],
    ),
    // Without `other`, there is nothing to merge.
    case(
        "GET",
        "/employees/{employee_id}/merge",
        "",
        [303, 403, 404, 404],
    ),
    case(
        "POST",
        "/employees/{employee_id}/merge",
        "other=NOBODY-1&version=1&other_version=1",
        [401, 403, 404, 404],
    ),
    case(
        "GET",
        "/employees/{employee_id}/terminate",
        "",
        [303, 403, 200, 200],
    ),
    // A last day that is no date: the form says so.
    case(
        "POST",
        "/employees/{employee_id}/terminate",
        "termination_date=soon&version=1",
        [401, 403, 422, 422],
    ),
    // The record is active: there is nothing to reactivate.
    case(
        "POST",
        "/employees/{employee_id}/reactivate",
        "version=1",
        [401, 403, 409, 409],
    ),
    case("GET", "/org", "", [303, 200, 200, 200]),
    case("GET", "/departments", "", [303, 200, 200, 200]),
    case(
        "POST",
        "/departments",
        "name=Department+{who}",
        [401, 403, 403, 303],
    ),
    // `{id}` names no department.
    case("GET", "/departments/{id}", "", [303, 403, 403, 404]),
    case(
        "POST",
        "/departments/{id}",
        "name=Renamed",
        [401, 403, 403, 404],
    ),
    case(
        "POST",
        "/departments/{id}/archive",
        "archived=true",
        [401, 403, 403, 404],
    ),
    case("GET", "/duplicates", "", [303, 403, 200, 200]),
    case(
        "POST",
        "/duplicates/distinct",
        "employee_id=E-1&other=NOBODY-1",
        [401, 403, 404, 404],
    ),
    case("GET", "/admin/users", "", [303, 403, 403, 200]),
    case(
        "POST",
        "/admin/users",
        "username=new-{who}&role=viewer&password=another+long+password",
        [401, 403, 403, 303],
    ),
    case(
        "POST",
        "/admin/users/{id}/disable",
        "",
        [401, 403, 403, 303],
    ),
    case("POST", "/admin/users/{id}/enable", "", [401, 403, 403, 303]),
    case(
        "POST",
        "/admin/users/{id}/password",
        "password=brand+new+password+1",
        [401, 403, 403, 303],
    ),
    case(
        "POST",
        "/employees/{employee_id}/delete",
        "version=1",
        [401, 403, 403, 303],
    ),
    case("POST", "/logout", "", [401, 303, 303, 303]),
];

/// Every (method, path) that `src/web/mod.rs` registers, read from its source with the
/// white space taken out, so that formatting does not matter.
fn registered_routes() -> BTreeSet<(String, String)> {
    let source: String =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/mod.rs"))
            .unwrap()
            .split_whitespace()
            .collect();
    let method_at = |text: &str| {
        ["get", "post"]
            .into_iter()
            .find(|method| text.starts_with(&format!("web::{method}()")))
            .map(str::to_uppercase)
    };
    let mut routes = BTreeSet::new();
    for (start, _) in source.match_indices(".route(\"") {
        let rest = &source[start + ".route(\"".len()..];
        let path = &rest[..rest.find('"').unwrap()];
        let after = rest[path.len() + 1..].trim_start_matches(',');
        if let Some(method) = method_at(after) {
            routes.insert((method, path.to_owned()));
        }
    }
    for (start, _) in source.match_indices("web::resource(\"") {
        let rest = &source[start + "web::resource(\"".len()..];
        let path = &rest[..rest.find('"').unwrap()];
        let block = &rest[..rest.find(".service(").unwrap_or(rest.len())];
        for (at, _) in block.match_indices(".route(") {
            if let Some(method) = method_at(&block[at + ".route(".len()..]) {
                routes.insert((method, path.to_owned()));
            }
        }
    }
    routes
}

#[test]
fn every_registered_route_has_an_entry_in_the_table() {
    let registered = registered_routes();
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|case| (case.method.to_owned(), case.path.to_owned()))
        .collect();
    assert!(
        registered.len() > 15,
        "the route parser found too little: {registered:?}"
    );
    let missing: Vec<_> = registered.difference(&table).collect();
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes without an entry in the access table: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "entries for routes that do not exist: {stale:?}"
    );
}

async fn request(browser: &Browser, case: &Case, who: &str, target_user: i64) -> u16 {
    let path = case
        .path
        .replace("{employee_id}", "E-1")
        .replace("{id}", &target_user.to_string());
    let employee = EMPLOYEE.to_owned();
    let body = case
        .body
        .replace("{employee}", &employee)
        .replace("{who}", who);
    let response = match case.method {
        "GET" => browser.get(&path).await,
        _ => {
            let fields: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
            browser.post_form(&path, &fields).await
        }
    };
    response.status().as_u16()
}

crate::on_both_backends!(each_route_answers_each_role_as_the_table_says);

async fn each_route_answers_each_role_as_the_table_says(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "e1@example.com").await;
    app.database().execute(
        "INSERT INTO users (username, password_hash, role) VALUES ('target', 'x', 'viewer')",
    );
    let target = app
        .database()
        .count("SELECT id AS n FROM users WHERE username = 'target'");

    let mut anonymous = app.anonymous();
    anonymous.open_login().await;
    let browsers = [
        ("anonymous", anonymous),
        ("viewer", app.browser(Role::Viewer).await),
        ("hr", app.browser(Role::Hr).await),
        ("admin", app.browser(Role::Admin).await),
    ];
    let mut wrong = Vec::new();
    for (column, (who, browser)) in browsers.iter().enumerate() {
        for case in TABLE {
            let status = request(browser, case, who, target).await;
            if status != case.expected[column] {
                wrong.push(format!(
                    "{} {} as {who}: {status}, expected {}",
                    case.method, case.path, case.expected[column]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
