//! Signing in and out. While no account exists, the sign-in page also creates the first
//! administrator, behind a setup token that only the server log shows.

use std::time::Instant;

use actix_session::Session;
use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::{Refusal, render, render_refused};
use super::session::{self, Layout, unix_now};
use super::{AppState, ClientAddress, WebError, see_other};
use crate::auth::{SessionClaims, Verdict, password};
use crate::domain::{NewPassword, Role, Username};
use crate::store::UserRecord;

const WRONG_CREDENTIALS: &str = "The username or password is not right.";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginParams {
    next: String,
    setup: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    password_confirm: String,
    next: String,
    setup: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    next: String,
    message: Option<String>,
    no_accounts: bool,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    username: String,
    setup: String,
    errors: Vec<String>,
}

/// Only a path on this site: `//evil.example`, `https://…`, or a path with characters
/// that browsers drop (`/\t/evil.example` becomes `//evil.example`) would send the user
/// away.
fn safe_next(next: &str) -> &str {
    let plain = !next
        .chars()
        .any(|c| c.is_control() || c == '\\' || c.is_whitespace());
    let local = next.starts_with('/') && !next.starts_with("//");
    if plain && local { next } else { "/employees" }
}

fn is_setup_token(state: &AppState, candidate: &str) -> bool {
    !candidate.is_empty() && bool::from(candidate.as_bytes().ct_eq(state.setup_token.as_bytes()))
}

pub async fn form(
    state: web::Data<AppState>,
    params: web::Query<LoginParams>,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    let no_accounts = state.store().user_count().await? == 0;
    if no_accounts && is_setup_token(&state, &params.setup) {
        let page = SetupPage {
            layout,
            username: String::new(),
            setup: params.setup.clone(),
            errors: Vec::new(),
        };
        return render(&page);
    }
    let page = LoginPage {
        layout,
        username: String::new(),
        next: params.next.clone(),
        message: None,
        no_accounts,
    };
    render(&page)
}

pub async fn submit(
    state: web::Data<AppState>,
    client: ClientAddress,
    session: Session,
    form: web::Form<LoginForm>,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    if !form.setup.is_empty() {
        return create_first_admin(&state, &session, form, layout).await;
    }
    let name = form.username.trim().to_lowercase();
    let address = client.0.to_string();
    let refuse = |refusal, message: &str, layout| {
        let page = LoginPage {
            layout,
            username: form.username.clone(),
            next: form.next.clone(),
            message: Some(message.to_owned()),
            no_accounts: false,
        };
        render_refused(&page, refusal)
    };
    match state.throttle.begin(&name, &address, Instant::now()) {
        Verdict::Refused { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60);
            let message = format!("Too many failed attempts. Try again in {minutes} minute(s).");
            return refuse(Refusal::Throttled, &message, layout);
        }
        Verdict::Allowed { delay } => tokio::time::sleep(delay).await,
    }
    let Some(user) = verified_user(&state, &name, form.password.clone()).await? else {
        return refuse(Refusal::WrongCredentials, WRONG_CREDENTIALS, layout);
    };
    state.throttle.succeeded(&name, &address);
    start_session(&state, &session, &user)?;
    Ok(see_other(safe_next(&form.next)))
}

/// Runs Argon2 (tens of milliseconds of CPU and 19 MiB each) off the async executor,
/// a few at a time: a flood of sign-ins waits here instead of exhausting memory or the
/// blocking threads the database calls need.
async fn password_work<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WebError> {
    let _permit = state
        .password_work
        .acquire()
        .await
        .map_err(|error| WebError::Internal(error.into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| WebError::Internal(error.into()))
}

/// A disabled account verifies like a wrong password, so the answer tells nothing more.
async fn verify_in_background(
    state: &AppState,
    password: String,
    user: Option<UserRecord>,
) -> Result<bool, WebError> {
    password_work(state, move || {
        let stored = user.as_ref().map(|user| user.password_hash.as_str());
        password::verify(&password, stored) && user.is_some_and(|user| user.enabled)
    })
    .await
}

fn start_session(state: &AppState, session: &Session, user: &UserRecord) -> Result<(), WebError> {
    state.accounts.upsert(user.account());
    session::sign_in(
        session,
        SessionClaims::new(user.id, user.session_epoch, unix_now()),
    )
}

/// The account `name` signs in to, if the password is its own. As slow for a name no
/// account has, so the answer does not tell which names exist.
async fn verified_user(
    state: &AppState,
    name: &str,
    password: String,
) -> Result<Option<UserRecord>, WebError> {
    let user = match Username::parse(name) {
        Ok(username) => state.store().find_user_by_name(username).await?,
        Err(_) => None,
    };
    let verified = verify_in_background(state, password, user.clone()).await?;
    Ok(user.filter(|_| verified))
}

/// The first administrator's name and password, or every problem with them.
fn parse_setup(form: &LoginForm) -> Result<(Username, NewPassword), Vec<String>> {
    let username = Username::parse(&form.username);
    let password = username
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|username| NewPassword::parse(&form.password, username));
    let mut errors: Vec<String> = [&username.as_ref().err(), &password.as_ref().err()]
        .into_iter()
        .flatten()
        .map(|message| message.to_string())
        .collect();
    if form.password != form.password_confirm {
        errors.push("The two passwords differ.".into());
    }
    match (username, password) {
        (Ok(username), Ok(password)) if errors.is_empty() => Ok((username, password)),
        _ => Err(errors),
    }
}

async fn create_first_admin(
    state: &AppState,
    session: &Session,
    form: LoginForm,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    if !is_setup_token(state, &form.setup) || state.store().user_count().await? > 0 {
        return Err(WebError::Forbidden(
            "This setup link is not valid, or an administrator already exists. Sign in instead.",
        ));
    }
    let (username, password) = match parse_setup(&form) {
        Ok(setup) => setup,
        Err(errors) => {
            let page = SetupPage {
                layout,
                username: form.username,
                setup: form.setup,
                errors,
            };
            return render_refused(&page, Refusal::Invalid);
        }
    };
    let hash = hash_in_background(state, password).await?;
    let user = state
        .store()
        .insert_user(username.clone(), hash, Role::Admin, username.to_string())
        .await?;
    start_session(state, session, &user)?;
    FlashMessage::success(format!(
        "Welcome, {}. You are the first administrator; add your colleagues under Users.",
        user.username
    ))
    .send();
    Ok(see_other("/admin/users"))
}

pub async fn hash_in_background(
    state: &AppState,
    password: NewPassword,
) -> Result<String, WebError> {
    password_work(state, move || password::hash(password.expose()))
        .await?
        .map_err(|error| WebError::Internal(error.into()))
}

pub async fn sign_out(session: Session) -> HttpResponse {
    session::sign_out(&session);
    FlashMessage::info("You are signed out.").send();
    see_other("/login")
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_leads_within_the_site() {
        assert_eq!(safe_next("/employees?q=a"), "/employees?q=a");
        for away in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "",
            "javascript:x",
        ] {
            assert_eq!(safe_next(away), "/employees", "{away}");
        }
    }
}
