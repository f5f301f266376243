//! Restoring an export into an empty database: every record written with its id, in one
//! transaction (all or nothing: a bad line leaves the database as it was), what is derived made
//! again, and PostgreSQL's id sequences moved past the ids written. Read line by line, each line
//! bounded, so memory does not grow with the file.

use std::io::BufRead;

use diesel::prelude::*;

use super::format::{Article, FORMAT, Media, Record};
use crate::auth::Role;
use crate::comments::render::render_comment;
use crate::db::{DbConnection, write_transaction};
use crate::error::ApiError;
use crate::markdown::render;
use crate::schema::{
    article_authors, article_revisions, article_tags, articles, authors, comments, import_sources, media, redirects,
    tags,
};
use crate::slugs;

/// The longest line read: far above any record (article bodies are at most 64 MiB).
pub const MAX_LINE_BYTES: usize = 80 * 1024 * 1024;

/// The tables a restore fills, in the order it fills them: each must be empty, and on PostgreSQL
/// each has an id sequence to move on.
const TABLES: [&str; 7] = ["authors", "tags", "media", "articles", "article_revisions", "comments", "redirects"];
// `import_sources` is filled too; it has no id.

/// How many records of each kind were restored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Restored {
    pub authors: u64,
    pub tags: u64,
    pub media: u64,
    pub articles: u64,
    pub revisions: u64,
    pub comments: u64,
    pub redirects: u64,
    pub import_sources: u64,
}

impl Restored {
    fn total(&self) -> u64 {
        self.authors
            + self.tags
            + self.media
            + self.articles
            + self.revisions
            + self.comments
            + self.redirects
            + self.import_sources
    }
}

