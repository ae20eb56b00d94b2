use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use roster::config::{Purpose, Settings, SettingsArgs};
use roster::index::{AnyIndex, DuplicateIndex, ValkeyIndex};
use roster::startup::Application;
use roster::store::Store;

/// Roster: employee records with no duplicates, ever.
///
/// With no settings it runs embedded: records in ./roster.db (SQLite) and an in-process
/// duplicate index. Set DATABASE_URL and VALKEY_URL to run on PostgreSQL and Valkey.
#[derive(Parser)]
#[command(name = "roster", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Subcommand, Clone, Copy)]
enum Command {
    /// Run the web server, after applying pending migrations (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Rebuild the Valkey duplicate index from the database
    Reindex,
}

fn main() -> ExitCode {
    // A missing .env file is normal; settings then come from the environment alone.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let command = cli.command.unwrap_or(Command::Serve);
    let purpose = match command {
        Command::Serve => Purpose::Serve,
        Command::Migrate | Command::Reindex => Purpose::Maintenance,
    };
    let outcome = Settings::load(&cli.settings, purpose)
        .map_err(anyhow::Error::from)
        .and_then(|settings| run(command, settings));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("roster: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => actix_web::rt::System::new().block_on(serve(settings)),
        Command::Migrate => {
            Store::connect(&settings.database)?;
            println!("migrations applied to {}", settings.database);
            Ok(())
        }
        Command::Reindex => actix_web::rt::System::new().block_on(reindex(settings)),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let address = settings.bind;
    let application = Application::build(settings).await?;
    // Printed, not logged: scripts and tests read the real port from this line.
    println!(
        "Roster listening on http://{}:{}",
        address.ip(),
        application.port()
    );
    application.run_until_stopped().await?;
    Ok(())
}

async fn reindex(settings: Settings) -> anyhow::Result<()> {
    let url = settings.valkey.as_ref().context(
        "VALKEY_URL is not set: reindex rebuilds the Valkey index (the in-process index is rebuilt at every start)",
    )?;
    let database = settings.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::connect(&database)).await??;
    let index = DuplicateIndex::new(AnyIndex::Valkey(ValkeyIndex::new(
        url,
        std::time::Duration::from_secs(5),
    )?));
    let count = index.rebuild(&store).await?;
    println!("duplicate index rebuilt from {count} records");
    Ok(())
}
