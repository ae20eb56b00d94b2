//! Wiring: pools, migrations, the duplicate index and its watcher, accounts, the HTTP
//! server. `Application::build` binds before it runs, so tests can ask for port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use actix_web_flash_messages::FlashMessagesFramework;
use actix_web_flash_messages::storage::CookieMessageStore;
use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::{AccountDirectory, AccountsSignal, LoginThrottle, SessionPolicy, ThrottlePolicy};
use crate::config::{Purpose, SecretKey, Settings};
use crate::index::{AnyIndex, DuplicateIndex, MemoryIndex, ValkeyIndex};
use crate::registry::Registry;
use crate::store::{SetupError, Store};
use crate::web::{AppState, Departments, HttpMetrics, WebError, observe, pages, probes};

/// How long one Valkey call may take before the request goes on without the index.
const VALKEY_TIMEOUT: Duration = Duration::from_millis(200);
const VALKEY_TIMEOUT_FOR_COMMANDS: Duration = Duration::from_secs(5);
const DEPARTMENTS_REFRESH: Duration = Duration::from_secs(60);
const ACCOUNTS_WATCH: Duration = Duration::from_secs(1);
const ACCOUNTS_RELOAD_WITHOUT_VALKEY: Duration = Duration::from_secs(30);
const MAX_FORM_BYTES: usize = 64 * 1024;
/// How long a starting server waits for its database, and how long between tries.
const DATABASE_WAIT: Duration = Duration::from_secs(60);
const DATABASE_RETRY: Duration = Duration::from_secs(2);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// Strict by default: no inline script or style, no framing, forms post only here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How often rows another tool wrote get their likeness keys and search words.
const FILL_KEYS_INTERVAL: Duration = Duration::from_secs(60);

/// Rows another tool wrote have no likeness keys or search words until the
/// application computes them: at start (in the background, so the first page is not
/// kept waiting), then every minute, so that a likely duplicate of such a row is asked
/// about soon after. (A search fills in the words it needs itself, first.)
async fn fill_computed_columns(store: Store) {
    let mut interval = tokio::time::interval(FILL_KEYS_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match store.fill_likeness_keys().await {
            Ok(0) => {}
            Ok(filled) => log::info!("likely duplicates: computed the keys of {filled} records"),
            Err(error) => log::warn!("likely duplicates: failed to compute keys: {error}"),
        }
        match store.fill_search_words().await {
            Ok(0) => {}
            Ok(filled) => log::info!("search: computed the words of {filled} records"),
            Err(error) => log::warn!("search: failed to compute words: {error}"),
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    setup_link: Option<String>,
}

/// The first-administrator token: derived from the secret key, so every replica knows
/// it without sharing state, and useless once any account exists.
fn setup_token(secret: &SecretKey) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(b"roster: first administrator setup");
    hex::encode(&mac.finalize().into_bytes()[..16])
}

impl Application {
    /// Connects, starts the background work, binds, and builds the server: everything a
    /// start can fail at happens here, before the first request.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let secret_key = settings
            .secret_key
            .clone()
            .context("a secret key is needed to serve")?;
        let services = connect(&settings, Purpose::Serve).await?;
        let index = Arc::clone(&services.registry.index);
        tokio::spawn(index.maintain(services.registry.store.clone()));
        tokio::spawn(fill_computed_columns(services.registry.store.clone()));
        let state = app_state(&settings, services, &secret_key).await?;
        tokio::spawn(refresh_departments(state.clone()));
        tokio::spawn(watch_accounts(state.clone()));

        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("failed to listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let setup_link = (state.store().user_count().await? == 0).then(|| {
            format!(
                "http://{}:{port}/login?setup={}",
                settings.bind.ip(),
                state.setup_token
            )
        });
        let server = http_server(state, listener, &settings, &secret_key)?;
        Ok(Self {
            port,
            server,
            setup_link,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// While no account exists: the link that creates the first administrator.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// What the server and every CLI command work through.
pub struct Services {
    pub registry: Registry,
    pub accounts_signal: AccountsSignal,
}

/// Opens the database (applying pending migrations) and the duplicate index, as the
/// purpose needs: a server waits for its database and gives Valkey little time per
/// call; a command tries once and waits longer on Valkey, as nobody is queueing behind
/// it. A command does not maintain the index: it uses it only if a server built it.
pub async fn connect(settings: &Settings, purpose: Purpose) -> anyhow::Result<Services> {
    crate::domain::set_phone_region(settings.phone_region);
    let store = match purpose {
        Purpose::Serve => wait_for_store(settings).await?,
        Purpose::Maintenance => open_store(settings, purpose).await?,
    };
    let valkey_timeout = match purpose {
        Purpose::Serve => VALKEY_TIMEOUT,
        Purpose::Maintenance => VALKEY_TIMEOUT_FOR_COMMANDS,
    };
    let backend = Arc::new(match &settings.valkey {
        Some(url) => AnyIndex::Valkey(ValkeyIndex::new(url, valkey_timeout)?),
        None => AnyIndex::Memory(MemoryIndex::default()),
    });
    let index = Arc::new(DuplicateIndex::new(Arc::clone(&backend)));
    if purpose == Purpose::Maintenance {
        index.attach().await;
    }
    Ok(Services {
        registry: Registry { store, index },
        accounts_signal: AccountsSignal::new(backend),
    })
}

async fn open_store(settings: &Settings, purpose: Purpose) -> anyhow::Result<Store> {
    let url = settings.database.clone();
    let opened = tokio::task::spawn_blocking(move || Store::connect(&url, purpose))
        .await
        .context("failed to connect to the database")?;
    Ok(opened?)
}

/// A container stack may start the app before its database accepts connections, so a
/// server waits for it, saying so at every try, instead of exiting at once.
async fn wait_for_store(settings: &Settings) -> anyhow::Result<Store> {
    let deadline = tokio::time::Instant::now() + DATABASE_WAIT;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match open_store(settings, Purpose::Serve).await {
            Ok(store) => return Ok(store),
            Err(error)
                if matches!(error.downcast_ref(), Some(SetupError::Connect { .. }))
                    && tokio::time::Instant::now() + DATABASE_RETRY < deadline =>
            {
                log::warn!(
                    "the database is not reachable yet (try {attempt}), trying again in {}s: {error:#}",
                    DATABASE_RETRY.as_secs(),
                );
                tokio::time::sleep(DATABASE_RETRY).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Everything a handler can reach, loaded: departments and accounts are read once
/// here, then kept current by the watchers.
async fn app_state(
    settings: &Settings,
    services: Services,
    secret_key: &SecretKey,
) -> anyhow::Result<web::Data<AppState>> {
    let state = web::Data::new(AppState {
        registry: services.registry,
        accounts_signal: services.accounts_signal,
        departments: Departments::default(),
        accounts: AccountDirectory::default(),
        throttle: LoginThrottle::new(ThrottlePolicy {
            lockout: settings.login_lockout,
            ..ThrottlePolicy::default()
        }),
        session_policy: SessionPolicy::default(),
        setup_token: setup_token(secret_key),
        password_work: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, usize::from),
        ),
        trusted_proxies: settings.trusted_proxies.clone(),
        http_metrics: HttpMetrics::default(),
        receipts: Default::default(),
    });
    state.departments.refresh(state.store()).await?;
    state
        .reload_accounts()
        .await
        .map_err(|error| anyhow::anyhow!("failed to load the accounts: {error:?}"))?;
    Ok(state)
}

fn http_server(
    state: web::Data<AppState>,
    listener: TcpListener,
    settings: &Settings,
    secret_key: &SecretKey,
) -> anyhow::Result<Server> {
    let key = Key::from(secret_key.as_bytes());
    let flash =
        FlashMessagesFramework::builder(CookieMessageStore::builder(key.clone()).build()).build();
    let secure_cookies = settings.secure_cookies;
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let blocking_threads_per_worker = state.store().pool_size().div_ceil(workers).max(2);
    let policy = state.session_policy;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(security_headers())
            .wrap(from_fn(observe))
            .app_data(state.clone())
            .configure(extractor_errors)
            .configure(probes)
            // Outside this scope no cookie is touched, so a stylesheet fetched in
            // parallel cannot swallow a pending flash message.
            .service(
                web::scope("")
                    .wrap(flash.clone())
                    .wrap(sessions(key.clone(), secure_cookies, policy))
                    .configure(pages),
            )
    })
    // Each worker has its own blocking pool (512 threads by default); the database
    // calls they run are bounded by the connection pool anyway, and every idle thread
    // keeps a malloc arena: no more threads than connections.
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads_per_worker)
    // On SIGTERM, requests in flight get this long to finish: less than the 30 s a
    // container engine waits before it kills.
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}

fn sessions(
    key: Key,
    secure_cookies: bool,
    policy: SessionPolicy,
) -> SessionMiddleware<CookieSessionStore> {
    let lifetime =
        CookieDuration::seconds(i64::try_from(policy.absolute.as_secs()).unwrap_or(i64::MAX));
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("roster_session".into())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(secure_cookies)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(lifetime))
        .build()
}

