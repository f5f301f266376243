//! `masthead tokens …`: integration tokens from the command line, through the same store as the
//! routes and with the same key (from the JWT secret, so the command needs the server's
//! `MASTHEAD_JWT_SECRET`, or its secret file on loopback).

use clap::Subcommand;

use crate::auth::account::Account;
use crate::auth::integration_tokens::{TokenKey, display_prefix, generate, scopes_from_text};
use crate::auth::scopes::Scope;
use crate::config::{Config, Secret};
use crate::db::{Db, DbConnection};
use crate::error::ApiError;
use crate::tokens::store;

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Make a token acting as an account, and print it: it is shown this once.
    Add {
        /// The e-mail of the account it acts as.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        /// The scopes it carries (content:read, content:write, comments:moderate): `--scope a b`
        /// or `--scope a --scope b`.
        #[arg(long = "scope", required = true, num_args = 1.., value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// When it stops working (RFC 3339); never, without it.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// List unrevoked tokens (one account's with --owner), never the tokens themselves.
    List {
        #[arg(long)]
        owner: Option<String>,
    },
    /// Revoke a token, by its id.
    Revoke { id: i64 },
}

fn parse_scope(value: &str) -> Result<Scope, String> {
    Scope::parse(value).ok_or_else(|| {
        let scopes: Vec<&str> = Scope::ALL.iter().map(|scope| scope.as_str()).collect();
        format!("must be one of {}", scopes.join(", "))
    })
}

/// The server's JWT secret, which the tokens' hash key comes from: `MASTHEAD_JWT_SECRET`, or on
/// loopback the development secret file the server made. Never a new one: a token hashed under a
/// key the server does not have would be printed, and never work.
fn server_secret(config: &mut Config) -> Result<Secret, String> {
    if config.jwt_secret.is_none() && !config.dev_secret_path().exists() {
        return Err(
            "set MASTHEAD_JWT_SECRET to the server's secret: integration tokens are hashed under a key made from it"
                .into(),
        );
    }
    config.resolve_jwt_secret().map_err(|e| e.to_string())?;
    config.jwt_secret.clone().ok_or_else(|| "the JWT secret is not configured".to_string())
}

/// Runs one `masthead tokens` command.
pub fn run(mut config: Config, command: TokensCommand) -> Result<(), String> {
    let db =
        Db::open(&config.database_url, crate::settings::DbSettings::for_command_line()).map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let now = crate::db::now();
    let owner_id = |conn: &mut DbConnection, email: &str| -> Result<i64, String> {
        match Account::find_by_email(conn, email).map_err(ApiError::for_terminal)? {
            Some(account) if account.can_log_in() => Ok(account.id),
            Some(_) => Err(format!("the account {email} cannot log in (deactivated, or a byline only)")),
            None => Err(format!("no account has the e-mail {email}")),
        }
    };
    match command {
        TokensCommand::Add { owner, name, scopes, expires_at } => {
            let secret = server_secret(&mut config)?;
            let owner_id = owner_id(&mut conn, &owner)?;
            let (name, scopes, expires_at) =
                store::check(&name, &scopes, expires_at, now).map_err(ApiError::for_terminal)?;
            let token = generate();
            let new = store::NewToken {
                owner_id,
                name,
                scopes,
                expires_at,
                token_hash: TokenKey::new(&secret).hash(&token),
                token_prefix: display_prefix(&token),
            };
            let row = store::create(&mut conn, new, now).map_err(ApiError::for_terminal)?;
            eprintln!("made token {} ({}) for {owner}; it is shown this once:", row.id, row.name);
            println!("{token}");
        }
        TokensCommand::List { owner } => {
            let owner = owner.map(|email| owner_id(&mut conn, &email)).transpose()?;
            let page = crate::pagination::PageRequest::new(Some(1), Some(100)).map_err(ApiError::for_terminal)?;
            let (rows, total) = store::list(&mut conn, owner, page).map_err(ApiError::for_terminal)?;
            for row in rows {
                let scopes: Vec<_> = scopes_from_text(&row.scopes).iter().map(|s| s.as_str()).collect();
                let when = |t: Option<chrono::NaiveDateTime>| {
                    t.map_or("-".to_string(), |t| format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S")))
                };
                println!(
                    "{}\towner {}\t{}\t{}\t{}\texpires {}\tlast used {}",
                    row.id,
                    row.owner_id,
                    row.token_prefix,
                    row.name,
                    scopes.join(" "),
                    when(row.expires_at),
                    when(row.last_used_at)
                );
            }
            if total > 100 {
                eprintln!("(the newest 100 of {total})");
            }
        }
        TokensCommand::Revoke { id } => {
            store::revoke(&mut conn, id, |_| true, now).map_err(ApiError::for_terminal)?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}
