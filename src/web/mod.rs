//! HTTP: routes, handlers and the pages they render. Handlers stay thin: extract, parse,
//! call the registry or the store, flash, redirect.

mod admin;
mod departments;
mod employees;
mod error;
mod health;
mod login;
mod metrics;
mod observe;
mod org;
mod receipts;
mod session;
mod transfer;

use std::sync::Arc;

use actix_multipart::form::MultipartFormConfig;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use actix_web_flash_messages::IncomingFlashMessages;

use crate::auth::{AccountDirectory, AccountsSignal, LoginThrottle, SessionPolicy};
use crate::config::TrustedProxies;
use crate::index::DuplicateIndex;
use crate::registry::Registry;
use crate::store::{Department, Store, StoreError};

pub use error::WebError;
pub use metrics::HttpMetrics;
pub use observe::{ClientAddress, RequestId, observe};
pub use session::Layout;

/// What every handler can reach; built once in startup.
pub struct AppState {
    pub registry: Registry,
    pub accounts_signal: AccountsSignal,
    pub departments: Departments,
    pub accounts: AccountDirectory,
    pub throttle: LoginThrottle,
    pub session_policy: SessionPolicy,
    /// Opens the first-administrator form while no account exists (see `login`).
    pub setup_token: String,
    /// Password hashing in flight at once.
    pub password_work: tokio::sync::Semaphore,
    pub trusted_proxies: TrustedProxies,
    pub http_metrics: HttpMetrics,
    pub receipts: receipts::FormReceipts,
}

impl AppState {
    pub fn store(&self) -> &Store {
        &self.registry.store
    }

    pub fn index(&self) -> &Arc<DuplicateIndex> {
        &self.registry.index
    }

    pub async fn reload_accounts(&self) -> Result<(), WebError> {
        let users = self.store().users().await?;
        self.accounts
            .replace_all(users.iter().map(|user| user.account()).collect());
        Ok(())
    }
}

/// Routes open to anyone: probes for load balancers and monitoring.
pub fn probes(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::metrics))
        .route("/static/style.css", web::get().to(stylesheet))
        .route("/static/submit-once.js", web::get().to(submit_once_script));
}

/// Every page. Sign-in is open to anyone (but its form still needs its CSRF token);
/// everything else sits behind the one sign-in guard, then the CSRF check.
pub fn pages(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/login")
                .wrap(from_fn(session::require_csrf_token))
                .route(web::get().to(login::form))
                .route(web::post().to(login::submit)),
        )
        .service(
            web::scope("")
                .wrap(from_fn(session::require_csrf_token))
                .wrap(from_fn(session::require_sign_in))
                .app_data(
                    MultipartFormConfig::default()
                        .total_limit(transfer::MAX_UPLOAD_BYTES + 64 * 1024)
                        .memory_limit(transfer::MAX_UPLOAD_BYTES + 64 * 1024),
                )
                .route("/", web::get().to(home))
                .route("/logout", web::post().to(login::sign_out))
                .configure(employee_routes)
                .configure(department_routes)
                .configure(account_routes)
                .default_service(web::to(not_found)),
        );
}

fn employee_routes(config: &mut web::ServiceConfig) {
    config
        .route("/employees", web::get().to(employees::list))
        .route("/employees", web::post().to(employees::create))
        .route("/employees/new", web::get().to(employees::new_form))
        .route("/employees/import", web::get().to(transfer::import_form))
        .route("/employees/import", web::post().to(transfer::import))
        .route("/employees/export.csv", web::get().to(transfer::export))
        .route("/employees/{employee_id}", web::get().to(employees::show))
        .route(
            "/employees/{employee_id}",
            web::post().to(employees::update),
        )
        .route(
            "/employees/{employee_id}/edit",
            web::get().to(employees::edit_form),
        )
        .route(
            "/employees/{employee_id}/delete",
            web::get().to(employees::confirm_delete),
        )
        .route(
            "/employees/{employee_id}/delete",
            web::post().to(employees::delete),
        )
        .route(
            "/employees/{employee_id}/history",
            web::get().to(employees::history),
        )
        .route(
            "/employees/{employee_id}/merge",
            web::get().to(employees::confirm_merge),
        )
        .route(
            "/employees/{employee_id}/merge",
            web::post().to(employees::merge),
        )
        .route(
            "/employees/{employee_id}/terminate",
            web::get().to(employees::terminate_form),
        )
        .route(
            "/employees/{employee_id}/terminate",
            web::post().to(employees::terminate),
        )
        .route(
            "/employees/{employee_id}/reactivate",
            web::post().to(employees::reactivate),
        )
        .route("/duplicates", web::get().to(employees::duplicates))
        .route(
            "/duplicates/distinct",
            web::post().to(employees::not_the_same_person),
        );
}

fn department_routes(config: &mut web::ServiceConfig) {
    config
        .route("/org", web::get().to(org::chart))
        .route("/departments", web::get().to(departments::list))
        .route("/departments", web::post().to(departments::add))
        .route("/departments/{id}", web::get().to(departments::edit_form))
        .route("/departments/{id}", web::post().to(departments::update))
        .route(
            "/departments/{id}/archive",
            web::post().to(departments::archive),
        );
}

fn account_routes(config: &mut web::ServiceConfig) {
    config
        .route("/admin/users", web::get().to(admin::users))
        .route("/admin/users", web::post().to(admin::add_user))
        .route(
            "/admin/users/{id}/enable",
            web::post().to(admin::set_enabled::<true>),
        )
        .route(
            "/admin/users/{id}/disable",
            web::post().to(admin::set_enabled::<false>),
        )
        .route(
            "/admin/users/{id}/password",
            web::post().to(admin::reset_password),
        );
}

async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

/// The one script, compiled in like the stylesheet: progressive enhancement only.
async fn submit_once_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../static/submit-once.js"))
}

/// The stylesheet is compiled into the binary, so a release binary runs from any
/// directory; the version in its URL lets browsers cache it for a long time.
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../static/style.css"))
}

async fn home() -> HttpResponse {
    see_other("/employees")
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A flash message as the base layout shows it.
pub struct Flash {
    pub level: String,
    pub text: String,
}

fn flashes(incoming: &IncomingFlashMessages) -> Vec<Flash> {
    incoming
        .iter()
        .map(|message| Flash {
            level: message.level().to_string().to_lowercase(),
            text: message.content().to_owned(),
        })
        .collect()
}

/// The departments, kept in memory: they change rarely, and keeping them here lets a
/// rejected form be shown again without a database query (the duplicate path has none).
#[derive(Default)]
pub struct Departments(std::sync::RwLock<Arc<Vec<Department>>>);

/// Beyond this many departments a `<select>` of them all is too long to use (and to
/// send with every page): forms take a department's name instead, and the list links
/// to the departments page to pick one.
pub const MANY_DEPARTMENTS: usize = 50;

impl Departments {
    pub fn current(&self) -> Arc<Vec<Department>> {
        self.0
            .read()
            .map(|departments| Arc::clone(&departments))
            .unwrap_or_default()
    }

    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let fresh = Arc::new(store.departments().await?);
        if let Ok(mut departments) = self.0.write() {
            *departments = fresh;
        }
        Ok(())
    }
}
