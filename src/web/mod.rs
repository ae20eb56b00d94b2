//! HTTP: routes, handlers and the pages they render. Handlers stay thin: extract, parse,
//! call the registry or the store, flash, redirect.

mod employees;
mod error;
mod health;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use actix_web_flash_messages::IncomingFlashMessages;

use crate::index::DuplicateIndex;
use crate::store::Store;

pub use error::WebError;

/// What every handler can reach; built once in startup.
pub struct AppState {
    pub store: Store,
    pub index: Arc<DuplicateIndex>,
    pub departments: Departments,
}

/// Routes behind a session once sign-in exists (the guard will wrap this scope).
pub fn pages(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(home))
        .route("/employees", web::get().to(employees::list))
        .route("/employees", web::post().to(employees::create))
        .route("/employees/new", web::get().to(employees::new_form))
        .route("/employees/{employee_id}", web::get().to(employees::show));
}

/// Routes open to anyone: probes for load balancers and monitoring.
pub fn probes(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}

/// The stylesheet is compiled into the binary, so a release binary runs from any
/// directory; the version in its URL lets browsers cache it for a long time.
pub async fn stylesheet() -> HttpResponse {
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
pub struct Departments(std::sync::RwLock<Arc<Vec<crate::store::Department>>>);

impl Departments {
    pub fn current(&self) -> Arc<Vec<crate::store::Department>> {
        self.0
            .read()
            .map(|departments| Arc::clone(&departments))
            .unwrap_or_default()
    }

    pub async fn refresh(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        let fresh = Arc::new(store.departments().await?);
        if let Ok(mut departments) = self.0.write() {
            *departments = fresh;
        }
        Ok(())
    }
}
