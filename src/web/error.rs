//! The one place where errors become HTTP answers. Users see a short message; the log
//! gets the whole cause chain, once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::store::StoreError;
use crate::transfer::TransferError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("a service Roster depends on is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Unavailable(_) => WebError::Unavailable(error.into()),
            other => WebError::Internal(other.into()),
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
            WebError::BadRequest(message) => ("Bad request", message.clone()),
            WebError::Unauthorized => (
                "Please sign in",
                "Your session has ended or you are not signed in. Sign in and try again.".into(),
            ),
            WebError::Forbidden(message) => ("Not allowed", (*message).to_owned()),
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

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::Unavailable(cause) | WebError::Internal(cause) = self {
            log::error!("{self}: {cause:?}");
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

/// Renders a page with a status other than 200 (`WebTemplate` always answers 200).
pub fn render_with_status(
    page: &impl Template,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
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

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (WebError::from(StoreError::NotFound), 404),
            (WebError::BadRequest("x".into()), 400),
            (WebError::Unauthorized, 401),
            (WebError::Forbidden("x"), 403),
            (WebError::from(StoreError::Unavailable("gone".into())), 503),
            (
                WebError::from(StoreError::Query(diesel::result::Error::NotFound)),
                500,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code().as_u16(), status, "{error:?}");
            assert_eq!(error.error_response().status().as_u16(), status);
        }
    }
}
