//! Write transactions, and what their commits announce: which writes change what the public sees,
//! so that response caches drop what they hold, on this node and on the others.
//!
//! A write transaction changes everything the public sees unless it is one of two narrower kinds:
//! [`articles_write_transaction`] (article and comment writes: the articles it names with
//! [`touched_articles`]) and [`bookkeeping_transaction`] (nothing: sessions, login throttling,
//! comments held for moderation). A forgotten distinction costs a cache refill, never a stale
//! answer. Changes are announced by the writes themselves, whatever
//! route or URL spelling led to them:
//! - to this process: `Db::run` looks at what committed during the work (a per-thread record kept
//!   here) and tells its observers, on the thread that did the work, right after the commit, so
//!   that even a request whose client went away invalidates;
//! - to other nodes: on PostgreSQL a `NOTIFY` inside the transaction, which PostgreSQL delivers
//!   when, and only if, it commits, naming this node and the articles; on SQLite the transaction
//!   adds one to `content_version`, which other processes' watchers read (migration 000009), and
//!   the number it took is noted as this node's own (see `changes`).

use std::cell::{Cell, RefCell};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::DbConnection;
use super::changes::{self, PublicChange};
use crate::error::ApiError;

/// The PostgreSQL channel on which commits that change public content are announced.
pub const CHANGES_CHANNEL: &str = "masthead_cache";

thread_local! {
    /// What the transaction open on this thread changes of public content, as far as it said.
    static PUBLIC_CHANGE: RefCell<Declared> = const { RefCell::new(Declared::NONE) };
    /// Whether the transaction open on this thread recorded webhook events (see `outbox`).
    static EVENTS: Cell<bool> = const { Cell::new(false) };
    /// What committed on this thread since [`take_commits`] was last called.
    static COMMITS: RefCell<Commits> = const {
        RefCell::new(Commits { any: false, public: PublicChange::Nothing, events: false })
    };
}

/// What an open transaction changes of what the public sees, as far as it said.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// [`write_transaction`]: everything, whatever it says.
    Write,
    /// [`articles_write_transaction`]: the articles it names; everything if it names none.
    Articles,
    /// [`bookkeeping_transaction`]: nothing, unless it names articles.
    Bookkeeping,
}

struct Declared {
    kind: Kind,
    named: PublicChange,
}

impl Declared {
    const NONE: Self = Self { kind: Kind::Bookkeeping, named: PublicChange::Nothing };

    fn change(self) -> PublicChange {
        match (self.kind, self.named) {
            (Kind::Write, _) | (Kind::Articles, PublicChange::Nothing) => PublicChange::Everything,
            (_, named) => named,
        }
    }
}

/// What the transactions of one unit of work (a request's `Db::run`) committed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Commits {
    /// Something was written: the database accepts writes (its disk has room).
    pub any: bool,
    /// What the public sees that changed.
    pub public: PublicChange,
    /// Webhook events were recorded: the dispatcher has work.
    pub events: bool,
}

/// Forgets what committed on this thread so far and returns it.
pub(super) fn take_commits() -> Commits {
    COMMITS.take()
}

/// Runs `work` in a transaction that writes content the public may see: caches are told when it
/// commits. On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
/// transaction that reads and then writes can fail at once with SQLITE_BUSY when another writer
/// got in between, whatever the busy timeout.
pub fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    transaction(conn, Kind::Write, work)
}

/// [`write_transaction`] for writes to articles and their comments, which change nothing another
/// article's page shows: caches drop only what shows the articles it names with
/// [`touched_articles`] (their pages and threads, and every list), and everything if it names none.
/// Opt-in per transaction, so that a broad write calling a helper that names articles still counts
/// as changing everything.
pub fn articles_write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    transaction(conn, Kind::Articles, work)
}

/// [`write_transaction`] for writes the public never sees (sessions, throttling, held comments):
/// caches keep what they hold. Call [`touched_articles`] inside it when the write turns out to be
/// public after all (a comment approved at once).
pub fn bookkeeping_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    transaction(conn, Kind::Bookkeeping, work)
}

/// Says that the open transaction recorded webhook events (`outbox::record`).
pub(super) fn mark_events() {
    EVENTS.set(true);
}

/// Lets the open transaction commit without waiting for its WAL to reach the disk (PostgreSQL's
/// `synchronous_commit = off`, for this transaction only): for bookkeeping that a crash may undo
/// at no cost but repeated work, such as a webhook delivery's lease or result (the delivery is
/// then sent again; the event itself was committed durably by the write that made it). On a busy
/// database each waiting commit delays the others', content writes included. SQLite already
/// commits this way (`synchronous = NORMAL` in WAL mode).
pub fn commit_without_waiting(conn: &mut DbConnection) -> Result<(), ApiError> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SET LOCAL synchronous_commit TO OFF").execute(pg)?;
    }
    Ok(())
}

