//! The `masthead` command: a thin layer over the library (see `lib.rs`), so that the tests exercise
//! the same application that this binary serves.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use masthead::app::token_commands::TokensCommand;
use masthead::auth::Role;
use masthead::authors::model::NewAccount;
use masthead::config::{Config, LogFormat};
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
    /// Manage integration tokens (for a CI pipeline, without an HTTP login).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Print the OpenAPI document (JSON) on standard output.
    Openapi,
    /// Write everything as JSON Lines (docs/export.md): authors (no passwords), tags, media
    /// records, articles, comments, redirects.
    Export {
        /// The file to write; `-` for standard output.
        file: PathBuf,
        /// Articles' revision history too.
        #[arg(long)]
        with_revisions: bool,
        /// Copy the media files into this directory too (`originals/…`).
        #[arg(long, value_name = "DIR")]
        media: Option<PathBuf>,
    },
    /// Copy the SQLite database to FILE while the server runs (checked, then renamed into place);
    /// on PostgreSQL, says which pg_dump and pg_restore commands to use.
    Backup {
        /// The copy to write; must not exist yet.
        file: PathBuf,
    },
    /// Bring content in from another system or another Masthead.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Fill the database with demo content: 20 authors, 30 tags and N published articles.
    Demo {
        /// How many articles.
        #[arg(long, default_value_t = 1000)]
        articles: usize,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Restore a `masthead export` into an empty database (also to move between SQLite and
    /// PostgreSQL): all of it, or nothing if any line is bad.
    Masthead {
        file: PathBuf,
        /// Copy the media files from this directory (as `export --media` wrote it) into the store.
        #[arg(long, value_name = "DIR")]
        media: Option<PathBuf>,
    },
    /// Import a WordPress export (WXR 1.0 to 1.2): posts, authors, categories and tags,
    /// comments, featured images, SEO fields, and a redirect from every old permalink. Run it
    /// again to finish an interrupted import: nothing is imported twice.
    Wordpress {
        file: PathBuf,
        #[command(flatten)]
        flags: ImportFlags,
    },
    /// Import a Ghost export (JSON, Ghost 2 to 5): posts, their authors in order, public tags,
    /// feature images, SEO fields and canonical URLs. Run it again to finish an interrupted
    /// import: nothing is imported twice.
    Ghost {
        file: PathBuf,
        /// The old site's origin (`https://old.example`), for Ghost's `__GHOST_URL__` in links and
        /// images; without it they stay relative to the site, and covers from it are left out.
        #[arg(long, value_name = "URL", value_parser = parse_site_url)]
        site_url: Option<String>,
        #[command(flatten)]
        flags: ImportFlags,
    },
}

/// What every import from another system takes.
#[derive(clap::Args)]
struct ImportFlags {
    /// Write nothing; print what would be done.
    #[arg(long)]
    dry_run: bool,
    /// Import pages too, as articles tagged `page`.
    #[arg(long)]
    pages: bool,
    /// Write the report as JSON to this file too.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Download featured images into the media library (through the SSRF guard) and use them as
    /// covers; without it, covers are the images' URLs.
    #[arg(long)]
    fetch_media: bool,
}

/// An `http(s)://host` origin, without a trailing slash.
fn parse_site_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    match masthead::error::is_http_url(url) {
        true => Ok(url.to_string()),
        false => Err("an http:// or https:// URL, like https://old.example".into()),
    }
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
    /// Set an account's password (accounts restored from an export have none); reads it from
    /// standard input. Every session of the account ends.
    Password {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
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
    init_logging(&config.log_filter, config.operations.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(masthead::app::server::serve(config)),
        Command::Migrate => migrate(&config),
        Command::Users { command: UsersCommand::Add { email, name, role, password_stdin: _ } } => {
            add_user(&config, email, name, role)
        }
        Command::Users { command: UsersCommand::Password { email, password_stdin: _ } } => {
            set_password(&config, &email)
        }
        Command::Demo { articles } => demo(&config, articles),
        Command::Backup { file } => masthead::db::backup::sqlite_backup(&config.database_url, &file).map(|copy| {
            println!("backed up to {} ({} bytes; integrity checked)", file.display(), copy.bytes);
        }),
        Command::Export { file, with_revisions, media } => export(&config, &file, with_revisions, media.as_deref()),
        Command::Import { command: ImportCommand::Masthead { file, media } } => {
            import_masthead(&config, &file, media.as_deref())
        }
        Command::Import { command: ImportCommand::Wordpress { file, flags } } => {
            let ImportFlags { dry_run, pages, report, fetch_media } = flags;
            let article_path = config.site.article_path.clone();
            let options = masthead::imports::wordpress::Options { dry_run, pages, article_path };
            let import = |progress: &mut dyn FnMut(u64, u64)| {
                masthead::app::archive_files::import_wordpress(&config, &file, options, fetch_media, progress)
            };
            run_import(dry_run, report.as_deref(), import)
        }
        Command::Import { command: ImportCommand::Ghost { file, site_url, flags } } => {
            let ImportFlags { dry_run, pages, report, fetch_media } = flags;
            let options = masthead::imports::ghost::Options { dry_run, pages, site_url };
            let import = |progress: &mut dyn FnMut(u64, u64)| {
                masthead::app::archive_files::import_ghost(&config, &file, options, fetch_media, progress)
            };
            run_import(dry_run, report.as_deref(), import)
        }
        Command::Tokens { command } => masthead::app::token_commands::run(config, command),
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

/// Logs on stderr: readable lines, or (`MASTHEAD_LOG_FORMAT=json`) one JSON object per line, whose
/// `span` holds the request id and account of the request the event belongs to.
fn init_logging(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|error| {
        eprintln!("warning: MASTHEAD_LOG=`{filter}` is not a valid filter ({error}); using `info`");
        tracing_subscriber::EnvFilter::new("info")
    });
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
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
    error.for_terminal()
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

fn export(config: &Config, file: &Path, with_revisions: bool, media: Option<&Path>) -> Result<(), String> {
    let options = masthead::archive::export::ExportOptions { with_revisions };
    let records = masthead::app::archive_files::export_to_file(config, file, options, media)?;
    eprintln!("exported {records} records to {}", file.display());
    Ok(())
}

fn import_masthead(config: &Config, file: &Path, media: Option<&Path>) -> Result<(), String> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let restored = masthead::app::archive_files::import_from_file(config, file, media, &mut |read, size| {
        bar.set_length(size);
        bar.set_position(read);
    });
    bar.finish_and_clear();
    let restored = restored?;
    println!(
        "restored {} authors, {} tags, {} media, {} articles, {} revisions, {} comments, {} redirects \
         (accounts have no password: set one with `masthead users password`)",
        restored.authors,
        restored.tags,
        restored.media,
        restored.articles,
        restored.revisions,
        restored.comments,
        restored.redirects
    );
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

fn set_password(config: &Config, email: &str) -> Result<(), String> {
    let password = read_password()?;
    let db = Db::open(&config.database_url, masthead::settings::DbSettings::for_command_line())
        .map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let account = masthead::auth::account::Account::find_by_email(&mut conn, email)
        .map_err(describe)?
        .ok_or_else(|| format!("no account has the e-mail {email}"))?;
    let hash =
        masthead::auth::password::hash_given_password(Some(&password), &config.password_hashing).map_err(describe)?;
    masthead::authors::store::give_password(&mut conn, account.id, &password, hash).map_err(describe)?;
    println!("set the password of {email} (id {})", account.id);
    Ok(())
}

/// Runs an import with a progress bar, prints its report (and writes it to `report_file`), and
/// fails when any record failed or the import stopped early.
fn run_import(
    dry_run: bool,
    report_file: Option<&Path>,
    import: impl FnOnce(&mut dyn FnMut(u64, u64)) -> Result<masthead::imports::Report, String>,
) -> Result<(), String> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = import(&mut |read, size| {
        bar.set_length(size);
        bar.set_position(read);
    });
    bar.finish_and_clear();
    let report = report?;
    if let Some(path) = report_file {
        let json = serde_json::to_vec_pretty(&report).map_err(|e| format!("cannot write the report: {e}"))?;
        std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("{}{}", if dry_run { "dry run, nothing written:\n" } else { "" }, report.summary());
    let failed: u64 = report.kinds.values().map(|tally| tally.failed).sum();
    match (&report.stopped, failed) {
        (Some(stopped), _) => Err(format!("the import stopped: {stopped}")),
        (None, 0) => Ok(()),
        (None, failed) => Err(format!("{failed} records failed (see above)")),
    }
}

fn add_user(config: &Config, email: String, name: String, role: Role) -> Result<(), String> {
    let password = read_password()?;
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
