//! Wiring: pools, migrations, the duplicate index and its watcher, the HTTP server.
//! `Application::build` binds before it runs, so tests can ask for port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Logger};
use actix_web::{App, HttpResponse, HttpServer, web};
use actix_web_flash_messages::FlashMessagesFramework;
use actix_web_flash_messages::storage::CookieMessageStore;
use anyhow::Context;

use crate::config::Settings;
use crate::index::{AnyIndex, DuplicateIndex, MemoryIndex, ValkeyIndex};
use crate::store::Store;
use crate::web::{AppState, Departments, WebError, pages, probes, stylesheet};

/// How long one Valkey call may take before the request goes on without the index.
const VALKEY_TIMEOUT: Duration = Duration::from_millis(200);
const DEPARTMENTS_REFRESH: Duration = Duration::from_secs(60);
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Strict by default: no inline script or style, no framing, forms post only here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let secret_key = settings
            .secret_key
            .clone()
            .context("a secret key is needed to serve")?;
        let store = connect_store(&settings).await?;
        let index = Arc::new(DuplicateIndex::new(match &settings.valkey {
            Some(url) => AnyIndex::Valkey(ValkeyIndex::new(url, VALKEY_TIMEOUT)?),
            None => AnyIndex::Memory(MemoryIndex::default()),
        }));
        tokio::spawn(Arc::clone(&index).maintain(store.clone()));

        let state = web::Data::new(AppState {
            store: store.clone(),
            index,
            departments: Departments::default(),
        });
        state.departments.refresh(&store).await?;
        tokio::spawn(refresh_departments(state.clone()));

        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("failed to listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let flash = FlashMessagesFramework::builder(
            CookieMessageStore::builder(Key::from(secret_key.as_bytes())).build(),
        )
        .build();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(security_headers())
                .wrap(
                    Logger::new("%s %r %Dms")
                        .exclude("/healthz")
                        .exclude("/readyz"),
                )
                .app_data(state.clone())
                .app_data(
                    web::FormConfig::default()
                        .limit(MAX_FORM_BYTES)
                        .error_handler(|error, _| {
                            WebError::BadRequest(format!("The form could not be read: {error}."))
                                .into()
                        }),
                )
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    WebError::BadRequest(format!("The address could not be read: {error}.")).into()
                }))
                .configure(probes)
                .route("/static/style.css", web::get().to(stylesheet))
                // Outside this scope no flash cookie is touched, so a stylesheet fetched
                // in parallel cannot swallow a pending message.
                .service(web::scope("").wrap(flash.clone()).configure(pages))
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn connect_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::connect(&url))
        .await
        .context("failed to connect to the database")??;
    Ok(store)
}

async fn refresh_departments(state: web::Data<AppState>) {
    let mut interval = tokio::time::interval(DEPARTMENTS_REFRESH);
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Err(error) = state.departments.refresh(&state.store).await {
            log::warn!("failed to refresh the departments: {error}");
        }
    }
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
}

async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
