//! Settings, read once at start from the environment (and a `.env` file) with
//! command-line flags of the same meaning winning, then checked as a whole so that a
//! misconfiguration stops the start with a message that says how to fix it.
//!
//! | variable | flag | default |
//! | --- | --- | --- |
//! | `DATABASE_URL` | `--database-url` | `sqlite://roster.db` |
//! | `VALKEY_URL` | `--valkey-url` | unset: the in-process index (SQLite only) |
//! | `ROSTER_BIND` | `--bind` | `127.0.0.1:8080` |
//! | `ROSTER_SECRET_KEY` | `--secret-key` | SQLite: generated once beside the database |
//! | `ROSTER_TRUSTED_PROXIES` | `--trusted-proxies` | none |
//! | `ROSTER_PHONE_REGION` | `--phone-region` | unset: only `+` numbers compare |
//! | `ROSTER_LOG_FORMAT` | `--log-format` | `text` |
//! | `RUST_LOG` | — | `info` |

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::{Args, ValueEnum};
use ipnet::IpNet;
use rand::RngCore;

/// The raw settings as clap reads them from flags and environment.
#[derive(Args, Clone)]
pub struct SettingsArgs {
    /// Where records are kept: `postgres://USER:PASSWORD@HOST:PORT/DB` or `sqlite://PATH`
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// The Valkey server of the duplicate index: `redis://HOST:PORT[/DB]` or `valkey://…`;
    /// unset, an in-process index is used (allowed only with SQLite)
    #[arg(long, env = "VALKEY_URL", global = true)]
    pub valkey_url: Option<String>,

    /// Address the web server listens on
    #[arg(
        long,
        env = "ROSTER_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Key (64+ bytes, hex or base64) that signs cookies; with SQLite, generated once
    /// and kept beside the database when unset
    #[arg(long, env = "ROSTER_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,

    /// Mark cookies Secure (sent over HTTPS only): set when users reach Roster through
    /// HTTPS, as behind a TLS-terminating proxy
    #[arg(long, env = "ROSTER_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,

    /// Seconds an account (or client address) is refused after too many failed
    /// sign-ins
    #[arg(
        long,
        env = "ROSTER_LOGIN_LOCKOUT_SECS",
        default_value_t = 900,
        global = true
    )]
    pub login_lockout_secs: u64,

    /// Addresses or CIDRs of the proxies in front of Roster, comma-separated: only
    /// from them is `X-Forwarded-For` believed as the client's address (sign-in
    /// throttling, logs)
    #[arg(
        long,
        env = "ROSTER_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<String>,

    /// Region (ISO 3166 alpha-2, e.g. GB) of phone numbers written without a country
    /// code, for finding the same phone written two ways; unset, only numbers written
    /// with + and a country code are compared
    #[arg(long, env = "ROSTER_PHONE_REGION", global = true)]
    pub phone_region: Option<String>,

    /// `text`, or `json` for one JSON object per log line
    #[arg(
        long,
        env = "ROSTER_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, ConfigError> {
        entries
            .into_iter()
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::BadTrustedProxy(entry.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }
}

