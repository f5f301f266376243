//! A time budget for each request's database work, so that no request can hold a pooled
//! connection for long: past it, the statement is cancelled and the request answers 503
//! (`ApiError::QueryTimeout`, mapped from the database's error in `error.rs`).
//!
//! PostgreSQL enforces it itself, per statement: `statement_timeout` is set on every pooled
//! connection (see `pool.rs`). SQLite has no such setting, so every SQLite connection this process
//! opens gets a progress handler (installed through `sqlite3_auto_extension`, which SQLite runs on
//! each new connection) that interrupts the running statement once the deadline of the work on its
//! thread has passed. The deadline is per thread: `Db::run` sets it around a request's work on the
//! blocking thread that runs it; the command line and migrations have none.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// SQLite virtual-machine steps between two looks at the clock: a few microseconds of work, so
/// the check costs nothing measurable and a statement stops within a millisecond of its deadline.
const STEPS_BETWEEN_CHECKS: c_int = 1000;

/// The deadline of the work on this thread, until dropped.
pub(super) struct Deadline(());

impl Deadline {
    pub(super) fn start(budget: Option<Duration>) -> Self {
        DEADLINE.set(budget.map(|budget| Instant::now() + budget));
        Self(())
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        DEADLINE.set(None);
    }
}

/// Installs the progress handler on every SQLite connection opened from now on. Idempotent.
pub(super) fn install_sqlite_progress_handler() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: registers a function with SQLite's documented entry-point signature; SQLite
        // calls it with a valid connection handle each time a connection is opened.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_new_connection)) };
        if rc != ffi::SQLITE_OK {
            tracing::error!(rc, "cannot install the SQLite query time budget");
        }
    });
}

unsafe extern "C" fn on_new_connection(
    db: *mut ffi::sqlite3,
    _error_message: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; the handler takes no context.
    unsafe { ffi::sqlite3_progress_handler(db, STEPS_BETWEEN_CHECKS, Some(over_budget), std::ptr::null_mut()) };
    ffi::SQLITE_OK
}

/// Non-zero interrupts the statement (SQLITE_INTERRUPT, "interrupted").
unsafe extern "C" fn over_budget(_: *mut c_void) -> c_int {
    DEADLINE.get().is_some_and(|deadline| Instant::now() >= deadline) as c_int
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;

    /// A query that would run for minutes is interrupted at its deadline, and the connection
    /// works afterwards.
    #[test]
    fn a_runaway_sqlite_query_is_interrupted_at_its_deadline() {
        install_sqlite_progress_handler();
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
        let started = Instant::now();
        let error = {
            let _deadline = Deadline::start(Some(Duration::from_millis(50)));
            diesel::sql_query(endless).execute(&mut conn).unwrap_err()
        };
        assert_eq!(error.to_string(), "interrupted");
        assert!(started.elapsed() < Duration::from_secs(5));
        // No deadline on this thread any more: the same connection runs a normal query to its end.
        let one: i32 = diesel::select(1.into_sql::<diesel::sql_types::Integer>()).get_result(&mut conn).unwrap();
        assert_eq!(one, 1);
    }
}
