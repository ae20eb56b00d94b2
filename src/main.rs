use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use roster::auth::password;
use roster::config::{Purpose, Settings, SettingsArgs};
use roster::domain::{NewPassword, Role, Username};
use roster::startup::{Application, connect};
use roster::store::StoreError;
use roster::transfer::{self, Exporter};
use roster::{health_check, logging};

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

#[derive(Subcommand, Clone)]
enum Command {
    /// Run the web server, after applying pending migrations (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Rebuild the Valkey duplicate index from the database
    Reindex,
    /// Import employees from a CSV file: every row, or none if any is rejected.
    /// Prints a line per row; exits with 1 if a row was rejected
    Import {
        /// The CSV file. Its first line names the columns: employee_id, first_name,
        /// last_name, email, hire_date (required), phone, date_of_birth, department
        /// (by name), job_title, manager_id, status, in any order
        file: PathBuf,
        /// Check every row and print the report, but store nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Write every employee as CSV, in the columns import reads
    Export {
        /// The file to write (replaced only once complete); standard output if not given
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Exit 0 when a running server answers its /healthz with 200 (for container
    /// healthchecks in images without curl); exit 1, saying why, otherwise
    Health {
        /// The server's address
        #[arg(long, default_value = health_check::DEFAULT_URL)]
        url: String,
    },
    /// Manage sign-in accounts
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand, Clone)]
enum UserCommand {
    /// Create an account; asks for its password unless --password-stdin is given
    Add {
        /// 3–32 letters, digits, dots, hyphens or underscores
        username: String,
        /// What the account may do: admin (everything), hr (create and edit
        /// employees) or viewer (read only)
        #[arg(long, value_parser = ["admin", "hr", "viewer"])]
        role: String,
        /// Read the password from the first line of standard input (for scripts)
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    // A missing .env file is normal; settings then come from the environment alone.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // A server logs what it does; a command prints its own report and logs only trouble.
    let default_filter = if matches!(command, Command::Serve) {
        "info"
    } else {
        "warn"
    };
    logging::init(cli.settings.log_format, default_filter);
    let purpose = match command {
        Command::Serve => Purpose::Serve,
        Command::Migrate
        | Command::Health { .. }
        | Command::Reindex
        | Command::User { .. }
        | Command::Import { .. }
        | Command::Export { .. } => Purpose::Maintenance,
    };
    let outcome = match command {
        // Reads no settings: a healthcheck must not fail on the database's configuration.
        Command::Health { url } => health_check::check(&url)
            .map(|()| ExitCode::SUCCESS)
            .map_err(anyhow::Error::from),
        command => Settings::load(&cli.settings, purpose)
            .map_err(anyhow::Error::from)
            .and_then(|settings| run(command, settings)),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("roster: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    let runtime = actix_web::rt::System::new();
    match command {
        Command::Serve => runtime.block_on(serve(settings))?,
        Command::Migrate => {
            runtime.block_on(connect(&settings, Purpose::Maintenance))?;
            println!("migrations applied to {}", settings.database);
        }
        Command::Reindex => runtime.block_on(reindex(settings))?,
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    password_stdin,
                },
        } => add_user(settings, &username, &role, password_stdin)?,
        Command::Import { file, dry_run } => {
            return runtime.block_on(import(settings, file, dry_run));
        }
        Command::Export { output } => runtime.block_on(export(settings, output))?,
        Command::Health { .. } => unreachable!("answered before the settings are read"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(settings: Settings, file: PathBuf, dry_run: bool) -> anyhow::Result<ExitCode> {
    let csv = std::fs::read(&file).with_context(|| format!("failed to read {}", file.display()))?;
    // The servers' in-process indexes cannot be reached from here: until a server
    // restarts, a duplicate of an imported record is refused by the database, not them.
    let registry = connect(&settings, Purpose::Maintenance).await?.registry;
    let report = transfer::import(&registry, csv, "roster import".to_owned(), dry_run).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    report.write_to(&mut out)?;
    out.flush()?;
    Ok(if report.rejected() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn export(settings: Settings, output: Option<PathBuf>) -> anyhow::Result<()> {
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

fn add_user(
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

async fn serve(settings: Settings) -> anyhow::Result<()> {
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

async fn reindex(settings: Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.valkey.is_some(),
        "VALKEY_URL is not set: reindex rebuilds the Valkey index (the in-process index is rebuilt at every start)",
    );
    let registry = connect(&settings, Purpose::Maintenance).await?.registry;
    let count = registry.index.rebuild(&registry.store).await?;
    println!("duplicate index rebuilt from {count} records");
    Ok(())
}
