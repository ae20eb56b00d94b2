use std::time::Duration;

use roster::domain::Role;

use crate::on_both_backends;
use crate::support::{
    Backend, PASSWORD, TestApp, employee_form, eventually, field_value, username,
};

on_both_backends!(
    the_first_start_offers_a_setup_link_that_creates_one_administrator,
    a_failed_sign_in_says_the_same_whether_or_not_the_user_exists,
    sign_in_returns_to_the_page_asked_for_and_never_leaves_the_site,
    a_disabled_account_loses_its_session_at_once,
    a_password_reset_ends_existing_sessions,
    a_post_without_the_right_csrf_token_changes_nothing,
    user_add_creates_an_account_that_can_sign_in,
);

async fn the_first_start_offers_a_setup_link_that_creates_one_administrator(backend: Backend) {
    let app = TestApp::on(backend).without_accounts().spawn().await;
    let link = app.setup_link.clone().expect("a setup link is printed");
    let setup_path = &link[link.find("/login").unwrap()..];
    let mut browser = app.anonymous();
    let login = browser.open_login().await;
    assert!(login.contains("No accounts exist yet"), "{login}");

    let form = browser.get_html(setup_path).await;
    assert!(form.contains("Create the first administrator"), "{form}");
    let setup = field_value(&form, "setup").unwrap();
    let fields = [
        ("setup", setup.as_str()),
        ("username", "Boss"),
        ("password", "a long enough password"),
        ("password_confirm", "a long enough password"),
    ];
    let created = browser.post_form("/login", &fields).await;
    assert_eq!(created.headers()["location"], "/admin/users");
    let page = browser.follow(created).await;
    assert!(page.contains("Welcome, boss."), "{page}");
    assert_eq!(
        app.database()
            .count("SELECT count(*) AS n FROM users WHERE role = 'admin'"),
        1
    );

    // Once an account exists the link is spent.
    let mut other = app.anonymous();
    other.open_login().await;
    let fields = [
        ("setup", setup.as_str()),
        ("username", "mallory"),
        ("password", "a long enough password"),
        ("password_confirm", "a long enough password"),
    ];
    assert_eq!(
        other.post_form("/login", &fields).await.status().as_u16(),
        403
    );
    assert_eq!(app.database().count("SELECT count(*) AS n FROM users"), 1);
}

async fn a_failed_sign_in_says_the_same_whether_or_not_the_user_exists(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let mut browser = app.anonymous();

    let wrong_password = browser
        .try_sign_in(username(Role::Hr), "not the password")
        .await;
    assert_eq!(wrong_password.status().as_u16(), 401);
    let wrong_password = wrong_password.text().await.unwrap();
    let no_such_user = browser.try_sign_in("nobody-here", "not the password").await;
    assert_eq!(no_such_user.status().as_u16(), 401);
    let no_such_user = no_such_user.text().await.unwrap();

    // Each page must have the message: two pages without one would compare equal.
    let message = |page: &str| {
        let rest = page
            .split("role=\"alert\"")
            .nth(1)
            .unwrap_or_else(|| panic!("no message on the page: {page}"));
        rest[..rest.find("</div>").unwrap()].to_owned()
    };
    assert_eq!(message(&wrong_password), message(&no_such_user));
    assert!(
        wrong_password.contains("value=\"hr-staff\""),
        "the username is kept"
    );
}

async fn sign_in_returns_to_the_page_asked_for_and_never_leaves_the_site(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let mut browser = app.anonymous();

    let bounce = browser.get("/employees/new?x=1").await;
    assert_eq!(bounce.status().as_u16(), 303);
    assert_eq!(
        bounce.headers()["location"],
        "/login?next=%2Femployees%2Fnew%3Fx%3D1"
    );

    browser.open_login().await;
    let fields = [
        ("username", username(Role::Hr)),
        ("password", PASSWORD),
        ("next", "/employees/new?x=1"),
    ];
    let response = browser.post_form("/login", &fields).await;
    assert_eq!(response.headers()["location"], "/employees/new?x=1");

    for away in [
        "//evil.example/",
        "/\t/evil.example/",
        "https://evil.example/",
    ] {
        let mut other = app.anonymous();
        other.open_login().await;
        let fields = [
            ("username", username(Role::Hr)),
            ("password", PASSWORD),
            ("next", away),
        ];
        let response = other.post_form("/login", &fields).await;
        assert_eq!(response.headers()["location"], "/employees", "{away:?}");
    }
}

fn user_id(app: &TestApp, role: Role) -> i64 {
    app.database().count(&format!(
        "SELECT id AS n FROM users WHERE username = '{}'",
        username(role)
    ))
}

async fn a_disabled_account_loses_its_session_at_once(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    assert_eq!(app.get("/employees").await.status().as_u16(), 200);

    let hr = user_id(&app, Role::Hr);
    let disabled = admin
        .post_form(&format!("/admin/users/{hr}/disable"), &[("x", "")])
        .await;
    assert_eq!(disabled.status().as_u16(), 303);

    assert_eq!(
        app.get("/employees").await.status().as_u16(),
        303,
        "back to sign-in"
    );
    assert_eq!(
        app.post_employee(&employee_form("E-1", "a@example.com"))
            .await
            .status()
            .as_u16(),
        401
    );
    let mut again = app.anonymous();
    assert_eq!(
        again
            .try_sign_in(username(Role::Hr), PASSWORD)
            .await
            .status()
            .as_u16(),
        401
    );

    admin
        .post_form(&format!("/admin/users/{hr}/enable"), &[("x", "")])
        .await;
    again.sign_in(username(Role::Hr), PASSWORD).await;
}