/// Checked settings: holding one means the configuration is usable.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseUrl,
    pub valkey: Option<ValkeyUrl>,
    pub bind: SocketAddr,
    /// Always present when loaded for `Purpose::Serve`.
    pub secret_key: Option<SecretKey>,
    pub secure_cookies: bool,
    pub login_lockout: std::time::Duration,
    pub trusted_proxies: TrustedProxies,
    pub phone_region: Option<phonenumber::country::Id>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    Maintenance,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "DATABASE_URL {0:?} is not understood: use postgres://USER:PASSWORD@HOST:PORT/DB or sqlite://PATH"
    )]
    UnknownDatabaseScheme(String),
    #[error("DATABASE_URL names no SQLite file: use sqlite://PATH, for example sqlite://roster.db")]
    MissingSqlitePath,
    #[error(
        "an in-memory SQLite database is not supported: each pooled connection would see a different, empty database; use a file, sqlite://roster.db"
    )]
    InMemorySqlite,
    #[error(
        "VALKEY_URL {0:?} is not understood: use redis://HOST:PORT[/DB] or valkey://HOST:PORT[/DB]"
    )]
    BadValkeyUrl(String),
    #[error(
        "VALKEY_URL must be set with PostgreSQL: the in-process duplicate index is allowed only with SQLite, because several app processes may share one PostgreSQL"
    )]
    ValkeyRequired,
    #[error(
        "ROSTER_BIND {0:?} is not an address to listen on: use HOST:PORT, for example 127.0.0.1:8080"
    )]
    BadBind(String),
    #[error(
        "ROSTER_SECRET_KEY must be set with PostgreSQL (every replica needs the same key): generate one with `openssl rand -hex 64`"
    )]
    SecretKeyRequired,
    #[error("ROSTER_SECRET_KEY is not usable: {0}; generate one with `openssl rand -hex 64`")]
    BadSecretKey(&'static str),
    #[error(
        "ROSTER_TRUSTED_PROXIES entry {0:?} is neither an address nor a CIDR: use e.g. 10.0.0.5,172.16.0.0/12"
    )]
    BadTrustedProxy(String),
    #[error("{0}")]
    BadPhoneRegion(String),
    #[error("failed to read or create the secret key file {path}")]
    SecretKeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Settings {
    /// Checks everything; `Purpose::Maintenance` (migrate, reindex) skips what only the
    /// web server needs.
    pub fn load(args: &SettingsArgs, purpose: Purpose) -> Result<Self, ConfigError> {
        let database =
            DatabaseUrl::parse(set(Some(&args.database_url)).unwrap_or(DEFAULT_DATABASE_URL))?;
        let valkey = set(args.valkey_url.as_ref())
            .map(ValkeyUrl::parse)
            .transpose()?;
        let serving = purpose == Purpose::Serve;
        if serving && matches!(database, DatabaseUrl::Postgres(_)) && valkey.is_none() {
            return Err(ConfigError::ValkeyRequired);
        }
        let bind = parse_bind(set(Some(&args.bind)).unwrap_or(DEFAULT_BIND))?;
        let secret_key = match (set(args.secret_key.as_ref()), &database) {
            (Some(raw), _) => Some(SecretKey::parse(raw)?),
            (None, DatabaseUrl::Sqlite(path)) if serving => Some(SecretKey::beside_database(path)?),
            (None, DatabaseUrl::Postgres(_)) if serving => {
                return Err(ConfigError::SecretKeyRequired);
            }
            (None, _) => None,
        };
        Ok(Self {
            database,
            valkey,
            bind,
            secret_key,
            secure_cookies: args.secure_cookies,
            login_lockout: std::time::Duration::from_secs(args.login_lockout_secs.max(1)),
            trusted_proxies: TrustedProxies::parse(
                args.trusted_proxies.iter().map(String::as_str),
            )?,
            phone_region: set(args.phone_region.as_ref())
                .map(crate::domain::parse_phone_region)
                .transpose()
                .map_err(ConfigError::BadPhoneRegion)?,
        })
    }
}

/// A variable set to blanks counts as unset (`VALKEY_URL=` in a `.env` file, say).
fn set(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

const DEFAULT_DATABASE_URL: &str = "sqlite://roster.db";
const DEFAULT_BIND: &str = "127.0.0.1:8080";

fn parse_bind(raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| ConfigError::BadBind(raw.to_owned()))
}

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        else {
            return Err(ConfigError::UnknownDatabaseScheme(redact_password(raw)));
        };
        match path {
            "" => Err(ConfigError::MissingSqlitePath),
            ":memory:" => Err(ConfigError::InMemorySqlite),
            path => Ok(Self::Sqlite(PathBuf::from(path))),
        }
    }
}

/// Database URLs carry passwords; logs and `Debug` output must not.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => write!(f, "Postgres({})", redact_password(url)),
            Self::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f.write_str(&redact_password(url)),
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// A Valkey address in the form the client library understands (`redis://`).
#[derive(Clone, PartialEq, Eq)]
pub struct ValkeyUrl(String);

impl ValkeyUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        let rest = raw
            .strip_prefix("redis://")
            .or_else(|| raw.strip_prefix("valkey://"))
            .ok_or_else(|| ConfigError::BadValkeyUrl(redact_password(raw)))?;
        let host = rest.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || host.starts_with('/') {
            return Err(ConfigError::BadValkeyUrl(redact_password(raw)));
        }
        Ok(Self(format!("redis://{rest}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ValkeyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_password(&self.0))
    }
}

/// The key that signs cookies. Never printed.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub const MIN_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        let bytes = hex::decode(raw)
            .or_else(|_| base64::engine::general_purpose::STANDARD.decode(raw))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
            .map_err(|_| ConfigError::BadSecretKey("it is neither hex nor base64"))?;
        if bytes.len() < Self::MIN_LEN {
            return Err(ConfigError::BadSecretKey("it is shorter than 64 bytes"));
        }
        Ok(Self(bytes))
    }

    /// Embedded mode needs no setup: the key is made on first start and kept in a file
    /// next to the database, readable by its owner only, so sessions survive restarts.
    fn beside_database(database: &Path) -> Result<Self, ConfigError> {
        let mut path = database.as_os_str().to_owned();
        path.push(".secret-key");
        let path = PathBuf::from(path);
        let file_error = |source| ConfigError::SecretKeyFile {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(contents) => Self::parse(&contents),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; Self::MIN_LEN];
                rand::rng().fill_bytes(&mut bytes);
                match publish_private_file(&path, &hex::encode(&bytes)) {
                    Ok(()) => Ok(Self(bytes)),
                    // Another first start won the race: use its key.
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::parse(&std::fs::read_to_string(&path).map_err(file_error)?)
                    }
                    Err(error) => Err(file_error(error)),
                }
            }
            Err(error) => Err(file_error(error)),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Writes a file readable by its owner only, appearing whole or not at all: written
