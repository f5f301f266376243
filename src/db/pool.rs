//! An r2d2 connection manager that picks the backend from the URL.
//!
//! Diesel's own manager for a `MultiConnection` tries each backend in turn and reports the last
//! failure, which hides the real error (a wrong password reads as "invalid connection url").

use std::time::Duration;

use diesel::connection::{Connection, SimpleConnection, TransactionManager};
use diesel::r2d2::ManageConnection;

use super::{DatabaseUrl, DbConnection, budget};

/// libpq settings added to a PostgreSQL URL that does not set them itself. Without them, a database
/// host that silently drops packets (a network partition, a failover that moved its address) would
/// hang a connection attempt, or a query on an open connection, for as long as the kernel keeps
/// retrying: about a quarter of an hour. With them, a connection attempt gives up after 5 s, and an
/// open connection is found dead within about 25 s.
const POSTGRES_NETWORK_DEFAULTS: [(&str, &str); 5] = [
    ("connect_timeout", "5"),
    ("keepalives_idle", "10"),
    ("keepalives_interval", "5"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
];

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

/// The libpq URL to connect with: the configured one, with the network defaults it does not set.
pub(super) fn postgres_url(url: &DatabaseUrl) -> String {
    let mut url = match url {
        DatabaseUrl::Postgres(url) => url.clone(),
        DatabaseUrl::Sqlite(path) => return path.clone(),
    };
    for (name, value) in POSTGRES_NETWORK_DEFAULTS {
        if !url.contains(&format!("{name}=")) {
            let separator = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{separator}{name}={value}");
        }
    }
    url
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
        let defaults =
            "connect_timeout=5&keepalives_idle=10&keepalives_interval=5&keepalives_count=3&tcp_user_timeout=10000";
        assert_eq!(postgres_url(&url("postgres://u@h/db")), format!("postgres://u@h/db?{defaults}"));
        assert_eq!(
            postgres_url(&url("postgres://u@h/db?sslmode=disable")),
            format!("postgres://u@h/db?sslmode=disable&{defaults}")
        );
        let own = postgres_url(&url("postgres://u@h/db?connect_timeout=30"));
        assert!(own.starts_with("postgres://u@h/db?connect_timeout=30&keepalives_idle=10"), "{own}");
        assert_eq!(own.matches("connect_timeout").count(), 1);
    }
}
