//! One browser tab: its cookies, the session's CSRF token, and the pages it follows to.

use std::time::Duration;

use super::forms::{EmployeeForm, employee_form, field_value};

pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
    pub csrf_token: String,
}

impl Browser {
    /// Signed in as nobody yet, and without a token until it opens a page.
    pub(super) fn new(address: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A request held up by a stalled dependency fails the test, never hangs it.
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            address: address.to_owned(),
            client,
            csrf_token: String::new(),
        }
    }

    /// Reads the CSRF token from the sign-in page, as a browser would have it.
    pub async fn open_login(&mut self) -> String {
        let page = self.get_html("/login").await;
        self.csrf_token =
            field_value(&page, "csrf_token").expect("the sign-in form has a CSRF token");
        page
    }

    pub async fn try_sign_in(&mut self, username: &str, password: &str) -> reqwest::Response {
        self.open_login().await;
        let form = [("username", username), ("password", password)];
        self.post_form("/login", &form).await
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) {
        let response = self.try_sign_in(username, password).await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "{username} could not sign in"
        );
        // Signing in starts a new session with a new token.
        let page = self.get_html("/employees").await;
        self.csrf_token = field_value(&page, "csrf_token").expect("pages carry the CSRF token");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts a form with this session's CSRF token, as the app's own pages do.
    pub async fn post_form<K: serde::Serialize, V: serde::Serialize>(
        &self,
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response {
        let mut body = serde_urlencoded::to_string(fields).unwrap();
        body.push_str(&format!("&csrf_token={}", self.csrf_token));
        self.post_raw(path, body).await
    }

    /// Posts exactly this urlencoded body: no token added.
    pub async fn post_raw(&self, path: &str, body: String) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a CSV file to the import page, with this session's CSRF token.
    pub async fn upload_csv(&self, csv: &str, dry_run: bool) -> reqwest::Response {
        let ticked: &[&str] = if dry_run { &["dry_run"] } else { &[] };
        self.upload_csv_ticking(csv, ticked).await
    }

    /// Uploads a CSV file with these checkboxes of the import page ticked.
    pub async fn upload_csv_ticking(&self, csv: &str, ticked: &[&str]) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new()
            .text("csrf_token", self.csrf_token.clone())
            .part(
                "file",
                reqwest::multipart::Part::text(csv.to_owned())
                    .file_name("employees.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            );
        for checkbox in ticked {
            form = form.text(checkbox.to_string(), "1");
        }
        self.client
            .post(self.url("/employees/import"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_employee(&self, form: &EmployeeForm) -> reqwest::Response {
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post_form("/employees", &fields).await
    }

    /// Adds an employee through the form, like a person would, and returns the page
    /// the browser lands on.
    pub async fn add_employee(&self, employee_id: &str, email: &str) -> String {
        self.follow(self.post_employee(&employee_form(employee_id, email)).await)
            .await
    }

    /// Follows a `303` like a browser, returning the page it leads to (with the flash
    /// the redirect left).
    pub async fn follow(&self, response: reqwest::Response) -> String {
        assert_eq!(response.status().as_u16(), 303, "expected a redirect");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        self.get_html(&location).await
    }

    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.get_html("/metrics").await;
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in {text}"))
    }

    pub async fn readyz_status(&self) -> u16 {
        self.get("/readyz").await.status().as_u16()
    }
}
