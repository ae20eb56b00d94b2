//! What each command of the `roster` binary does, once its settings are read: the
//! binary itself only parses its arguments and picks one.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::auth::password;
use crate::config::{Purpose, Settings};
use crate::domain::{NewPassword, Role, Username};
use crate::startup::{Application, connect};
use crate::store::StoreError;
use crate::transfer::{self, Exporter, ImportOptions};

/// Applies pending migrations, and says where.
pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    connect(&settings, Purpose::Maintenance).await?;
    println!("migrations applied to {}", settings.database);
    Ok(())
}

pub async fn import(
    settings: Settings,
    file: PathBuf,
    options: ImportOptions,
) -> anyhow::Result<ExitCode> {
    let csv = std::fs::read(&file).with_context(|| format!("failed to read {}", file.display()))?;
    // The servers' in-process indexes cannot be reached from here: until a server
    // restarts, a duplicate of an imported record is refused by the database, not them.
    let registry = connect(&settings, Purpose::Maintenance).await?.registry;
    let report = transfer::import(&registry, csv, "roster import".to_owned(), options).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    report.write_to(&mut out)?;
    out.flush()?;
    Ok(if report.rejected() == 0 && report.held() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn export(settings: Settings, output: Option<PathBuf>) -> anyhow::Result<()> {
    let store = connect(&settings, Purpose::Maintenance)
        .await?
        .registry
        .store;
    let mut exporter = Exporter::new(store).await?;
    let Some(path) = output else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        while let Some(chunk) = exporter.next_chunk().await? {
            out.write_all(&chunk)?;
        }
        return Ok(out.flush()?);
    };
    // Written beside the target and renamed into place, so that a failed export never
    // leaves a truncated file where a complete one is expected.
    let mut partial = path.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = async {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        while let Some(chunk) = exporter.next_chunk().await? {
            file.write_all(&chunk)?;
        }
        file.into_inner()
            .map_err(|error| error.into_error())?
            .sync_all()?;
        std::fs::rename(&partial, &path)?;
        anyhow::Ok(())
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.with_context(|| format!("failed to write {}", path.display()))
}

pub fn add_user(
    settings: Settings,
    username: &str,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let username = Username::parse(username)
        .map_err(|message| anyhow::anyhow!("the username is not usable: {message}"))?;
    let role = Role::parse(role).map_err(|message| anyhow::anyhow!("{message}"))?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("failed to read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password(format!("Password for {username}: "))
            .context("failed to read the password (use --password-stdin without a terminal)")?;
        let again = rpassword::prompt_password("Password again: ")
            .context("failed to read the password")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was changed"
        );
        first
    };
    let password = NewPassword::parse(&password, &username)
        .map_err(|message| anyhow::anyhow!("the password is not usable: {message}"))?;
    let hash = password::hash(password.expose())?;
    actix_web::rt::System::new().block_on(async move {
        let store = connect(&settings, Purpose::Maintenance)
            .await?
            .registry
            .store;
        let actor = "roster user add".to_owned();
        match store.insert_user(username.clone(), hash, role, actor).await {
            Ok(_) => {
                println!("account {username} added as {}", role.as_str());
                Ok(())
            }
            Err(StoreError::UsernameTaken) => {
                anyhow::bail!("the username {username} is taken; nothing was changed")
            }
            Err(error) => Err(error.into()),
        }
    })
}

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let address = settings.bind;
    let application = Application::build(settings).await?;
    // Printed, not logged: scripts and tests read the real port from this line.
    println!(
        "Roster listening on http://{}:{}",
        address.ip(),
        application.port()
    );
    if let Some(link) = application.setup_link() {
        println!(
            "No accounts yet. Create the first administrator at {link} \
             (or run `roster user add NAME --role admin`)."
        );
    }
    application.run_until_stopped().await?;
    Ok(())
}

pub async fn reindex(settings: Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.valkey.is_some(),
        "VALKEY_URL is not set: reindex rebuilds the Valkey index (the in-process index is rebuilt at every start)",
    );
    let registry = connect(&settings, Purpose::Maintenance).await?.registry;
    let count = registry.index.rebuild(&registry.store).await?;
    println!("duplicate index rebuilt from {count} records");
    let keyed = registry.store.fill_likeness_keys().await?;
    if keyed > 0 {
        println!("likeness keys computed for {keyed} records written by other tools");
    }
    let searchable = registry.store.fill_search_words().await?;
    if searchable > 0 {
        println!("search words computed for {searchable} records written by other tools");
    }
    Ok(())
}
