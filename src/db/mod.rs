//! The database: one connection type over SQLite and PostgreSQL, its pool, its migrations, and the
//! bridge that runs blocking Diesel work off the async threads.
//!
//! Store functions take `&mut DbConnection` and are written once for both backends; only SQL that
//! differs between them (full-text search, `BEGIN IMMEDIATE`) matches on the variant, here or in one
//! small function next to the feature.

mod pool;

use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;
pub use pool::ConnectionManager;

/// A connection to either backend. Queries built with Diesel's DSL run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database a connection talks to, for the few queries whose SQL differs (search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbConnection {
    pub fn kind(&self) -> DbKind {
        match self {
            Self::Sqlite(_) => DbKind::Sqlite,
            Self::Postgres(_) => DbKind::Postgres,
        }
    }
}

/// The backend type of [`DbConnection`], for boxed (dynamically filtered) queries.
pub type DbBackend = MultiBackend;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://PATH`, `sqlite:PATH` or a plain path).
    Sqlite(String),
    /// A libpq URL (`postgres://…` or `postgresql://…`).
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        let path = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")).unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "`{}` is neither a PostgreSQL URL (postgres://…) nor a SQLite path (sqlite://masthead.db)",
                redact_password(raw)
            ));
        }
        if path == ":memory:" {
            return Err("an in-memory SQLite database cannot be shared by a connection pool; use a file".into());
        }
        Ok(Self::Sqlite(path.to_string()))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// `scheme://user:secret@host/…` → `scheme://user:***@host/…`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => match url[scheme_end..scheme_end + at].find(':') {
            Some(colon) => format!("{}***{}", &url[..scheme_end + colon + 1], &url[scheme_end + at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The shared handle to the pool; cheap to clone into every request.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
}

/// Why the database could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("cannot run the database migrations: {0}")]
    Migrate(String),
}

impl Db {
    /// Opens the pool (failing fast when the database is unreachable) and brings the schema up to
    /// date, so that every command works on a brand-new database.
    pub fn open(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbSetupError> {
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .build(ConnectionManager::new(url.clone()))
            .map_err(|e| DbSetupError::Connect(e.to_string()))?;
        let db = Self { pool };
        db.migrate()?;
        Ok(db)
    }

    /// Runs the pending migrations of the backend in use; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, DbSetupError> {
        let mut conn = self.pool.get().map_err(|e| DbSetupError::Connect(e.to_string()))?;
        let applied = run_migrations(&mut conn).map_err(DbSetupError::Migrate)?;
        fill_title_keys(&mut conn).map_err(|e| DbSetupError::Migrate(e.to_string()))?;
        Ok(applied)
    }

    /// A pooled connection for synchronous callers (the CLI, tests).
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager>, ApiError> {
        self.pool.get().map_err(|e| ApiError::Unavailable(format!("no database connection: {e}")))
    }

    /// Runs blocking database work on actix's blocking thread pool, so that request threads never
    /// wait on I/O. The closure gets a pooled connection.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.conn()?;
            work(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking database task failed: {e}")))?
    }
}

fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConnection::Sqlite(conn) => conn
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(|v| v.to_string()).collect()),
        DbConnection::Postgres(conn) => {
            // Several nodes may start at once against one database: let one migrate at a time.
            diesel::sql_query("SELECT pg_advisory_lock(7262737)").execute(conn).map_err(|e| e.to_string())?;
            let applied = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(|v| v.to_string()).collect::<Vec<_>>());
            let _ = diesel::sql_query("SELECT pg_advisory_unlock(7262737)").execute(conn);
            applied
        }
    };
    applied.map_err(|e| e.to_string())
}

/// Gives every article without a title sort key its key (`slugs::sort_key`): the rows written
/// before migration 000008, which SQL could not compute it for. Idempotent; once they are filled,
/// one index seek that finds nothing.
fn fill_title_keys(conn: &mut DbConnection) -> Result<(), diesel::result::Error> {
    use crate::schema::articles;
    let mut after = 0;
    let mut filled = 0;
    loop {
        let rows: Vec<(i64, String)> = articles::table
            .filter(articles::title_key.eq(""))
            .filter(articles::id.gt(after))
            .order(articles::id)
            .select((articles::id, articles::title))
            .limit(1000)
            .load(conn)?;
        let Some(&(last, _)) = rows.last() else {
            if filled > 0 {
                // Once, on the first start after migration 000008: say why the start took longer.
                tracing::info!(filled, "gave existing articles their title sort keys");
            }
            return Ok(());
        };
        filled += rows.len();
        conn.transaction(|conn| {
            for (id, title) in &rows {
                diesel::update(articles::table.find(id))
                    .set(articles::title_key.eq(crate::slugs::sort_key(title)))
                    .execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        after = last;
    }
}

/// Runs `work` in a transaction that writes. On SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock up front: a deferred transaction that reads and then writes can fail at once with
/// SQLITE_BUSY when another writer got in between, whatever the busy timeout.
pub fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?,
        DbConnection::Postgres(inner) => AnsiTransactionManager::begin_transaction(inner)?,
    }
    match work(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // A failed rollback leaves the connection marked broken; the pool then discards it.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// Runs `insert` in a savepoint of the caller's transaction and answers `Ok(None)` when it hits a
/// unique violation (someone else took the key first), so the caller can pick another key or use
/// the existing row; the transaction goes on. Check-then-insert alone is not enough on PostgreSQL,
/// where concurrent transactions do not see each other's rows until they commit.
pub fn insert_unless_taken<T>(
    conn: &mut DbConnection,
    insert: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<T>,
) -> Result<Option<T>, ApiError> {
    use diesel::result::{DatabaseErrorKind, Error};
    match conn.transaction(insert) {
        Ok(value) => Ok(Some(value)),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Serialises the write transactions that contend for `key` (a base slug, say) until each
/// commits, so that check-then-insert is safe. SQLite write transactions are serial already
/// (`BEGIN IMMEDIATE`); on PostgreSQL this takes a transaction-scoped advisory lock.
pub fn lock_key(conn: &mut DbConnection, key: &str) -> Result<(), ApiError> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends, for case-insensitive matching and ordering.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern (escape character `\`) matching text that contains `text`, lower-cased for
/// use against `lower(column)`; `%` and `_` in `text` match only themselves.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The current time as stored: UTC, truncated to microseconds (PostgreSQL's precision), so that
/// what a write returns equals what a later read returns on both backends.
pub fn now() -> NaiveDateTime {
    truncate(Utc::now().naive_utc())
}

/// A time as stored: truncated to microseconds.
pub fn truncate(time: NaiveDateTime) -> NaiveDateTime {
    time.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_password("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_password("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("masthead.db"), "masthead.db");
        assert!(DatabaseUrl::parse("mysql://u:hunter2@h/db").unwrap_err().contains("u:***@h"));
    }
}
