//! The export format: JSON Lines, one record per line, each with its `kind` (docs/export.md).
//! Each record is a row as stored, with its id; what is derived from it (rendered HTML, search
//! text, sort keys) is left out and made again on import, and nothing secret is in it (no password
//! hashes, tokens, webhook secrets or client fingerprints).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::schema::{article_revisions, articles, authors, comments, import_sources, media, redirects, tags};

/// The version of the format this build writes and reads.
pub const FORMAT: u32 = 1;

/// One line of an export.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The first line: what wrote the file.
    Masthead(Header),
    Author(Author),
    Tag(Tag),
    Media(Media),
    Article(Article),
    Revision(Revision),
    Comment(Comment),
    Redirect(Redirect),
    /// What an import made of another system's record: so that importing from it again after a
    /// move between databases imports nothing twice.
    ImportSource(ImportSource),
    /// The last line: a file without it was cut short.
    End(Trailer),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    /// Records between the first line and this one.
    pub records: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: u32,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub exported_at: NaiveDateTime,
    /// Whether articles' revisions are in the file.
    pub with_revisions: bool,
}

/// An author or account, without its password hash: accounts come back without passwords.
#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = authors)]
#[serde(deny_unknown_fields)]
pub struct Author {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub role: String,
    pub active: bool,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = tags)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// A media record; its file is `originals/<storage_key>.<format>` in the media store (and in an
/// export's media directory).
#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
#[serde(deny_unknown_fields)]
pub struct Media {
    pub id: i64,
    pub storage_key: String,
    pub content_hash: String,
    pub format: String,
    pub filename: String,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub animated: bool,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub focal_x: f64,
    pub focal_y: f64,
    pub uploaded_by: Option<i64>,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// An article's row as written: its HTML, text, excerpt and sort key are made from it.
#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = articles)]
pub struct ArticleColumns {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub excerpt: Option<String>,
    pub body_markdown: String,
    pub status: String,
    #[serde(with = "crate::timestamps::rfc3339_opt")]
    pub published_at: Option<NaiveDateTime>,
    #[serde(with = "crate::timestamps::rfc3339_opt")]
    pub deleted_at: Option<NaiveDateTime>,
    pub featured: bool,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub cover_image_id: Option<i64>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub canonical_url: Option<String>,
    pub comments_enabled: bool,
    #[serde(with = "crate::timestamps::rfc3339_opt")]
    pub comments_changed_at: Option<NaiveDateTime>,
    pub version: i32,
    pub publication_announced: bool,
    pub public_slug: Option<String>,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// An article with its byline and tags (ids, in order).
#[derive(Debug, Serialize, Deserialize)]
pub struct Article {
    #[serde(flatten)]
    pub columns: ArticleColumns,
    pub authors: Vec<i64>,
    pub tags: Vec<i64>,
}

/// A revision of an article; the snapshots and changes are JSON text, as stored.
#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = article_revisions)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    pub id: i64,
    pub article_id: i64,
    pub number: i32,
    pub title: String,
    pub excerpt: Option<String>,
    pub body_markdown: String,
    pub tags_snapshot: String,
    pub authors_snapshot: String,
    pub editor_id: Option<i64>,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    pub changes: String,
    pub note: Option<String>,
}

/// A reader's comment, e-mail included (an export is for editors); its HTML is made from `body`.
#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = comments)]
#[serde(deny_unknown_fields)]
pub struct Comment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_id: Option<i64>,
    pub body: String,
    pub status: String,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub updated_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339_opt")]
    pub removed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = redirects)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    pub id: i64,
    pub from_slug: Option<String>,
    pub from_path: Option<String>,
    pub article_id: Option<i64>,
    pub to_path: Option<String>,
    pub status: i32,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_sources)]
#[serde(deny_unknown_fields)]
pub struct ImportSource {
    pub source: String,
    /// `source_kind` in the file: `kind` names the record.
    #[serde(rename = "source_kind")]
    pub kind: String,
    pub source_id: String,
    pub local_id: i64,
    #[serde(with = "crate::timestamps::rfc3339")]
    pub imported_at: NaiveDateTime,
    pub source_version: Option<String>,
}
