//! Sessions: the sign-in guard, the CSRF check, and what every page's layout needs.
//! The session lives in an encrypted, signed cookie; checking it needs no database.

use std::future::{Ready, ready};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use actix_web_flash_messages::IncomingFlashMessages;
use futures_util::StreamExt;
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::transfer::MAX_UPLOAD_BYTES;
use super::{AppState, Flash, WebError, flashes};
use crate::auth::{CurrentUser, SessionClaims};
use crate::domain::Role;

const CSRF_KEY: &str = "csrf";
const CLAIMS_KEY: &str = "claims";
/// Largest form body read for its CSRF token (the form extractor's own limit).
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Far longer than a real token (64 hex digits).
const MAX_TOKEN_BYTES: usize = 256;

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The session's CSRF token, made on first use; it stays the same for the session.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY) {
        return token;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    // An unserializable string cannot happen; without the token every POST fails 403.
    let _ = session.insert(CSRF_KEY, &token);
    token
}

/// Starts a signed-in session under a fresh cookie (no fixation) with a fresh token.
pub fn sign_in(session: &Session, claims: SessionClaims) -> Result<(), WebError> {
    session.renew();
    session.remove(CSRF_KEY);
    session.insert(CLAIMS_KEY, claims).map_err(|error| {
        WebError::Internal(anyhow::anyhow!("failed to store the session: {error}"))
    })?;
    csrf_token(session);
    Ok(())
}

pub fn sign_out(session: &Session) {
    session.purge();
}

fn signed_in_user(
    state: &AppState,
    session: &Session,
    now: i64,
) -> Option<(SessionClaims, CurrentUser)> {
    let claims = session.get::<SessionClaims>(CLAIMS_KEY).ok().flatten()?;
    if !claims.is_live(now, &state.session_policy) {
        return None;
    }
    let user = state.accounts.current_user(claims.user_id, claims.epoch)?;
    Some((claims, user))
}

/// Lets a request through only with a live session of an enabled account; otherwise a
/// GET goes to the sign-in page (and back afterwards), anything else gets 401.
pub async fn require_sign_in(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("no application state")))?;
    let session = request.get_session();
    let now = unix_now();
    let mut signed_in = signed_in_user(&state, &session, now);
    if signed_in.is_none() && has_claims_of_unknown_account(&state, &session) {
        // Made by another process (`roster user add`, another replica) after this one
        // loaded its accounts: learn them once, then check again.
        state.reload_accounts().await?;
        signed_in = signed_in_user(&state, &session, now);
    }
    let Some((claims, user)) = signed_in else {
        let response = not_signed_in(&request);
        return Ok(request.into_response(response).map_into_right_body());
    };
    if let Some(touched) = claims.touched(now) {
        let _ = session.insert(CLAIMS_KEY, touched);
    }
    request.extensions_mut().insert(user);
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A page asked for goes to the sign-in page, and back after it; anything else is 401.
fn not_signed_in(request: &ServiceRequest) -> HttpResponse {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return actix_web::ResponseError::error_response(&WebError::Unauthorized);
    }
    let next_page = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let query = serde_urlencoded::to_string([("next", next_page)]).unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/login?{query}")))
        .finish()
}

fn has_claims_of_unknown_account(state: &AppState, session: &Session) -> bool {
    matches!(
        session.get::<SessionClaims>(CLAIMS_KEY),
        Ok(Some(claims)) if !state.accounts.knows(claims.user_id)
    )
}

