//! The database: one connection type over SQLite and PostgreSQL, its pool, its migrations, and the
//! bridge that runs blocking Diesel work off the async threads, within bounds: a short wait for a
//! connection, a time budget for the work, and a fast answer while the database is down.
//!
//! Store functions take `&mut DbConnection` and are written once for both backends; only SQL that
//! differs between them (full-text search, `BEGIN IMMEDIATE`) matches on the variant, here or in one
//! small function next to the feature.

pub mod backup;
mod budget;
mod changes;
pub mod outbox;
mod pool;
mod transactions;
mod usage;
pub mod visibility;
mod watch;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;
use crate::error::{ApiError, Validator};
use crate::media_links::MediaLinks;
use crate::settings::{DatabaseUrl, DbSettings};
pub use changes::PublicChange;
pub use pool::ConnectionManager;
pub use transactions::{
    CHANGES_CHANNEL, articles_write_transaction, bookkeeping_transaction, commit_without_waiting, insert_unless_taken,
    lock_key, lock_keys, snapshot, touched_articles, write_transaction,
};
pub use usage::PoolUsage;
use usage::PoolWaits;
pub use watch::{ChangeObserver, Readiness};

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

/// The shared handle to the pool; cheap to clone into every request.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    url: DatabaseUrl,
    settings: DbSettings,
    /// One permit per connection: requests wait here, in order and for a bounded time, rather than
    /// on blocking threads inside the pool.
    slots: Arc<Semaphore>,
    /// Expensive work (full-text searches) may use at most a quarter of the connections (one at
    /// least), so that cheap reads always find one, and the database's CPUs too.
    expensive_slots: Arc<Semaphore>,
    /// How often requests waited for a connection, and gave up waiting (for the metrics).
    waits: Arc<PoolWaits>,
    watched: Arc<watch::Watched>,
    /// The time of this node's requests (see `clock`).
    clock: Clock,
    /// Woken when this node commits webhook events, so that its dispatcher sends them at once.
    outbox_signal: Arc<tokio::sync::Notify>,
    /// How this node writes media URLs (see `media_links`).
    media_links: Arc<MediaLinks>,
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
    pub fn open(url: &DatabaseUrl, settings: DbSettings) -> Result<Self, DbSetupError> {
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(settings.acquire_timeout)
            .build(ConnectionManager::new(url.clone(), settings.query_timeout))
            .map_err(|e| DbSetupError::Connect(e.to_string()))?;
        let pool_size = settings.pool_size as usize;
        let db = Self {
            pool,
            url: url.clone(),
            settings,
            slots: Arc::new(Semaphore::new(pool_size)),
            expensive_slots: Arc::new(Semaphore::new((pool_size / 4).max(1))),
            waits: Arc::default(),
            watched: Arc::new(watch::Watched::new()),
            clock: Clock::default(),
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            media_links: Arc::default(),
        };
        db.migrate()?;
        Ok(db)
    }

    /// Runs the pending migrations of the backend in use; returns the versions applied. On a
    /// connection of its own, without the requests' time budget: a migration may take long.
    pub fn migrate(&self) -> Result<Vec<String>, DbSetupError> {
        let mut conn = ConnectionManager::new(self.url.clone(), None)
            .connect()
            .map_err(|e| DbSetupError::Connect(e.to_string()))?;
        let applied = run_migrations(&mut conn).map_err(DbSetupError::Migrate)?;
        fill_title_keys(&mut conn).map_err(|e| DbSetupError::Migrate(e.to_string()))?;
        Ok(applied)
    }

    /// The same handle, writing media URLs with `links` inside [`Db::run`].
    pub fn with_media_links(mut self, links: MediaLinks) -> Self {
        self.media_links = Arc::new(links);
        self
    }

    /// How this node writes media URLs: what `MediaLinks::current()` gives inside [`Db::run`].
    pub fn media_links(&self) -> &MediaLinks {
        &self.media_links
    }

    /// The clock of this node's requests: what `db::now()` reads inside [`Db::run`].
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by this node's clock, as stored.
    pub fn now(&self) -> NaiveDateTime {
        truncate(self.clock.now().naive_utc())
    }

    /// What wakes the webhook dispatcher: notified after each commit that recorded events.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    /// Starts watching the database (health, and other nodes' writes; see `watch`). Serving needs
    /// it, and so do the tests of readiness and of the response cache; the command line does not.
    /// Start it after [`Db::observe`]: an observer registered later misses its first news.
    pub fn watch(&self) {
        watch::spawn(&self.watched, self.url.clone());
    }

    /// Tells `observer` about every change of public content, for as long as it lives.
    pub fn observe(&self, observer: Weak<dyn ChangeObserver>) {
        self.watched.observe(observer);
    }

    /// Whether other nodes' writes are being seen right now (the watcher read its feed within the
    /// last two seconds): what may be kept in memory is only as fresh as that.
    pub fn change_feed_live(&self) -> bool {
        self.watched.feed_live()
    }

    /// Whether this node should get traffic, from the watcher's last probe: at once, whatever the
    /// load.
    pub fn readiness(&self) -> Readiness {
        self.watched.readiness()
    }

    /// A pooled connection for synchronous callers (the CLI, tests).
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager>, ApiError> {
        self.pool.get().map_err(|e| ApiError::Unavailable(format!("no database connection: {e}")))
    }

    /// Runs blocking database work on actix's blocking thread pool, so that request threads never
    /// wait on I/O. The closure gets a pooled connection, after a wait of at most the configured
    /// acquire timeout (then 503, `Busy`), and has the configured time budget (then 503,
    /// `QueryTimeout`). While the database is out of reach it answers 503 at once.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_in(false, work).await
    }

    /// [`Db::run`] for work that may be expensive for anyone to ask (a full-text search): it gets
    /// at most a quarter of the pool, so that a burst of it cannot starve cheap reads.
    pub async fn run_expensive<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_in(true, work).await
    }

    /// [`Db::run_expensive`] without the time budget, for an admin's export: it reads the whole
    /// database in one snapshot however long that takes (PostgreSQL still bounds each statement),
    /// and stops when its reader goes away.
    pub async fn run_unbudgeted<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_with(true, None, work).await
    }

    async fn run_in<T, F>(&self, expensive: bool, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_with(expensive, self.settings.query_timeout, work).await
    }

    async fn run_with<T, F>(&self, expensive: bool, budget: Option<Duration>, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(problem) = self.watched.fail_fast() {
            return Err(ApiError::Unavailable(format!("the database is out of reach: {problem}")));
        }
        let until = Instant::now() + self.settings.acquire_timeout;
        let lane = if expensive { Some(self.wait_for(&self.expensive_slots, until, false).await?) } else { None };
        let slot = self.wait_for(&self.slots, until, true).await?;
        let db = self.clone();
        // Events logged by the work belong to the request too (its id and account).
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let permits = (slot, lane);
            let result = span.in_scope(|| db.work_on_connection(until, budget, work));
            drop(permits);
            result
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking database task failed: {e}")))?
    }

    /// A permit of `slots` (the connections, or the lane of expensive work), waiting at most until
    /// `until`; waits for a connection (`pool`) are counted for the metrics.
    async fn wait_for(
        &self,
        slots: &Arc<Semaphore>,
        until: Instant,
        pool: bool,
    ) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if pool {
            self.waits.waited.fetch_add(1, Ordering::Relaxed);
        }
        let waited = actix_web::rt::time::timeout(
            until.saturating_duration_since(Instant::now()),
            slots.clone().acquire_owned(),
        );
        match waited.await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(ApiError::Internal(format!("the connection slots are gone: {closed}"))),
            Err(_) => {
                let detail =
                    format!("no database connection came free within {} ms", self.settings.acquire_timeout.as_millis());
                Err(if pool { self.waits.timed_out(detail) } else { ApiError::Busy(detail) })
            }
        }
    }

    /// The blocking half of [`Db::run`]: a connection, the work within its budget, and what its
    /// commits tell (changes to public content, a disk with room again).
    fn work_on_connection<T>(
        &self,
        until: Instant,
        budget: Option<Duration>,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        // Whatever is left of the wait (a slot is a connection, unless one must be made first), and
        // time enough to make one.
        let patience = until.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
        let mut conn = match self.pool.get_timeout(patience) {
            Ok(conn) => conn,
            Err(error) => {
                let error = error.to_string();
                // r2d2 appends the last connection error to its timeout message. The database is
                // out of reach when no connection at all is left; with some still open (in use by
                // others), it only refuses more of them (at its connection limit, say): busy.
                if error.contains(": ") && self.pool.state().connections == 0 {
                    self.watched.connection_failed(&error);
                    return Err(ApiError::Unavailable(format!("no database connection: {error}")));
                }
                return Err(self.waits.timed_out(format!("no database connection: {error}")));
            }
        };
        self.watched.connection_succeeded();
        transactions::take_commits();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _deadline = budget::Deadline::start(budget);
            let node = self.watched.node();
            self.clock.in_scope(|| self.media_links.in_scope(|| changes::in_scope(node, || work(&mut conn))))
        }));
        // Told even when the work panicked after a commit: this node ignores its own notifications.
        let commits = transactions::take_commits();
        self.watched.changed(&commits.public);
        let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if commits.events {
            self.outbox_signal.notify_one();
        }
        match &result {
            Err(ApiError::StorageFull(_)) => self.watched.storage_full(true),
            _ if commits.any => self.watched.storage_full(false),
            _ => {}
        }
        result
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

