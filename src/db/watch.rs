//! The database as this node sees it, watched by a thread with a connection of its own, never
//! one of the pool's:
//! - **health**: whether the database answers and has its schema, probed twice a second, so that
//!   requests fail at once while it is down (rather than each waiting to find out) and `/readyz`
//!   answers at once, from the last probe, however busy the pool is;
//! - **storage**: whether writes fail for lack of disk space (told by `Db::run`);
//! - **other writers**: commits by other nodes or processes that change public content
//!   (`LISTEN` on PostgreSQL, the `content_version` counter on SQLite), passed on to the observers. When
//!   that feed breaks, writes made until it is back are unknown, so observers hear that it was
//!   lost and that it is back, and must forget what they hold (see [`ChangeObserver`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::DatabaseUrl;
use super::changes::{Node, PublicChange};
use super::transactions::{CHANGES_CHANNEL, ContentVersion};

/// How often the change feed is read.
const TICK: Duration = Duration::from_millis(100);
/// Ticks between two health probes.
const TICKS_PER_PROBE: u32 = 5;
/// Wait before connecting again after a failure.
const RECONNECT_DELAY: Duration = Duration::from_millis(250);
/// A probe older than this is no proof of anything: the watcher itself is stuck (a hung network
/// call), so the node is not ready.
const STALE_AFTER: Duration = Duration::from_secs(3);
/// While the database is out of reach, one request in this long still tries it (and waits for
/// it); the others are answered at once.
const TRIAL_EVERY: Duration = Duration::from_millis(500);
/// How long one read of the change feed vouches that nothing else changed (a probe may take the
/// watcher away from its feed for a while when the database is busy).
const FEED_FRESH_FOR: Duration = Duration::from_secs(2);

/// Told about changes to public content; see the module comment. Called from the watcher's
/// thread and from `Db::run`'s blocking threads.
pub trait ChangeObserver: Send + Sync {
    /// Public content changed: a write here, or on another node.
    fn changed(&self, change: &PublicChange);
    /// Other nodes' writes can no longer be seen, until [`ChangeObserver::feed_restored`].
    fn feed_lost(&self);
    /// Other nodes' writes are seen again; whatever they wrote in between is unknown.
    fn feed_restored(&self);
}

/// Whether this node should get traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Serving, but writes fail for lack of disk space.
    Degraded(String),
    NotReady(String),
}

#[derive(Debug)]
struct State {
    /// When a request last tried the database while it was out of reach.
    last_trial: Instant,
    /// Why requests could not connect, while they cannot.
    connect_problem: Option<String>,
    /// The watcher's last probe: `Err` when it could not connect or the schema is not usable.
    probe: Result<(), String>,
    probed_at: Instant,
    /// When writes started failing for lack of space; `None` once a write succeeds again.
    storage_full_since: Option<Instant>,
}

/// What the watcher, `Db::run` and `/readyz` share.
pub(super) struct Watched {
    /// Whether the pool's connections reach the database, from the requests' own attempts (and
    /// the watcher's successful probes). Outside the lock: every request reads it. Only the pool's
    /// failures make requests fail fast: a watcher that alone cannot connect (the server at its
    /// connection limit) makes the node not ready and its cache idle, not unavailable.
    reachable: AtomicBool,
    /// When the watcher last read the change feed, in milliseconds after `origin` (0: not since
    /// it last lost it). A feed not read for a second is no proof that nothing changed.
    fed_at: AtomicU64,
    origin: Instant,
    state: Mutex<State>,
    observers: RwLock<Vec<Weak<dyn ChangeObserver>>>,
    /// This node, as its writes name it: the watcher passes on only the others'.
    node: Arc<Node>,
}

impl Watched {
    pub(super) fn new() -> Self {
        Self {
            reachable: AtomicBool::new(true),
            fed_at: AtomicU64::new(0),
            origin: Instant::now(),
            state: Mutex::new(State {
                last_trial: Instant::now(),
                connect_problem: None,
                probe: Ok(()),
                probed_at: Instant::now(),
                storage_full_since: None,
            }),
            observers: RwLock::new(Vec::new()),
            node: Arc::new(Node::new()),
        }
    }

