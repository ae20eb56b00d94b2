use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use roster::config::{Purpose, Settings, SettingsArgs};
use roster::{commands, health_check, logging};

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
    /// Prints a line per row; exits with 1 if a row was rejected, or held back as a
    /// likely duplicate
    Import {
        /// The CSV file. Its first line names the columns: employee_id, first_name,
        /// last_name, email, hire_date (required), phone, date_of_birth, department
        /// (by name), job_title, manager_id, status, in any order
        file: PathBuf,
        /// Check every row and print the report, but store nothing
        #[arg(long)]
        dry_run: bool,
        /// Import rows that look like someone already on file or on another line (the
        /// same name and date of birth, or the same phone) instead of holding the file back
        #[arg(long)]
        accept_likely: bool,
        /// Create the departments the file names that do not exist yet (the report
        /// names them), instead of rejecting their rows
        #[arg(long)]
        create_departments: bool,
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
        Command::Serve => runtime.block_on(commands::serve(settings))?,
        Command::Migrate => runtime.block_on(commands::migrate(settings))?,
        Command::Reindex => runtime.block_on(commands::reindex(settings))?,
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    password_stdin,
                },
        } => commands::add_user(settings, &username, &role, password_stdin)?,
        Command::Import {
            file,
            dry_run,
            accept_likely,
            create_departments,
        } => {
            let options = roster::transfer::ImportOptions {
                dry_run,
                accept_likely,
                create_departments,
            };
            return runtime.block_on(commands::import(settings, file, options));
        }
        Command::Export { output } => runtime.block_on(commands::export(settings, output))?,
        Command::Health { .. } => unreachable!("answered before the settings are read"),
    }
    Ok(ExitCode::SUCCESS)
}
