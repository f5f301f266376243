//! A consistent copy of a live SQLite database (`masthead backup`), while the server serves and
//! writes go on.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is the database as of one
//! moment, with every write committed before it; in WAL mode writers are not held up meanwhile.
//! The copy is written beside the destination under a name of its own (readable by its owner only:
//! it holds password and token hashes), checked with `PRAGMA integrity_check`, flushed to disk and
//! only then linked to the destination, which fails if a file is there: a file at the destination
//! is always a whole, checked copy, and never replaces another.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::settings::DatabaseUrl;

/// How long the copy waits for a lock (a checkpoint, a schema change) before giving up.
const BUSY_TIMEOUT_MS: u32 = 30_000;

/// What a backup wrote.
pub struct SqliteBackup {
    pub bytes: u64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// What `masthead backup` says on PostgreSQL, whose own tools copy a live database consistently
/// (one snapshot) and restore it. The URL is not repeated: it may hold a password.
pub const POSTGRES_BACKUP: &str = "`masthead backup` copies SQLite databases; on PostgreSQL use its own tools, \
which copy a live database as of one moment:
  pg_dump --format=custom --file=masthead.dump \"$DATABASE_URL\"
  createdb masthead_restored && pg_restore --no-owner --exit-on-error --dbname=masthead_restored masthead.dump";

/// Copies the SQLite database at `url` to `destination`, which must not exist yet.
pub fn sqlite_backup(url: &DatabaseUrl, destination: &Path) -> Result<SqliteBackup, String> {
    let DatabaseUrl::Sqlite(source) = url else {
        return Err(POSTGRES_BACKUP.into());
    };
    if !Path::new(source).is_file() {
        return Err(format!("there is no database at {source}"));
    }
    if destination.exists() {
        return Err(format!("{} exists already; back up to a new file", destination.display()));
    }
    let name = destination.file_name().ok_or("the backup's path names no file")?.to_string_lossy();
    let directory = destination.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // A name of its own, so that two backups at once never write into one file.
    let partial = directory.join(format!(".{name}.{}.partial", crate::random::hex_token(6)));
    let partial_text = partial.to_str().ok_or("the backup's path is not UTF-8")?;
    // Empty: `VACUUM INTO` writes into an empty file.
    crate::os::create_private_file(&partial).map_err(|e| format!("cannot write in {}: {e}", directory.display()))?;
    let finished = copy(source, partial_text).and_then(|()| check(partial_text)).and_then(|()| {
        let file = std::fs::File::open(&partial).map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        let bytes = file.metadata().map_err(|e| e.to_string())?.len();
        std::fs::hard_link(&partial, destination).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{} appeared while the copy was made; back up to a new file", destination.display())
            }
            _ => format!("cannot name the copy {}: {e}", destination.display()),
        })?;
        Ok(SqliteBackup { bytes })
    });
    let _ = std::fs::remove_file(&partial);
    let finished = finished?;
    std::fs::File::open(directory).and_then(|dir| dir.sync_all()).map_err(|e| {
        format!("the copy is at {}, but its directory could not be flushed to disk: {e}", destination.display())
    })?;
    Ok(finished)
}

fn copy(source: &str, partial: &str) -> Result<(), String> {
    let mut conn = SqliteConnection::establish(source).map_err(|e| format!("cannot open {source}: {e}"))?;
    conn.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};")).map_err(|e| e.to_string())?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(partial)
        .execute(&mut conn)
        .map_err(|e| format!("cannot copy the database: {e}"))?;
    Ok(())
}

fn check(partial: &str) -> Result<(), String> {
    let mut conn = SqliteConnection::establish(partial).map_err(|e| format!("cannot open the copy: {e}"))?;
    let found: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| format!("cannot check the copy: {e}"))?;
    match found.as_slice() {
        [only] if only.integrity_check == "ok" => Ok(()),
        problems => Err(format!(
            "the copy failed its integrity check: {}",
            problems.iter().map(|p| p.integrity_check.as_str()).collect::<Vec<_>>().join("; ")
        )),
    }
}