    pub(super) fn node(&self) -> &Arc<Node> {
        &self.node
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn observe(&self, observer: Weak<dyn ChangeObserver>) {
        self.observers.write().unwrap_or_else(|poisoned| poisoned.into_inner()).push(observer);
    }

    fn tell(&self, event: impl Fn(&dyn ChangeObserver)) {
        let observers = self.observers.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        for observer in observers.iter().filter_map(Weak::upgrade) {
            event(&*observer);
        }
    }

    pub(super) fn changed(&self, change: &PublicChange) {
        if *change != PublicChange::Nothing {
            self.tell(|observer| observer.changed(change));
        }
    }

    fn fed(&self) {
        let now = self.origin.elapsed().as_millis() as u64;
        self.fed_at.store(now.max(1), Ordering::SeqCst);
    }

    /// Whether other nodes' writes are being seen right now: the feed was read within the last
    /// [`FEED_FRESH_FOR`].
    pub(super) fn feed_live(&self) -> bool {
        let fed_at = self.fed_at.load(Ordering::SeqCst);
        fed_at != 0 && self.origin.elapsed().as_millis() as u64 <= fed_at + FEED_FRESH_FOR.as_millis() as u64
    }

    /// `Some(why)` when this request should fail at once: the database is out of reach, and
    /// another request tried it less than [`TRIAL_EVERY`] ago. Otherwise this one may try.
    pub(super) fn fail_fast(&self) -> Option<String> {
        if self.reachable.load(Ordering::Relaxed) {
            return None;
        }
        let mut state = self.state();
        if state.last_trial.elapsed() >= TRIAL_EVERY {
            state.last_trial = Instant::now();
            return None;
        }
        Some(state.connect_problem.clone().unwrap_or_else(|| "no answer".into()))
    }

    /// A request could not connect: fail the next ones fast until the database answers again.
    pub(super) fn connection_failed(&self, error: &str) {
        let mut state = self.state();
        if self.reachable.swap(false, Ordering::Relaxed) {
            tracing::warn!(%error, "the database is out of reach; answering 503 until it is back");
        }
        state.connect_problem = Some(format!("cannot connect: {error}"));
    }

    /// The database answered a request or a probe.
    pub(super) fn connection_succeeded(&self) {
        if !self.reachable.load(Ordering::Relaxed) {
            let mut state = self.state();
            if !self.reachable.swap(true, Ordering::Relaxed) {
                tracing::info!("the database answers again");
                state.connect_problem = None;
            }
        }
    }

    /// The outcome of the watcher's probe: readiness, never whether requests fail fast (a probe on
    /// a connection opened long ago proves nothing about opening new ones).
    fn probed(&self, outcome: Result<(), String>) {
        let mut state = self.state();
        match (&state.probe, &outcome) {
            (Ok(()), Err(error)) => tracing::warn!(%error, "the database watcher's probe failed: not ready"),
            (Err(_), Ok(())) => tracing::info!("the database watcher's probe succeeds again: ready"),
            _ => {}
        }
        state.probe = outcome;
        state.probed_at = Instant::now();
    }

    pub(super) fn storage_full(&self, full: bool) {
        let mut state = self.state();
        match (full, state.storage_full_since) {
            (true, None) => state.storage_full_since = Some(Instant::now()),
            (false, Some(since)) => {
                tracing::info!(after_seconds = since.elapsed().as_secs(), "writes succeed again: the disk has room");
                state.storage_full_since = None;
            }
            _ => {}
        }
    }

    pub(super) fn readiness(&self) -> Readiness {
        let state = self.state();
        if !self.reachable.load(Ordering::Relaxed) {
            return Readiness::NotReady(format!(
                "the database is out of reach ({})",
                state.connect_problem.as_deref().unwrap_or("no answer")
            ));
        }
        if let Err(problem) = &state.probe {
            return Readiness::NotReady(format!("the database watcher's probe failed: {problem}"));
        }
        let age = state.probed_at.elapsed();
        if age > STALE_AFTER {
            return Readiness::NotReady(format!("no answer from the database for {} s", age.as_secs()));
        }
        match state.storage_full_since {
            Some(since) => Readiness::Degraded(format!(
                "writes have been failing for {} s: the disk holding the database is full",
                since.elapsed().as_secs()
            )),
            None => Readiness::Ready,
        }
    }
}

/// Starts the watcher thread; it ends soon after `watched` is dropped.
pub(super) fn spawn(watched: &Arc<Watched>, url: DatabaseUrl) {
    let watched = Arc::downgrade(watched);
    let spawned = std::thread::Builder::new().name("masthead-db-watch".into()).spawn(move || {
        while let Some(shared) = watched.upgrade() {
            // Numbers noted against a counter it no longer follows (the database may have been
            // replaced meanwhile) would hide another process's writes.
            shared.node.forget_versions();
            match Feed::connect(&url) {
                Ok(feed) => {
                    // A connection just opened: the database can be reached again.
                    shared.connection_succeeded();
                    shared.probed(Ok(()));
                    shared.fed();
                    shared.tell(|observer| observer.feed_restored());
                    drop(shared);
                    let lost = follow(feed, &watched);
                    if let Some(shared) = watched.upgrade() {
                        shared.fed_at.store(0, Ordering::SeqCst);
                        tracing::warn!(error = %lost, "the database watcher lost its connection; reconnecting");
                        shared.tell(|observer| observer.feed_lost());
                    }
                    continue; // at once: the feed may have been cut alone (a terminated backend)
                }
                Err(error) => shared.probed(Err(format!("cannot connect: {error}"))),
            }
            drop(shared);
            std::thread::sleep(RECONNECT_DELAY);
        }
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the database watcher");
    }
}

/// Reads the feed and probes until the connection breaks (its error) or `watched` is dropped.
fn follow(mut feed: Feed, watched: &Weak<Watched>) -> String {
    let mut ticks = 0u32;
    loop {
        let Some(shared) = watched.upgrade() else { return "the database handle was dropped".into() };
        match feed.changes(&shared.node) {
            Ok(change) => {
                shared.fed();
                shared.changed(&change);
            }
            Err(error) => return error,
        }
        ticks += 1;
        if ticks.is_multiple_of(TICKS_PER_PROBE) {
            match feed.probe() {
                Ok(()) => shared.probed(Ok(())),
                // The connection works, the schema does not (dropped, not migrated): not ready.
                Err(error) if feed.alive() => shared.probed(Err(error)),
                Err(error) => return error,
            }
        }
        drop(shared);
        std::thread::sleep(TICK);
    }
}

/// The watcher's own connection, listening for other writers.
enum Feed {
    Postgres(diesel::PgConnection),
    /// `waited`: the last look found a commit of this node still under way.
    Sqlite {
        conn: diesel::SqliteConnection,
        version: i64,
        waited: bool,
    },
}

/// What `db::write_transaction` adds one to on every commit that changes public content.
fn content_version(conn: &mut diesel::SqliteConnection) -> Result<i64, String> {
    diesel::sql_query("SELECT version FROM content_version WHERE id = 1")
        .get_result::<ContentVersion>(conn)
        .map(|row| row.version)
        .map_err(|e| e.to_string())
}

impl Feed {
    fn connect(url: &DatabaseUrl) -> Result<Self, String> {
        match url {
            DatabaseUrl::Postgres(_) => {
                let mut conn =
                    diesel::PgConnection::establish(&super::pool::postgres_url(url)).map_err(|e| e.to_string())?;
                conn.batch_execute(&format!(
                    "SET application_name = 'masthead-db-watch'; SET statement_timeout = 2000; LISTEN {CHANGES_CHANNEL}"
                ))
                .map_err(|e| e.to_string())?;
                Ok(Self::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path).map_err(|e| e.to_string())?;
                // A reader rarely waits in WAL mode (during a checkpoint's recovery, say): wait,
                // rather than take a moment's lock for a lost feed.
                conn.batch_execute("PRAGMA busy_timeout = 1000").map_err(|e| e.to_string())?;
                let version = content_version(&mut conn)?;
                Ok(Self::Sqlite { conn, version, waited: false })
            }
        }
    }

    /// What others (not `node`) changed since the last look. On SQLite another process's commit
    /// says only that something changed.
    fn changes(&mut self, node: &Node) -> Result<PublicChange, String> {
        match self {
            Self::Postgres(conn) => {
                let mut change = PublicChange::Nothing;
                for notification in conn.notifications_iter() {
                    let notification = notification.map_err(|e| e.to_string())?;
                    change = change.and(node.heard(&notification.payload));
                }
                Ok(change)
            }
            Self::Sqlite { conn, version: seen, waited } => {
                let now = content_version(conn)?;
                let foreign = match now.cmp(seen) {
                    std::cmp::Ordering::Equal => false,
                    // Not a counter that only grows: another database in its place.
                    std::cmp::Ordering::Less => {
                        node.forget_versions();
                        true
                    }
                    std::cmp::Ordering::Greater => match node.foreign_versions(*seen, now, !*waited) {
                        None => {
                            *waited = true;
                            return Ok(PublicChange::Nothing);
                        }
                        Some(foreign) => foreign,
                    },
                };
                (*seen, *waited) = (now, false);
                Ok(if foreign { PublicChange::Everything } else { PublicChange::Nothing })
            }
        }
    }

    /// A query on a table, not `SELECT 1`: it proves the schema is in place and the data readable.
    fn probe(&mut self) -> Result<(), String> {
        let query = "SELECT 1 FROM __diesel_schema_migrations LIMIT 1";
        match self {
            Self::Postgres(conn) => conn.batch_execute(query),
            Self::Sqlite { conn, .. } => conn.batch_execute(query),
        }
        .map_err(|e| e.to_string())
    }

    fn alive(&mut self) -> bool {
        match self {
            Self::Postgres(conn) => conn.batch_execute("SELECT 1").is_ok(),
            Self::Sqlite { conn, .. } => conn.batch_execute("SELECT 1").is_ok(),
        }
    }
}