async fn a_password_reset_ends_existing_sessions(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    let admin = app.browser(Role::Admin).await;
    let hr = user_id(&app, Role::Hr);

    let reset = admin
        .post_form(
            &format!("/admin/users/{hr}/password"),
            &[("password", "a brand new password")],
        )
        .await;
    assert_eq!(reset.status().as_u16(), 303);

    assert_eq!(app.get("/employees").await.status().as_u16(), 303);
    let mut again = app.anonymous();
    assert_eq!(
        again
            .try_sign_in(username(Role::Hr), PASSWORD)
            .await
            .status()
            .as_u16(),
        401
    );
    again
        .sign_in(username(Role::Hr), "a brand new password")
        .await;
}

async fn a_post_without_the_right_csrf_token_changes_nothing(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;
    app.add_employee("E-1", "a@example.com").await;
    let admin = app.browser(Role::Admin).await;
    let create =
        "employee_id=E-2&first_name=A&last_name=B&email=b%40example.com&hire_date=2024-03-01";
    let edit = "version=1&employee_id=E-1&first_name=Changed&last_name=B&email=a%40example.com&hire_date=2024-03-01";

    for token in ["", "&csrf_token=", "&csrf_token=0123456789abcdef"] {
        let attempts = [
            (&*app, "/employees", format!("{create}{token}")),
            (&*app, "/employees/E-1", format!("{edit}{token}")),
            (&admin, "/employees/E-1/delete", format!("version=1{token}")),
            (
                &admin,
                "/admin/users",
                format!("username=sneaky&role=admin&password=a+long+password{token}"),
            ),
            (&admin, "/logout", token.trim_start_matches('&').to_owned()),
        ];
        for (browser, path, body) in attempts {
            let status = browser.post_raw(path, body).await.status().as_u16();
            assert_eq!(status, 403, "POST {path} with {token:?}");
        }
    }

    let mut db = app.database();
    assert_eq!(db.count("SELECT count(*) AS n FROM employees"), 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM employees WHERE first_name = 'Ann'"),
        1
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM users WHERE username = 'sneaky'"),
        0
    );
    assert_eq!(
        app.get("/employees").await.status().as_u16(),
        200,
        "still signed in"
    );
    // A token from another session is no good either.
    let other = app.browser(Role::Hr).await;
    let stolen = format!("{create}&csrf_token={}", other.csrf_token);
    assert_eq!(
        app.post_raw("/employees", stolen).await.status().as_u16(),
        403
    );
    // Nor is a token in the address, which logs and Referer headers would keep.
    let in_url = format!("/employees?csrf_token={}", app.csrf_token);
    assert_eq!(
        app.post_raw(&in_url, create.to_owned())
            .await
            .status()
            .as_u16(),
        403
    );
}

async fn user_add_creates_an_account_that_can_sign_in(backend: Backend) {
    let app = TestApp::on(backend).spawn().await;

    let added = app.run_cli_with_input(
        &["user", "add", "Carol", "--role", "hr", "--password-stdin"],
        "a long secret phrase\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut carol = app.anonymous();
    carol.sign_in("carol", "a long secret phrase").await;

    let again = app.run_cli_with_input(
        &[
            "user",
            "add",
            "carol",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "another long password\n",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));
    let weak = app.run_cli_with_input(
        &[
            "user",
            "add",
            "dave",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_slowed_then_refused_then_allowed_again() {
    let app = TestApp::on(Backend::Sqlite)
        .with_env("ROSTER_LOGIN_LOCKOUT_SECS", "2")
        .spawn()
        .await;
    let mut browser = app.anonymous();

    for _ in 0..10 {
        let status = browser
            .try_sign_in(username(Role::Viewer), "wrong password")
            .await
            .status()
            .as_u16();
        assert_eq!(status, 401);
    }
    let refused = browser.try_sign_in(username(Role::Viewer), PASSWORD).await;
    assert_eq!(
        refused.status().as_u16(),
        429,
        "refused even with the right password"
    );
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );

    eventually("the lockout to lift", Duration::from_secs(15), || async {
        let mut browser = app.anonymous();
        let status = browser
            .try_sign_in(username(Role::Viewer), PASSWORD)
            .await
            .status()
            .as_u16();
        (status == 303).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_http_only_same_site_and_secure_when_asked() {
    let plain = TestApp::on(Backend::Sqlite).spawn().await;
    let secure = plain
        .replica()
        .with_env("ROSTER_SECURE_COOKIES", "true")
        .spawn()
        .await;

    for (app, want_secure) in [(&plain, false), (&secure, true)] {
        let response = app.anonymous().get("/login").await;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .find(|value| value.starts_with("roster_session="))
            .expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert_eq!(cookie.contains("Secure"), want_secure, "{cookie}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_loses_its_sessions_on_every_replica() {
    let first = TestApp::on(Backend::Postgres).spawn().await;
    let second = first.replica().spawn().await;
    let admin = first.browser(Role::Admin).await;
    assert_eq!(second.get("/employees").await.status().as_u16(), 200);

    let hr = user_id(&first, Role::Hr);
    admin
        .post_form(&format!("/admin/users/{hr}/disable"), &[("x", "")])
        .await;

    eventually(
        "the other replica to end the session",
        Duration::from_secs(10),
        || async { (second.get("/employees").await.status().as_u16() == 303).then_some(()) },
    )
    .await;
}