/// A form, query or path that cannot be read is answered as a page, like any error.
fn extractor_errors(config: &mut web::ServiceConfig) {
    config
        .app_data(
            web::FormConfig::default()
                .limit(MAX_FORM_BYTES)
                .error_handler(|error, _| {
                    WebError::BadRequest(format!("The form could not be read: {error}.")).into()
                }),
        )
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            WebError::BadRequest(format!("The address could not be read: {error}.")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|_, _| WebError::NotFound.into()));
}

async fn refresh_departments(state: web::Data<AppState>) {
    let mut interval = tokio::time::interval(DEPARTMENTS_REFRESH);
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Err(error) = state.departments.refresh(state.store()).await {
            log::warn!("failed to refresh the departments: {error}");
        }
    }
}

/// Reloads the accounts when another replica announces a change (an account disabled,
/// a password reset), so that revoked sessions end everywhere within a second. Asks
/// Valkey, not the database, so an idle system makes no queries; while Valkey cannot
/// be asked, reloads from the database now and then instead.
async fn watch_accounts(state: web::Data<AppState>) {
    let mut interval = tokio::time::interval(ACCOUNTS_WATCH);
    let mut seen = state.accounts_signal.revision().await;
    let mut last_reload = tokio::time::Instant::now();
    loop {
        interval.tick().await;
        let Some(revision) = state.accounts_signal.revision().await else {
            if last_reload.elapsed() >= ACCOUNTS_RELOAD_WITHOUT_VALKEY {
                last_reload = tokio::time::Instant::now();
                if let Err(error) = state.reload_accounts().await {
                    log::warn!("failed to reload the accounts: {error:?}");
                }
            }
            seen = None;
            continue;
        };
        if seen == Some(revision) {
            continue;
        }
        last_reload = tokio::time::Instant::now();
        match state.reload_accounts().await {
            Ok(()) => seen = Some(revision),
            Err(error) => log::warn!("failed to reload the accounts: {error:?}"),
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
