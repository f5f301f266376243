//! An r2d2 connection manager that picks the backend from the URL.
//!
//! Diesel's own manager for a `MultiConnection` tries each backend in turn and reports the last
//! failure, which hides the real error (a wrong password reads as "invalid connection url").

use std::time::Duration;

use diesel::connection::{Connection, SimpleConnection, TransactionManager};
use diesel::r2d2::ManageConnection;

use super::{DatabaseUrl, DbConnection, budget};

/// How long a new PostgreSQL connection may take before libpq gives up (unless the URL says
/// otherwise): without it, a database host that drops packets would hang a connection attempt for
/// minutes.
const POSTGRES_CONNECT_TIMEOUT_SECONDS: u32 = 5;

/// Opens [`DbConnection`]s for the pool.
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// The longest a statement may run (`None`: no limit, for the command line and migrations).
    query_timeout: Option<Duration>,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl, query_timeout: Option<Duration>) -> Self {
        budget::install_sqlite_progress_handler();
        Self { url, query_timeout }
    }
}

/// The libpq URL to connect with: the configured one, with a connect timeout unless it sets one.
pub(super) fn postgres_url(url: &DatabaseUrl) -> String {
    let url = match url {
        DatabaseUrl::Postgres(url) => url,
        DatabaseUrl::Sqlite(path) => return path.clone(),
    };
    if url.contains("connect_timeout=") {
        return url.clone();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={POSTGRES_CONNECT_TIMEOUT_SECONDS}")
}

/// SQLite settings applied to every new connection. `busy_timeout` comes first: switching to WAL
/// takes a lock, and without the timeout parallel connections fail with "database is locked". A
/// writer waits for the lock no longer than the query time budget, so that waiting cannot hold a
/// connection for longer than working could.
fn sqlite_pragmas(busy_timeout: Duration) -> String {
    format!(
        "PRAGMA busy_timeout = {};
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;",
        busy_timeout.as_millis()
    )
}

/// Why a pooled connection could not be opened or checked.
#[derive(Debug, thiserror::Error)]
pub enum PoolConnectionError {
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = PoolConnectionError;

    fn connect(&self) -> Result<DbConnection, PoolConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(_) => {
                let mut conn = diesel::PgConnection::establish(&postgres_url(&self.url))?;
                if let Some(timeout) = self.query_timeout {
                    conn.batch_execute(&format!("SET statement_timeout = {}", timeout.as_millis()))?;
                }
                Ok(DbConnection::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                conn.batch_execute(&sqlite_pragmas(self.query_timeout.unwrap_or(Duration::from_secs(5))))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), PoolConnectionError> {
        Ok(conn.batch_execute("SELECT 1")?)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_connections_time_out_unless_the_url_says_otherwise() {
        let url = |s: &str| DatabaseUrl::Postgres(s.into());
        assert_eq!(postgres_url(&url("postgres://u@h/db")), "postgres://u@h/db?connect_timeout=5");
        assert_eq!(
            postgres_url(&url("postgres://u@h/db?sslmode=disable")),
            "postgres://u@h/db?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(postgres_url(&url("postgres://u@h/db?connect_timeout=30")), "postgres://u@h/db?connect_timeout=30");
    }
}
