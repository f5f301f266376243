//! Imports from other systems (WordPress, Ghost): what each source's records become here,
//! remembered in `import_sources` so that importing again imports nothing twice, and a report of
//! what was done and why not.

pub mod bounded;
pub mod ghost;
pub mod html;
pub mod media;
pub mod records;
pub mod wordpress;

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::import_sources;

/// Reasons kept per kind in a report; past this, only counted.
const MAX_LISTED: usize = 1000;
/// Distinct reasons for skipping, per kind; past this, counted under "other reasons".
const MAX_SKIP_REASONS: usize = 100;
/// The most of an id or a reason a report keeps.
const MAX_REASON_CHARS: usize = 500;

fn cut_to(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The local record a source's record became, if it was imported before.
pub fn local_id(conn: &mut DbConnection, source: &str, kind: &str, source_id: &str) -> Result<Option<i64>, ApiError> {
    Ok(import_sources::table.find((source, kind, source_id)).select(import_sources::local_id).first(conn).optional()?)
}

/// Remembers what a source's record became, in the transaction that wrote it.
pub fn remember(
    conn: &mut DbConnection,
    source: &str,
    kind: &str,
    source_id: &str,
    local_id: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    remember_version(conn, source, kind, source_id, local_id, None, now)
}

/// [`remember`], with the version of the source's record that was imported.
pub fn remember_version(
    conn: &mut DbConnection,
    source: &str,
    kind: &str,
    source_id: &str,
    local_id: i64,
    version: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(import_sources::table)
        .values((
            import_sources::source.eq(source),
            import_sources::kind.eq(kind),
            import_sources::source_id.eq(source_id),
            import_sources::local_id.eq(local_id),
            import_sources::imported_at.eq(now),
            import_sources::source_version.eq(version),
        ))
        .execute(conn)?;
    Ok(())
}

/// A source's record imported before: what it became, when, and which version of it.
#[derive(Debug, Queryable)]
pub struct Imported {
    pub local_id: i64,
    pub imported_at: NaiveDateTime,
    pub version: Option<String>,
}

impl Imported {
    /// Whether `version` of the source's record is newer than the one imported: an older export
    /// imported after a newer one changes nothing. Versions are [`version_of`] times, which
    /// compare as text.
    pub fn newer_at_source(&self, version: Option<&str>) -> bool {
        matches!((self.version.as_deref(), version), (Some(was), Some(now)) if now > was)
    }

    /// Whether it was imported without a version (before versions were kept) and now has one.
    pub fn lacks_version(&self, version: Option<&str>) -> bool {
        self.version.is_none() && version.is_some()
    }
}

/// A source record's version, from when it was last changed there: a UTC time written so that
/// later is greater as text.
pub fn version_of(changed: NaiveDateTime) -> String {
    changed.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What a source's record became, if it was imported before.
pub fn imported(
    conn: &mut DbConnection,
    source: &str,
    kind: &str,
    source_id: &str,
) -> Result<Option<Imported>, ApiError> {
    Ok(import_sources::table
        .find((source, kind, source_id))
        .select((import_sources::local_id, import_sources::imported_at, import_sources::source_version))
        .first(conn)
        .optional()?)
}

/// What happened to one kind of record.
#[derive(Debug, Default, Serialize)]
pub struct Tally {
    pub imported: u64,
    /// Imported before, changed at the source since, and written again here.
    pub updated: u64,
    /// Already here: matched to an existing record (an account by e-mail, a tag by slug).
    pub matched: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Why records were skipped, and how many for each reason.
    pub skipped_because: BTreeMap<String, u64>,
    /// Each failure: the source's id and why (the first thousand).
    pub failures: Vec<Problem>,
    /// What was changed on the way in (a slug taken here, say), the first thousand.
    pub notes: Vec<Problem>,
}

#[derive(Debug, Serialize)]
pub struct Problem {
    pub id: String,
    pub reason: String,
}

impl Problem {
    fn new(id: &str, reason: impl std::fmt::Display) -> Self {
        Self { id: cut_to(id, MAX_REASON_CHARS), reason: cut_to(&reason.to_string(), MAX_REASON_CHARS) }
    }
}

/// The report of an import, by kind of record.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub source: String,
    pub dry_run: bool,
    pub kinds: BTreeMap<&'static str, Tally>,
    /// Why the import stopped before the end of the file, if it did.
    pub stopped: Option<String>,
}

impl Report {
    pub fn tally(&mut self, kind: &'static str) -> &mut Tally {
        self.kinds.entry(kind).or_default()
    }

    pub fn imported(&mut self, kind: &'static str) {
        self.tally(kind).imported += 1;
    }

    pub fn updated(&mut self, kind: &'static str) {
        self.tally(kind).updated += 1;
    }

    pub fn matched(&mut self, kind: &'static str) {
        self.tally(kind).matched += 1;
    }

    pub fn skipped(&mut self, kind: &'static str, because: &str) {
        let tally = self.tally(kind);
        tally.skipped += 1;
        let because = match tally.skipped_because.len() < MAX_SKIP_REASONS {
            true => cut_to(because, MAX_REASON_CHARS),
            false if tally.skipped_because.contains_key(because) => because.to_string(),
            false => "other reasons".to_string(),
        };
        *tally.skipped_because.entry(because).or_default() += 1;
    }

    pub fn failed(&mut self, kind: &'static str, id: &str, reason: impl std::fmt::Display) {
        let tally = self.tally(kind);
        tally.failed += 1;
        if tally.failures.len() < MAX_LISTED {
            tally.failures.push(Problem::new(id, reason));
        }
    }

    pub fn note(&mut self, kind: &'static str, id: &str, note: impl std::fmt::Display) {
        let tally = self.tally(kind);
        if tally.notes.len() < MAX_LISTED {
            tally.notes.push(Problem::new(id, note));
        }
    }

    /// One line per kind, for a terminal.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        for (kind, tally) in &self.kinds {
            let mut line = format!(
                "{kind}: {} imported, {} updated, {} matched, {} skipped, {} failed",
                tally.imported, tally.updated, tally.matched, tally.skipped, tally.failed
            );
            for (reason, count) in &tally.skipped_because {
                line.push_str(&format!("\n  skipped {count}: {reason}"));
            }
            for problem in &tally.failures {
                line.push_str(&format!("\n  failed {}: {}", problem.id, problem.reason));
            }
            for note in &tally.notes {
                line.push_str(&format!("\n  note {}: {}", note.id, note.reason));
            }
            lines.push(line);
        }
        if let Some(stopped) = &self.stopped {
            lines.push(format!("stopped: {stopped}"));
        }
        lines.join("\n")
    }
}
