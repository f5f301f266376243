//! The `masthead` command: a thin layer over the library (see `lib.rs`), so that the tests exercise
//! the same application that this binary serves.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use masthead::auth::Role;
use masthead::authors::model::NewAccount;
use masthead::config::Config;
use masthead::db::Db;

/// Masthead: a headless CMS served as a JSON API. Configuration comes from the environment (and
/// `.env`); see `docs/configuration.md` for every variable.
#[derive(Parser)]
#[command(name = "masthead", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Migrates the database first.
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Manage accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print the OpenAPI document (JSON) on standard output.
    Openapi,
    /// Fill the database with demo content: 20 authors, 30 tags and N published articles.
    Demo {
        /// How many articles.
        #[arg(long, default_value_t = 1000)]
        articles: usize,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an account that can log in; reads the password from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input (never from the command
        /// line, where other users and shell history could see it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).ok_or_else(|| "must be one of admin, editor, author, contributor".to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", masthead::app::document_json());
        return ExitCode::SUCCESS;
    }
    // `.env` in the working directory only (not in parent directories); a missing one is normal,
    // a broken one is worth knowing about.
    if let Err(error) = dotenvy::from_path(".env")
        && !error.not_found()
    {
        eprintln!("error: cannot read .env: {error}");
        return ExitCode::FAILURE;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&config.log_filter);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(masthead::app::server::serve(config)),
        Command::Migrate => migrate(&config),
        Command::Users { command: UsersCommand::Add { email, name, role, password_stdin: _ } } => {
            add_user(&config, email, name, role)
        }
        Command::Demo { articles } => demo(&config, articles),
        Command::Openapi => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|error| {
        eprintln!("warning: MASTHEAD_LOG=`{filter}` is not a valid filter ({error}); using `info`");
        tracing_subscriber::EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

fn migrate(config: &Config) -> Result<(), String> {
    let db = Db::open(&config.database_url, masthead::settings::DbSettings::for_command_line())
        .map_err(|e| e.to_string())?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    println!(
        "database ({}) is up to date{}",
        config.database_url.backend_name(),
        if applied.is_empty() { "" } else { " (migrated)" }
    );
    Ok(())
}

/// An error for the terminal, with field errors spelled out.
fn describe(error: masthead::error::ApiError) -> String {
    match error {
        masthead::error::ApiError::Validation(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

fn demo(config: &Config, articles: usize) -> Result<(), String> {
    let db = Db::open(&config.database_url, masthead::settings::DbSettings::for_command_line())
        .map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(articles as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} articles, {per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let summary = masthead::app::demo::generate(&mut conn, articles, &config.password_hashing, |done| {
        bar.set_position(done as u64)
    })
    .map_err(|e| format!("cannot write the demo content: {}", describe(e)))?;
    bar.finish_and_clear();
    println!(
        "wrote {} articles by {} authors under {} tags in {:.1} s (demo login: ada.lovelace@demo.masthead / demo-password-0)",
        summary.articles,
        summary.authors,
        summary.tags,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn add_user(config: &Config, email: String, name: String, role: Role) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let db = Db::open(&config.database_url, masthead::settings::DbSettings::for_command_line())
        .map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let account = NewAccount { email, name, role, password };
    let author =
        masthead::authors::store::create_account(&mut conn, &account, &config.password_hashing).map_err(describe)?;
    println!(
        "created {} account {} <{}> (id {}, slug {})",
        role.as_str(),
        author.name,
        author.email.unwrap_or_default(),
        author.id,
        author.slug
    );
    Ok(())
}