/// Whether a row of `$table` other than `$except` (an `Option<i64>` id) has the slug `$slug`:
/// the check before a slug is claimed, the same for articles, authors and tags.
macro_rules! slug_taken {
    ($conn:expr, $table:ident, $slug:expr, $except:expr) => {{
        let others =
            $table::table.filter($table::slug.eq($slug.to_string())).filter($table::id.ne($except.unwrap_or(-1)));
        diesel::select(diesel::dsl::exists(others)).get_result::<bool>($conn).map_err($crate::error::ApiError::from)
    }};
}
pub(crate) use slug_taken;

/// The current time as stored: UTC, truncated to microseconds (PostgreSQL's precision), so that
/// what a write returns equals what a later read returns on both backends. Inside [`Db::run`] it
/// is the node's clock (see `clock`).
pub fn now() -> NaiveDateTime {
    truncate(crate::clock::now().naive_utc())
}

/// A time as stored: truncated to microseconds.
pub fn truncate(time: NaiveDateTime) -> NaiveDateTime {
    time.trunc_subsecs(6)
}

/// The times Masthead stores, the same on both backends: UTC, years 1 to 9999. PostgreSQL's
/// `timestamp` goes further one way and not the other (4713 BC), and SQLite keeps times as text,
/// which orders correctly only with four-digit years.
pub const STORED_TIMES: &str = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z";