/// Every POST must carry the session's CSRF token in its form body (never the URL,
/// which logs and Referer headers keep). Anything else answers 403 and changes nothing.
pub async fn require_csrf_token(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if request.method() != Method::POST {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let expected = request.get_session().get::<String>(CSRF_KEY).ok().flatten();
    let (body, provided) = read_csrf_field(&mut request).await?;
    let valid = match (expected, provided) {
        (Some(expected), Some(provided)) => {
            bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
        }
        _ => false,
    };
    if !valid {
        let response = actix_web::ResponseError::error_response(&WebError::Forbidden(
            "This form has expired or did not come from Roster. Nothing was changed; reload the page and try again.",
        ));
        return Ok(request.into_response(response).map_into_right_body());
    }
    if let Some(bytes) = body {
        request.set_payload(Payload::from(bytes));
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The body as read (to be put back for the handler) and the token it carries.
async fn read_csrf_field(
    request: &mut ServiceRequest,
) -> Result<(Option<web::Bytes>, Option<String>), WebError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let bytes = read_body(request, MAX_FORM_BYTES).await?;
        let provided = csrf_field(&bytes);
        Ok((Some(bytes), provided))
    } else if content_type.starts_with("multipart/form-data")
        // Only signed-in users upload files: nobody else gets to make the server read
        // 32 MB (the sign-in form sits outside the sign-in guard).
        && request.extensions().contains::<CurrentUser>()
    {
        let bytes = read_body(request, MAX_UPLOAD_BYTES).await?;
        let provided = multipart_csrf_field(request.headers(), bytes.clone()).await;
        Ok((Some(bytes), provided))
    } else {
        Ok((None, None))
    }
}

async fn read_body(request: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, WebError> {
    let mut payload = request.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(WebError::BadRequest(format!(
                "The form is too large: at most {} KB.",
                limit / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The token among the parts of a file upload; the handler reads the body again.
async fn multipart_csrf_field(headers: &header::HeaderMap, body: web::Bytes) -> Option<String> {
    let parts = futures_util::stream::once(async move { Ok(body) });
    let mut multipart = actix_multipart::Multipart::new(headers, parts);
    while let Some(Ok(mut part)) = multipart.next().await {
        if part.name() != Some("csrf_token") {
            continue;
        }
        let mut value = Vec::new();
        while let Some(Ok(chunk)) = part.next().await {
            value.extend_from_slice(&chunk);
            if value.len() > MAX_TOKEN_BYTES {
                return None;
            }
        }
        return String::from_utf8(value).ok();
    }
    None
}

/// Only the token: the other fields are skipped, not copied (the handler parses the
/// form itself).
#[derive(serde::Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

fn csrf_field(urlencoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<TokenField>(urlencoded)
        .ok()?
        .csrf_token
}

/// The signed-in user, as the guard found them.
impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(request))
    }
}

/// A signed-in user who may change employee records (hr, admin): a handler taking
/// one says so in its signature, and is refused before its body is read.
pub struct Editor(pub CurrentUser);

/// A signed-in administrator.
pub struct Admin(pub CurrentUser);

fn signed_in(request: &HttpRequest) -> Result<CurrentUser, WebError> {
    request
        .extensions()
        .get::<CurrentUser>()
        .cloned()
        .ok_or(WebError::Unauthorized)
}

/// A role-checked extractor: the signed-in user, if their role passes `$allowed`;
/// otherwise `403` with `$refusal`.
macro_rules! role_extractor {
    ($name:ident, $allowed:path, $refusal:literal) => {
        impl FromRequest for $name {
            type Error = WebError;
            type Future = Ready<Result<Self, WebError>>;

            fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(signed_in(request).and_then(|user| {
                    if $allowed(user.role) {
                        Ok(Self(user))
                    } else {
                        Err(WebError::Forbidden($refusal))
                    }
                }))
            }
        }
    };
}

role_extractor!(
    Editor,
    Role::can_edit_employees,
    "Your account can read records but not change them."
);
role_extractor!(Admin, Role::is_admin, "Only an administrator may do this.");

/// What the base layout shows on every page.
pub struct Layout {
    pub flashes: Vec<Flash>,
    pub user: Option<CurrentUser>,
    pub csrf_token: String,
}

impl Layout {
    /// For pages rendered outside a session (error pages).
    pub fn bare() -> Self {
        Self {
            flashes: Vec::new(),
            user: None,
            csrf_token: String::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|user| user.role.is_admin())
    }

    pub fn can_edit(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|user| user.role.can_edit_employees())
    }
}

impl FromRequest for Layout {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = request.get_session();
        let incoming = IncomingFlashMessages::from_request(request, payload).into_inner();
        ready(Ok(Self {
            flashes: incoming
                .map(|messages| flashes(&messages))
                .unwrap_or_default(),
            user: request.extensions().get::<CurrentUser>().cloned(),
            csrf_token: csrf_token(&session),
        }))
    }
}
