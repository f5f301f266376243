//! The history of an article's content: one revision per change of title, excerpt, body, tags or
//! authors, each a full snapshot, so that any of them can be read or restored (as a new revision:
//! history is never rewritten).

use diesel::prelude::*;

use super::views::{Revision, RevisionEditor, RevisionSummary};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::schema::{article_authors, article_revisions, article_tags, articles, authors, tags};

/// The content a revision records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub title: String,
    pub excerpt: Option<String>,
    pub body_markdown: String,
    /// Tag names, in order.
    pub tags: Vec<String>,
    /// Author ids, in order.
    pub authors: Vec<i64>,
}

impl Snapshot {
    /// The fields in which `self` differs from `before`.
    fn changes_since(&self, before: &Snapshot) -> Vec<&'static str> {
        [
            ("title", self.title != before.title),
            ("excerpt", self.excerpt != before.excerpt),
            ("body_markdown", self.body_markdown != before.body_markdown),
            ("tags", self.tags != before.tags),
            ("authors", self.authors != before.authors),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }
}

fn current(conn: &mut DbConnection, article_id: i64) -> Result<Snapshot, ApiError> {
    let (title, excerpt, body_markdown): (String, Option<String>, String) = articles::table
        .find(article_id)
        .select((articles::title, articles::excerpt, articles::body_markdown))
        .first(conn)?;
    let tags = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq(article_id))
        .order(article_tags::position)
        .select(tags::name)
        .load(conn)?;
    let authors = article_authors::table
        .filter(article_authors::article_id.eq(article_id))
        .order(article_authors::position)
        .select(article_authors::author_id)
        .load(conn)?;
    Ok(Snapshot { title, excerpt, body_markdown, tags, authors })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = article_revisions)]
struct RevisionRow {
    number: i32,
    title: String,
    excerpt: Option<String>,
    body_markdown: String,
    tags_snapshot: String,
    authors_snapshot: String,
    changes: String,
    note: Option<String>,
    created_at: chrono::NaiveDateTime,
}

impl RevisionRow {
    fn snapshot(&self) -> Result<Snapshot, ApiError> {
        let corrupt = |e: serde_json::Error| ApiError::Internal(format!("unreadable revision snapshot: {e}"));
        Ok(Snapshot {
            title: self.title.clone(),
            excerpt: self.excerpt.clone(),
            body_markdown: self.body_markdown.clone(),
            tags: serde_json::from_str(&self.tags_snapshot).map_err(corrupt)?,
            authors: serde_json::from_str(&self.authors_snapshot).map_err(corrupt)?,
        })
    }

    fn summary(&self, editor: Option<RevisionEditor>) -> RevisionSummary {
        RevisionSummary {
            number: self.number,
            created_at: self.created_at.and_utc(),
            editor,
            changes: serde_json::from_str(&self.changes).unwrap_or_default(),
            note: self.note.clone(),
            title: self.title.clone(),
        }
    }
}

/// Records the article's content as the next revision when it differs from the last one (or
/// always, with a `note`: creation, restores). Runs inside the caller's write transaction.
pub fn record(conn: &mut DbConnection, article_id: i64, editor_id: i64, note: Option<String>) -> Result<(), ApiError> {
    let now = current(conn, article_id)?;
    let last: Option<RevisionRow> = article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .order(article_revisions::number.desc())
        .select(RevisionRow::as_select())
        .first(conn)
        .optional()?;
    let (number, changes) = match &last {
        None => (1, vec!["title", "excerpt", "body_markdown", "tags", "authors"]),
        Some(last) => (last.number + 1, now.changes_since(&last.snapshot()?)),
    };
    if changes.is_empty() && note.is_none() {
        return Ok(());
    }
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(article_id),
            article_revisions::number.eq(number),
            article_revisions::title.eq(&now.title),
            article_revisions::excerpt.eq(&now.excerpt),
            article_revisions::body_markdown.eq(&now.body_markdown),
            article_revisions::tags_snapshot.eq(json(&now.tags)),
            article_revisions::authors_snapshot.eq(json(&now.authors)),
            article_revisions::editor_id.eq(editor_id),
            article_revisions::changes.eq(json(&changes)),
            article_revisions::note.eq(note),
            article_revisions::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Snapshot lists as JSON text (lists of strings and numbers always serialise).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn not_found() -> ApiError {
    ApiError::NotFound("this article has no revision with this number".into())
}

/// The history, newest first.
pub fn list(
    conn: &mut DbConnection,
    article_id: i64,
    page: PageRequest,
) -> Result<(Vec<RevisionSummary>, i64), ApiError> {
    let total =
        article_revisions::table.filter(article_revisions::article_id.eq(article_id)).count().get_result(conn)?;
    let rows: Vec<(RevisionRow, Option<(i64, String)>)> = article_revisions::table
        .left_join(authors::table)
        .filter(article_revisions::article_id.eq(article_id))
        .order(article_revisions::number.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((RevisionRow::as_select(), (authors::id, authors::name).nullable()))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(row, editor)| row.summary(editor.map(|(id, name)| RevisionEditor { id, name })))
        .collect();
    Ok((items, total))
}

/// One revision with its content.
pub fn get(conn: &mut DbConnection, article_id: i64, number: i32) -> Result<Revision, ApiError> {
    let (row, editor): (RevisionRow, Option<(i64, String)>) = article_revisions::table
        .left_join(authors::table)
        .filter(article_revisions::article_id.eq(article_id))
        .filter(article_revisions::number.eq(number))
        .select((RevisionRow::as_select(), (authors::id, authors::name).nullable()))
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    let snapshot = row.snapshot()?;
    Ok(Revision {
        summary: row.summary(editor.map(|(id, name)| RevisionEditor { id, name })),
        excerpt: snapshot.excerpt,
        body_markdown: snapshot.body_markdown,
        tags: snapshot.tags,
        authors: snapshot.authors,
    })
}

/// The content of revision `number`, to restore it.
pub fn snapshot_of(conn: &mut DbConnection, article_id: i64, number: i32) -> Result<Snapshot, ApiError> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .filter(article_revisions::number.eq(number))
        .select(RevisionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?
        .snapshot()
}