/// Whether `time` is within [`STORED_TIMES`] (then it can be written).
pub fn storable(time: DateTime<Utc>) -> bool {
    (1..=9999).contains(&time.year())
}

/// Refuses (422, naming `field`) a time sent to be stored that lies outside [`STORED_TIMES`].
pub fn check_storable<'v>(v: &'v mut Validator, field: &str, time: Option<DateTime<Utc>>) -> &'v mut Validator {
    v.check(time.is_none_or(storable), field, format!("must be from {STORED_TIMES}"))
}

/// `time` brought within [`STORED_TIMES`], for comparisons: every stored time lies inside, so a
/// bound beyond it selects exactly what the range's own end would.
pub fn within_stored_times(time: DateTime<Utc>) -> NaiveDateTime {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
        .unwrap_or_default();
    truncate(time.naive_utc()).clamp(first, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_years_1_to_9999_and_bounds_beyond_are_brought_within() {
        let time = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert!(storable(time("0001-01-01T00:00:00Z")) && storable(time("9999-12-31T23:59:59.999999Z")));
        assert!(!storable(time("0001-01-01T05:00:00+06:00")) && !storable(time("9999-12-31T23:00:00-05:00")));
        assert!(!storable(time("-5000-01-01T00:00:00Z")) && !storable(time("+10000-01-01T00:00:00Z")));
        assert_eq!(within_stored_times(time("-5000-01-01T00:00:00Z")).to_string(), "0001-01-01 00:00:00");
        assert_eq!(within_stored_times(time("+10000-01-01T00:00:00Z")).to_string(), "9999-12-31 23:59:59.999999");
        assert_eq!(within_stored_times(time("2026-11-28T10:00:00Z")).to_string(), "2026-11-28 10:00:00");
    }
}