/// beside it first, then linked into place, which fails if the file already exists.
fn publish_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut draft = path.as_os_str().to_owned();
    draft.push(format!(".{}", uuid::Uuid::new_v4()));
    let draft = PathBuf::from(draft);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&draft)?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(database_url: &str) -> SettingsArgs {
        SettingsArgs {
            database_url: database_url.into(),
            valkey_url: None,
            bind: "127.0.0.1:0".into(),
            secret_key: Some("ab".repeat(64)),
            secure_cookies: false,
            login_lockout_secs: 900,
            trusted_proxies: Vec::new(),
            phone_region: None,
            log_format: LogFormat::Text,
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidrs() {
        let mut with_proxies = args("sqlite://x.db");
        with_proxies.trusted_proxies = vec!["10.0.0.0/8".into(), " 192.0.2.1 ".into()];
        let proxies = Settings::load(&with_proxies, Purpose::Maintenance)
            .unwrap()
            .trusted_proxies;
        assert!(proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(proxies.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!proxies.contains("192.0.2.2".parse().unwrap()));
        with_proxies.trusted_proxies = vec!["proxy.internal".into()];
        let error = Settings::load(&with_proxies, Purpose::Maintenance).unwrap_err();
        assert!(error.to_string().contains("neither an address nor a CIDR"));
    }

    #[test]
    fn postgres_without_valkey_is_refused() {
        let error =
            Settings::load(&args("postgres://u:p@localhost/db"), Purpose::Serve).unwrap_err();
        assert!(matches!(error, ConfigError::ValkeyRequired));
    }

    #[test]
    fn postgres_without_secret_key_is_refused() {
        let mut args = args("postgres://u:p@localhost/db");
        args.valkey_url = Some("valkey://localhost:6379".into());
        args.secret_key = None;
        assert!(matches!(
            Settings::load(&args, Purpose::Serve).unwrap_err(),
            ConfigError::SecretKeyRequired
        ));
    }

    #[test]
    fn maintenance_commands_need_neither_valkey_nor_a_key() {
        let mut args = args("postgres://u:p@localhost/db");
        args.secret_key = None;
        let settings = Settings::load(&args, Purpose::Maintenance).unwrap();
        assert!(settings.secret_key.is_none());
    }

    #[test]
    fn unknown_schemes_and_bad_values_are_named() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://x").unwrap_err(),
            ConfigError::UnknownDatabaseScheme(_)
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://:memory:").unwrap_err(),
            ConfigError::InMemorySqlite
        ));
        assert!(ValkeyUrl::parse("http://x").is_err());
        assert!(parse_bind("not an address").is_err());
        assert!(SecretKey::parse("abcd").is_err());
    }

    #[test]
    fn blank_variables_count_as_unset() {
        let mut args = args(" ");
        args.valkey_url = Some(String::new());
        args.bind = "  ".into();
        let settings = Settings::load(&args, Purpose::Serve).unwrap();
        assert_eq!(settings.database, DatabaseUrl::Sqlite("roster.db".into()));
        assert!(settings.valkey.is_none());
        assert_eq!(settings.bind.to_string(), DEFAULT_BIND);
    }

    #[test]
    fn valkey_scheme_is_accepted_as_redis() {
        assert_eq!(
            ValkeyUrl::parse("valkey://cache:6379/2").unwrap().as_str(),
            "redis://cache:6379/2"
        );
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://roster:hunter2@db/roster").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        let key = SecretKey::parse(&"ab".repeat(64)).unwrap();
        assert!(!format!("{key:?}").contains("ab"));
    }

    #[test]
    fn embedded_key_is_generated_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("roster-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("roster.db");
        let first = SecretKey::beside_database(&database).unwrap();
        let second = SecretKey::beside_database(&database).unwrap();
        assert_eq!(first.as_bytes(), second.as_bytes());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