/// Lines of at most [`MAX_LINE_BYTES`], numbered from 1.
struct Lines<R> {
    reader: R,
    number: usize,
    bytes: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// The next line without its newline; `None` at the end of the input.
    fn next(&mut self) -> Result<Option<(usize, &str)>, ApiError> {
        self.buffer.clear();
        let read = std::io::Read::take(self.reader.by_ref(), MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| ApiError::BadRequest(format!("cannot read the file: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        self.bytes += read as u64;
        if self.buffer.last() == Some(&b'\n') {
            self.buffer.pop();
        } else if self.buffer.len() > MAX_LINE_BYTES {
            return Err(bad(self.number, format!("longer than {} MiB", MAX_LINE_BYTES / 1024 / 1024)));
        }
        let text = std::str::from_utf8(&self.buffer).map_err(|_| bad(self.number, "not UTF-8"))?;
        Ok(Some((self.number, text)))
    }
}

fn bad(line: usize, message: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("line {line}: {message}"))
}

/// Restores the export read from `input` into an empty database; `on_media` is called for each
/// media record as it is written (to copy its file), `progress` with the bytes read so far.
pub fn restore(
    conn: &mut DbConnection,
    input: impl BufRead,
    on_media: &mut dyn FnMut(&Media) -> Result<(), ApiError>,
    progress: &mut dyn FnMut(u64),
) -> Result<Restored, ApiError> {
    let mut lines = Lines { reader: input, number: 0, bytes: 0, buffer: Vec::new() };
    write_transaction(conn, |conn| {
        refuse_unless_empty(conn)?;
        match lines.next()? {
            Some((line, text)) => match serde_json::from_str::<Record>(text) {
                Ok(Record::Masthead(header)) if header.format == FORMAT => {}
                Ok(Record::Masthead(header)) => {
                    return Err(bad(
                        line,
                        format!("the file is in format {}; this Masthead reads format {FORMAT}", header.format),
                    ));
                }
                _ => return Err(bad(line, "not a Masthead export (it starts with a `masthead` record)")),
            },
            None => return Err(ApiError::BadRequest("the file is empty".into())),
        }
        let mut restored = Restored::default();
        loop {
            let Some((line, text)) = lines.next()? else {
                return Err(ApiError::BadRequest(format!(
                    "the file ends at line {} without its `end` record: it was cut short; nothing was restored",
                    lines.number
                )));
            };
            let record: Record = serde_json::from_str(text).map_err(|e| bad(line, e))?;
            if let Record::Article(article) = &record {
                refuse_unknown_fields(text, article).map_err(|e| bad(line, e))?;
            }
            if let Record::End(trailer) = record {
                if trailer.records != restored.total() {
                    return Err(bad(
                        line,
                        format!("the file says {} records, and holds {}", trailer.records, restored.total()),
                    ));
                }
                if let Some((line, _)) = lines.next()? {
                    return Err(bad(line, "more after the `end` record"));
                }
                break;
            }
            write(conn, record, &mut restored, on_media).map_err(|e| bad(line, e))?;
            progress(lines.bytes);
        }
        move_sequences_on(conn)?;
        Ok(restored)
    })
}

/// An article record's fields are its columns' (flattened), which serde cannot check for
/// strangers: a field the format does not have is refused here, as in every other record.
fn refuse_unknown_fields(text: &str, article: &super::format::Article) -> Result<(), String> {
    let given: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let known = serde_json::to_value(article).map_err(|e| e.to_string())?;
    match given.keys().find(|key| *key != "kind" && known.get(key.as_str()).is_none()) {
        Some(key) => Err(format!("unknown field `{key}` in an article")),
        None => Ok(()),
    }
}

/// A restore writes every id as it was: only into a database with no content yet.
fn refuse_unless_empty(conn: &mut DbConnection) -> Result<(), ApiError> {
    let counts = [
        ("authors", authors::table.count().get_result::<i64>(conn)?),
        ("tags", tags::table.count().get_result::<i64>(conn)?),
        ("media", media::table.count().get_result::<i64>(conn)?),
        ("articles", articles::table.count().get_result::<i64>(conn)?),
        ("comments", comments::table.count().get_result::<i64>(conn)?),
        ("redirects", redirects::table.count().get_result::<i64>(conn)?),
        ("imported records", import_sources::table.count().get_result::<i64>(conn)?),
    ];
    let held: Vec<String> = counts.iter().filter(|(_, n)| *n > 0).map(|(kind, n)| format!("{n} {kind}")).collect();
    if held.is_empty() {
        return Ok(());
    }
    Err(ApiError::Conflict(format!(
        "a restore goes into an empty database, and this one holds {}: point DATABASE_URL at a new one",
        held.join(", ")
    )))
}

fn write(
    conn: &mut DbConnection,
    record: Record,
    restored: &mut Restored,
    on_media: &mut dyn FnMut(&Media) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    match record {
        Record::Masthead(_) => return Err(ApiError::BadRequest("a second `masthead` record".into())),
        Record::End(_) => unreachable!("handled by the caller"),
        Record::Author(author) => {
            if Role::parse(&author.role).is_none() {
                return Err(ApiError::BadRequest(format!("`{}` is not a role", author.role)));
            }
            diesel::insert_into(authors::table).values(&author).execute(conn)?;
            restored.authors += 1;
        }
        Record::Tag(tag) => {
            diesel::insert_into(tags::table).values(&tag).execute(conn)?;
            restored.tags += 1;
        }
        Record::Media(file) => {
            // Its file's name is made of these: nothing that could name a file elsewhere.
            let key = &file.storage_key;
            let valid_key = (1..=100).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            if !valid_key || crate::media::formats::Format::from_extension(&file.format).is_none() {
                return Err(ApiError::BadRequest(format!("`{key}.{}` is not a media file's name", file.format)));
            }
            diesel::insert_into(media::table).values(&file).execute(conn)?;
            on_media(&file)?;
            restored.media += 1;
        }
        Record::Article(article) => {
            write_article(conn, article)?;
            restored.articles += 1;
        }
        Record::Revision(revision) => {
            diesel::insert_into(article_revisions::table).values(&revision).execute(conn)?;
            restored.revisions += 1;
        }
        Record::Comment(comment) => {
            let html = render_comment(&comment.body);
            diesel::insert_into(comments::table).values((&comment, comments::body_html.eq(html))).execute(conn)?;
            restored.comments += 1;
        }
        Record::Redirect(redirect) => {
            diesel::insert_into(redirects::table).values(&redirect).execute(conn)?;
            restored.redirects += 1;
        }
        Record::ImportSource(source) => {
            diesel::insert_into(import_sources::table).values(&source).execute(conn)?;
            restored.import_sources += 1;
        }
    }
    Ok(())
}

/// An article's row with what is made from its Markdown, then its byline and tags in order.
fn write_article(conn: &mut DbConnection, article: Article) -> Result<(), ApiError> {
    let Article { columns, authors, tags } = article;
    if !slugs::is_valid_slug(&columns.slug) {
        return Err(ApiError::BadRequest(format!("`{}` is not a slug", columns.slug)));
    }
    let rendered = render(&columns.body_markdown);
    diesel::insert_into(articles::table)
        .values((
            &columns,
            articles::title_key.eq(slugs::sort_key(&columns.title)),
            articles::derived_excerpt.eq(&rendered.derived_excerpt),
            articles::body_html.eq(&rendered.html),
            articles::body_text.eq(&rendered.text),
            articles::word_count.eq(rendered.word_count),
        ))
        .execute(conn)?;
    for (position, author_id) in authors.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(columns.id),
                article_authors::author_id.eq(author_id),
                article_authors::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    for (position, tag_id) in tags.iter().enumerate() {
        diesel::insert_into(article_tags::table)
            .values((
                article_tags::article_id.eq(columns.id),
                article_tags::tag_id.eq(tag_id),
                article_tags::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// On PostgreSQL, ids written by hand leave each table's sequence behind: the next row made would
/// take an id already in use. SQLite's AUTOINCREMENT follows the largest id by itself.
fn move_sequences_on(conn: &mut DbConnection) -> Result<(), ApiError> {
    if let DbConnection::Postgres(pg) = conn {
        for table in TABLES {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .execute(pg)?;
        }
    }
    Ok(())
}
