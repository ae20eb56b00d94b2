//! The one place where errors become HTTP answers, and where every status is chosen.
//! Users see a short message; the log gets the whole cause chain, once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::registry::WriteError;
use crate::store::StoreError;
use crate::transfer::TransferError;

/// Why a submission is answered with its page again (values kept, problems named)
/// instead of going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A sign-in with a wrong username or password.
    WrongCredentials,
    /// Values that break their field's rules, or refer to nothing.
    Invalid,
    /// A value another record holds, or a record changed since it was read.
    Conflict,
    /// Too many attempts in too short a time.
    Throttled,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::WrongCredentials => StatusCode::UNAUTHORIZED,
            Refusal::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Conflict => StatusCode::CONFLICT,
            Refusal::Throttled => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// For the write's form page: the refusal a failed write is shown with, or `None`
    /// when it is no fault of the submission (an outage, a bug, a record gone).
    pub fn of_write(error: &WriteError) -> Option<Self> {
        match error {
            WriteError::Duplicate(_) | WriteError::Likely(_) => Some(Refusal::Conflict),
            WriteError::Invalid(_) | WriteError::MissingReference(_) => Some(Refusal::Invalid),
            // A record merged away since its form was opened: like a stale one.
            WriteError::Store(StoreError::MergedInto(_)) => Some(Refusal::Conflict),
            WriteError::Store(error) => Self::of_store(error),
            WriteError::Interrupted(_) => None,
        }
    }

    fn of_store(error: &StoreError) -> Option<Self> {
        match error {
            StoreError::Conflict { .. }
            | StoreError::StaleVersion
            | StoreError::StillManaging
            | StoreError::UsernameTaken
            | StoreError::DepartmentTaken(_)
            | StoreError::StillManages(_)
            | StoreError::AlreadyIs(_) => Some(Refusal::Conflict),
            StoreError::MissingReference(_)
            | StoreError::NotOnStaff(_)
            | StoreError::ManagementLoop { .. }
            | StoreError::LeavingByForm { .. }
            | StoreError::DepartmentArchived => Some(Refusal::Invalid),
            StoreError::NotFound
            | StoreError::MergedInto(_)
            | StoreError::Violation { .. }
            | StoreError::Unavailable(_)
            | StoreError::Interrupted(_)
            | StoreError::Query(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// The record at this address was merged into another, which lives here now.
    #[error("moved permanently to {0}")]
    MovedTo(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// A refusal with no page of its own to show it on.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error("a service Roster depends on is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        if let Some(refusal) = Refusal::of_store(&error) {
            return WebError::Refused(refusal);
        }
        match error {
            StoreError::NotFound => WebError::NotFound,
            StoreError::MergedInto(survivor) => WebError::MovedTo(format!("/employees/{survivor}")),
            StoreError::Unavailable(_) => WebError::Unavailable(error.into()),
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<WriteError> for WebError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Store(error) => error.into(),
            other => match Refusal::of_write(&other) {
                Some(refusal) => WebError::Refused(refusal),
                None => WebError::Internal(other.into()),
            },
        }
    }
}

/// A file's own problems are shown on the import page itself; what is left is the
/// database's, or an internal failure.
impl From<TransferError> for WebError {
    fn from(error: TransferError) -> Self {
        match error {
            TransferError::Store(error) => error.into(),
            other => WebError::Internal(other.into()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: super::Layout,
    title: &'a str,
    message: &'a str,
}

impl WebError {
    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            WebError::NotFound => (
                "Not found",
                "There is nothing at this address. The record may have been removed, or the link mistyped.".into(),
            ),
            WebError::MovedTo(location) => ("Moved", format!("This record lives at {location} now.")),
            WebError::BadRequest(message) => ("Bad request", message.clone()),
            WebError::Unauthorized => (
                "Please sign in",
                "Your session has ended or you are not signed in. Sign in and try again.".into(),
            ),
            WebError::Forbidden(message) => ("Not allowed", (*message).to_owned()),
            WebError::Refused(refusal) => refusal_title_and_message(*refusal),
            WebError::Unavailable(_) => (
                "Temporarily unavailable",
                "The database cannot be reached right now. Nothing was changed; please try again in a moment.".into(),
            ),
            WebError::Internal(_) => (
                "Something went wrong",
                "An unexpected error stopped this request. Nothing was changed; the details are in the server log.".into(),
            ),
        }
    }
}

fn refusal_title_and_message(refusal: Refusal) -> (&'static str, String) {
    match refusal {
        Refusal::WrongCredentials => (
            "Please sign in",
            "The username or password is wrong.".into(),
        ),
        Refusal::Invalid => (
            "Not accepted",
            "Some values were not accepted. Nothing was changed; go back and correct them.".into(),
        ),
        Refusal::Conflict => (
            "Not saved",
            "This clashes with what is stored: a value is taken, or the record changed since you opened it. Nothing was changed.".into(),
        ),
        Refusal::Throttled => (
            "Too many attempts",
            "Too many attempts in a short time. Wait a few minutes, then try again.".into(),
        ),
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::MovedTo(_) => StatusCode::MOVED_PERMANENTLY,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Refused(refusal) => refusal.status(),
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::Unavailable(cause) | WebError::Internal(cause) = self {
            log::error!("{self}: {cause:?}");
        }
        if let WebError::MovedTo(location) = self {
            return HttpResponse::MovedPermanently()
                .insert_header((actix_web::http::header::LOCATION, location.as_str()))
                .finish();
        }
        let (title, message) = self.title_and_message();
        let page = ErrorPage {
            layout: super::Layout::bare(),
            title,
            message: &message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("{title}: {message}"));
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// A readiness probe's answer: its report as plain text, `200` when healthy and `503`
/// otherwise, so that a load balancer stops sending requests.
pub fn probe_answer(healthy: bool, report: String) -> HttpResponse {
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(status)
        .content_type("text/plain")
        .insert_header(("Cache-Control", "no-store"))
        .body(report)
}

/// A page that answers a request as asked (`200`).
pub fn render(page: &impl Template) -> Result<HttpResponse, WebError> {
    respond(page, StatusCode::OK)
}

/// A submission's page again, with the status its refusal carries.
pub fn render_refused(page: &impl Template, refusal: Refusal) -> Result<HttpResponse, WebError> {
    respond(page, refusal.status())
}

fn respond(page: &impl Template, status: StatusCode) -> Result<HttpResponse, WebError> {
    let body = page.render().map_err(|error| {
        WebError::Internal(anyhow::Error::new(error).context("failed to render a page"))
    })?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Field, FieldErrors};
    use crate::index::Clash;

    fn panicked_task() -> tokio::task::JoinError {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            tokio::spawn(async { panic!("a bug") })
                .await
                .expect_err("the task panicked")
        })
    }

    #[test]
    fn every_error_has_its_status_decided_here() {
        let duplicate = Clash {
            field: Field::Email,
            holder: None,
        };
        let cases = [
            (WebError::BadRequest("x".into()), 400),
            (WebError::Unauthorized, 401),
            (WebError::Refused(Refusal::WrongCredentials), 401),
            (WebError::Forbidden("x"), 403),
            (WebError::from(StoreError::NotFound), 404),
            (
                WebError::from(StoreError::MergedInto(
                    crate::domain::EmployeeId::parse("E-1").unwrap(),
                )),
                301,
            ),
            (WebError::from(WriteError::Store(StoreError::NotFound)), 404),
            (WebError::from(WriteError::Duplicate(vec![duplicate])), 409),
            (WebError::from(StoreError::StaleVersion), 409),
            (WebError::from(StoreError::StillManaging), 409),
            (WebError::from(StoreError::UsernameTaken), 409),
            (
                WebError::from(WriteError::Invalid(FieldErrors::default())),
                422,
            ),
            (
                WebError::from(WriteError::MissingReference(Field::ManagerId)),
                422,
            ),
            (WebError::Refused(Refusal::Throttled), 429),
            (WebError::from(StoreError::Unavailable("gone".into())), 503),
            (
                WebError::from(StoreError::Query(diesel::result::Error::NotFound)),
                500,
            ),
            (
                WebError::from(WriteError::Interrupted(panicked_task())),
                500,
            ),
            (
                WebError::from(StoreError::Interrupted("dropped".into())),
                500,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code().as_u16(), status, "{error:?}");
            assert_eq!(error.error_response().status().as_u16(), status);
        }
        assert_eq!(probe_answer(true, String::new()).status().as_u16(), 200);
        assert_eq!(probe_answer(false, String::new()).status().as_u16(), 503);
    }
}