/// Runs `work` in a read-only transaction that sees one moment of the database throughout (an
/// export): PostgreSQL's `REPEATABLE READ`, SQLite's deferred transaction (its first read fixes
/// the snapshot, in WAL mode). Nothing is written, so nothing is announced.
pub fn snapshot<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN DEFERRED")?,
        DbConnection::Postgres(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?
        }
    }
    let result = work(conn);
    // Read only: rolling back ends it the same way, and cannot fail for lack of disk.
    let ended = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
    let value = result?;
    ended?;
    Ok(value)
}

/// Says that the open transaction changes these articles (their pages, comment threads and the
/// lists that show them). In an [`articles_write_transaction`] or a [`bookkeeping_transaction`],
/// that is all the public sees of it; a [`write_transaction`] changes everything all the same.
pub fn touched_articles(ids: &[i64]) {
    PUBLIC_CHANGE.with_borrow_mut(|declared| {
        declared.named = std::mem::take(&mut declared.named).and(PublicChange::articles(ids));
    });
}

fn transaction<T>(
    conn: &mut DbConnection,
    kind: Kind,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?,
        DbConnection::Postgres(inner) => AnsiTransactionManager::begin_transaction(inner)?,
    }
    PUBLIC_CHANGE.set(Declared { kind, named: PublicChange::Nothing });
    EVENTS.set(false);
    let committed = work(conn).and_then(|value| {
        let change = PUBLIC_CHANGE.replace(Declared::NONE).change();
        let version = if change == PublicChange::Nothing { None } else { announce(conn, &change)? };
        let own_version = version.zip(changes::current());
        if let Some((version, node)) = &own_version {
            node.committing(*version);
        }
        let commit = <DbConnection as Connection>::TransactionManager::commit_transaction(conn);
        if let Some((version, node)) = &own_version {
            node.committed(*version, commit.is_ok());
        }
        // Told even when the commit reports an error: on PostgreSQL it may have committed all the
        // same (the connection lost during COMMIT), and this node ignores its own notification.
        // Dropping what did not change costs a refill.
        COMMITS.with_borrow_mut(|commits| {
            commits.any |= commit.is_ok();
            commits.public = std::mem::take(&mut commits.public).and(change);
            commits.events |= commit.is_ok() && EVENTS.get();
        });
        commit?;
        Ok(value)
    });
    PUBLIC_CHANGE.set(Declared::NONE);
    EVENTS.set(false);
    if committed.is_err() {
        // A failed rollback leaves the connection marked broken; the pool then discards it.
        let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
    }
    committed
}

/// Tells other nodes, from inside the transaction, that it changes public content: they hear of it
/// when it commits, and never if it does not. On SQLite, the `content_version` number it took.
fn announce(conn: &mut DbConnection, change: &PublicChange) -> diesel::QueryResult<Option<i64>> {
    match conn {
        DbConnection::Postgres(pg) => {
            // Outside `Db::run` no node is named: every node takes it for another's.
            let payload = changes::current().map_or_else(|| ":*".to_owned(), |node| node.payload(change));
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<diesel::sql_types::Text, _>(CHANGES_CHANNEL)
                .bind::<diesel::sql_types::Text, _>(payload)
                .execute(pg)?;
            Ok(None)
        }
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query("UPDATE content_version SET version = version + 1 WHERE id = 1 RETURNING version")
                .get_result::<ContentVersion>(sqlite)
                .map(|row| Some(row.version))
        }
    }
}

/// The one row of `content_version` (SQLite).
#[derive(QueryableByName)]
pub(super) struct ContentVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub version: i64,
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
    lock_keys(conn, &[key])
}

/// [`lock_key`] for several keys at once, always taken in the same order whatever the caller's,
/// so that two transactions locking overlapping sets cannot deadlock.
pub fn lock_keys(conn: &mut DbConnection, keys: &[&str]) -> Result<(), ApiError> {
    if let DbConnection::Postgres(pg) = conn {
        // 64-bit keys computed here (not `hashtext`, 32 bits) so that the order is known here.
        let mut ids: Vec<i64> = keys.iter().map(|key| advisory_id(key)).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(id)
                .execute(pg)?;
        }
    }
    Ok(())
}

/// A stable 64-bit lock id for a key: the first 8 bytes of its SHA-256.
fn advisory_id(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes and more"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_narrow_kinds_narrow() {
        let change = |kind, named| Declared { kind, named }.change();
        let alpha = PublicChange::articles(&[1]);
        assert_eq!(change(Kind::Write, alpha.clone()), PublicChange::Everything, "a broad write stays broad");
        assert_eq!(change(Kind::Write, PublicChange::Nothing), PublicChange::Everything);
        assert_eq!(change(Kind::Articles, alpha.clone()), alpha);
        assert_eq!(
            change(Kind::Articles, PublicChange::Nothing),
            PublicChange::Everything,
            "naming none is everything"
        );
        assert_eq!(change(Kind::Bookkeeping, alpha.clone()), alpha);
        assert_eq!(change(Kind::Bookkeeping, PublicChange::Nothing), PublicChange::Nothing);
    }
}
