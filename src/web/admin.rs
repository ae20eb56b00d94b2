//! Accounts, for administrators: list, add, disable or enable, reset a password.

use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;

use super::error::{Refusal, render, render_refused};
use super::login::hash_in_background;
use super::session::{Admin, Layout};
use super::{AppState, WebError, see_other};
use crate::domain::{NewPassword, Role, Username};
use crate::store::{StoreError, UserRecord};

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    username: String,
    role: String,
    password: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRecord>,
    form_username: String,
    form_role: String,
    errors: Vec<String>,
}

impl UsersPage {
    fn roles(&self) -> [Role; 3] {
        Role::ALL
    }

    fn is_role(&self, role: &Role) -> bool {
        Role::parse(&self.form_role).unwrap_or(Role::Viewer) == *role
    }

    fn is_me(&self, user: &UserRecord) -> bool {
        self.layout.user.as_ref().is_some_and(|me| me.id == user.id)
    }
}

async fn users_page(
    state: &AppState,
    layout: Layout,
    form: NewUserForm,
    errors: Vec<String>,
    refusal: Option<Refusal>,
) -> Result<HttpResponse, WebError> {
    let page = UsersPage {
        layout,
        users: state.store().users().await?,
        form_username: form.username,
        form_role: form.role,
        errors,
    };
    match refusal {
        Some(refusal) => render_refused(&page, refusal),
        None => render(&page),
    }
}

impl NewUserForm {
    /// The new account's parts, or every problem with them.
    fn parse(&self) -> Result<(Username, Role, NewPassword), Vec<String>> {
        let username = Username::parse(&self.username);
        let role = Role::parse(&self.role);
        let password = match &username {
            Ok(username) => NewPassword::parse(&self.password, username),
            // Nothing to say about a password for no valid username.
            Err(_) => Err(String::new()),
        };
        match (username, role, password) {
            (Ok(username), Ok(role), Ok(password)) => Ok((username, role, password)),
            (username, role, password) => Err([username.err(), role.err(), password.err()]
                .into_iter()
                .flatten()
                .filter(|message| !message.is_empty())
                .collect()),
        }
    }
}

/// After an account changed: this replica knows at once, the others when signalled.
async fn account_changed(state: &AppState, changed: &UserRecord) {
    state.accounts.upsert(changed.account());
    state.accounts_signal.announce().await;
}

pub async fn users(
    state: web::Data<AppState>,
    _: Admin,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    users_page(&state, layout, NewUserForm::default(), Vec::new(), None).await
}

pub async fn add_user(
    state: web::Data<AppState>,
    Admin(user): Admin,
    layout: Layout,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let (username, role, password) = match form.parse() {
        Ok(account) => account,
        Err(errors) => {
            return users_page(&state, layout, form, errors, Some(Refusal::Invalid)).await;
        }
    };
    let hash = hash_in_background(&state, password).await?;
    match state
        .store()
        .insert_user(username, hash, role, user.username.clone())
        .await
    {
        Ok(added) => {
            state.accounts.upsert(added.account());
            FlashMessage::success(format!(
                "Account {} was added as {}.",
                added.username,
                role.label()
            ))
            .send();
            Ok(see_other("/admin/users"))
        }
        Err(StoreError::UsernameTaken) => {
            let errors = vec![format!("The username {} is taken.", form.username.trim())];
            users_page(&state, layout, form, errors, Some(Refusal::Conflict)).await
        }
        Err(error) => Err(error.into()),
    }
}

/// Enables (`ENABLED`) or disables an account: one handler for both routes.
pub async fn set_enabled<const ENABLED: bool>(
    state: web::Data<AppState>,
    Admin(user): Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    if id == user.id && !ENABLED {
        return Err(WebError::Forbidden("You cannot disable your own account."));
    }
    let changed = state
        .store()
        .set_user_enabled(id, ENABLED, user.username.clone())
        .await?;
    account_changed(&state, &changed).await;
    let verb = if ENABLED {
        "enabled"
    } else {
        "disabled; its sessions have ended"
    };
    FlashMessage::success(format!("Account {} was {verb}.", changed.username)).send();
    Ok(see_other("/admin/users"))
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    password: String,
}

pub async fn reset_password(
    state: web::Data<AppState>,
    Admin(user): Admin,
    layout: Layout,
    id: web::Path<i64>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let target = state.store().find_user(id).await?;
    let username = Username::parse(&target.username).map_err(|_| WebError::NotFound)?;
    let password = match NewPassword::parse(&form.password, &username) {
        Ok(password) => password,
        Err(message) => {
            let errors = vec![format!("New password for {}: {message}", target.username)];
            return users_page(
                &state,
                layout,
                NewUserForm::default(),
                errors,
                Some(Refusal::Invalid),
            )
            .await;
        }
    };
    let hash = hash_in_background(&state, password).await?;
    let changed = state
        .store()
        .set_user_password(id, hash, user.username.clone())
        .await?;
    account_changed(&state, &changed).await;
    FlashMessage::success(format!(
        "The password of {} was reset; their existing sessions have ended.",
        changed.username
    ))
    .send();
    Ok(see_other("/admin/users"))
}
