//! An r2d2 connection manager that picks the backend from the URL.
//!
//! Diesel's own manager for a `MultiConnection` tries each backend in turn and reports the last
//! failure, which hides the real error (a wrong password reads as "invalid connection url").

use diesel::connection::{Connection, SimpleConnection, TransactionManager};
use diesel::r2d2::ManageConnection;

use super::{DatabaseUrl, DbConnection};

/// SQLite settings applied to every new connection. `busy_timeout` comes first: switching to WAL
/// takes a lock, and without the timeout parallel connections fail with "database is locked".
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;";

/// Opens [`DbConnection`]s for the pool.
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
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
            DatabaseUrl::Postgres(url) => Ok(DbConnection::Postgres(diesel::PgConnection::establish(url)?)),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
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
