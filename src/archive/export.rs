//! Writing an export: every record of one moment of the database (a snapshot transaction), kind
//! by kind in the order a restore needs (what is referred to comes first), each kind by id, read
//! in batches so that memory does not grow with the database.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::format::{
    Article, ArticleColumns, Author, Comment, FORMAT, Header, ImportSource, Media, Record, Redirect, Revision, Tag,
    Trailer,
};
use crate::db::{DbConnection, snapshot};
use crate::error::ApiError;
use crate::schema::{
    article_authors, article_revisions, article_tags, articles, authors, comments, media, redirects, tags,
};

/// Rows read at once.
const BATCH: i64 = 500;

/// What to put in an export.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Articles' revision history too.
    pub with_revisions: bool,
}

/// Writes the whole database as records, in order, to `emit`; `on_media` sees each media record
/// as it goes (to copy its file). Stops at the first error either returns.
pub fn export(
    conn: &mut DbConnection,
    options: ExportOptions,
    now: NaiveDateTime,
    emit: &mut dyn FnMut(&Record) -> Result<(), ApiError>,
    on_media: &mut dyn FnMut(&Media) -> Result<(), ApiError>,
) -> Result<u64, ApiError> {
    snapshot(conn, |conn| {
        emit(&Record::Masthead(Header { format: FORMAT, exported_at: now, with_revisions: options.with_revisions }))?;
        let mut records = 0;
        records += batches(
            conn,
            |conn, after| {
                authors::table
                    .filter(authors::id.gt(after))
                    .order(authors::id)
                    .limit(BATCH)
                    .select(Author::as_select())
                    .load(conn)
            },
            |row| row.id,
            |_, rows| rows.into_iter().try_for_each(|row| emit(&Record::Author(row))),
        )?;
        records += batches(
            conn,
            |conn, after| {
                tags::table.filter(tags::id.gt(after)).order(tags::id).limit(BATCH).select(Tag::as_select()).load(conn)
            },
            |row| row.id,
            |_, rows| rows.into_iter().try_for_each(|row| emit(&Record::Tag(row))),
        )?;
        records += batches(
            conn,
            |conn, after| {
                media::table
                    .filter(media::id.gt(after))
                    .order(media::id)
                    .limit(BATCH)
                    .select(Media::as_select())
                    .load(conn)
            },
            |row| row.id,
            |_, rows| {
                rows.into_iter().try_for_each(|row| {
                    on_media(&row)?;
                    emit(&Record::Media(row))
                })
            },
        )?;
        records += batches(
            conn,
            |conn, after| {
                articles::table
                    .filter(articles::id.gt(after))
                    .order(articles::id)
                    .limit(BATCH)
                    .select(ArticleColumns::as_select())
                    .load(conn)
            },
            |row| row.id,
            |conn, rows| {
                let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
                let mut bylines = grouped(
                    article_authors::table
                        .filter(article_authors::article_id.eq_any(&ids))
                        .order((article_authors::article_id, article_authors::position))
                        .select((article_authors::article_id, article_authors::author_id))
                        .load(conn)?,
                );
                let mut tagged = grouped(
                    article_tags::table
                        .filter(article_tags::article_id.eq_any(&ids))
                        .order((article_tags::article_id, article_tags::position))
                        .select((article_tags::article_id, article_tags::tag_id))
                        .load(conn)?,
                );
                rows.into_iter().try_for_each(|columns| {
                    let authors = bylines.remove(&columns.id).unwrap_or_default();
                    let tags = tagged.remove(&columns.id).unwrap_or_default();
                    emit(&Record::Article(Article { columns, authors, tags }))
                })
            },
        )?;
        if options.with_revisions {
            records += batches(
                conn,
                |conn, after| {
                    article_revisions::table
                        .filter(article_revisions::id.gt(after))
                        .order(article_revisions::id)
                        .limit(BATCH)
                        .select(Revision::as_select())
                        .load(conn)
                },
                |row| row.id,
                |_, rows| rows.into_iter().try_for_each(|row| emit(&Record::Revision(row))),
            )?;
        }
        records += batches(
            conn,
            |conn, after| {
                comments::table
                    .filter(comments::id.gt(after))
                    .order(comments::id)
                    .limit(BATCH)
                    .select(Comment::as_select())
                    .load(conn)
            },
            |row| row.id,
            |_, rows| rows.into_iter().try_for_each(|row| emit(&Record::Comment(row))),
        )?;
        records += batches(
            conn,
            |conn, after| {
                redirects::table
                    .filter(redirects::id.gt(after))
                    .order(redirects::id)
                    .limit(BATCH)
                    .select(Redirect::as_select())
                    .load(conn)
            },
            |row| row.id,
            |_, rows| rows.into_iter().try_for_each(|row| emit(&Record::Redirect(row))),
        )?;
        records += import_sources_in_batches(conn, &mut |row| emit(&Record::ImportSource(row)))?;
        emit(&Record::End(Trailer { records }))?;
        Ok(records)
    })
}

/// `import_sources` in batches of [`BATCH`], in key order (it has no id to go by).
fn import_sources_in_batches(
    conn: &mut DbConnection,
    emit: &mut dyn FnMut(ImportSource) -> Result<(), ApiError>,
) -> Result<u64, ApiError> {
    use crate::schema::import_sources::dsl::{import_sources, kind, source, source_id};
    let mut after: Option<(String, String, String)> = None;
    let mut count = 0;
    loop {
        let first = import_sources.order((source, kind, source_id)).limit(BATCH).select(ImportSource::as_select());
        let rows: Vec<ImportSource> = match &after {
            None => first.load(conn)?,
            Some((s, k, id)) => {
                let later_kind = kind.gt(k).or(kind.eq(k).and(source_id.gt(id)));
                first.filter(source.gt(s).or(source.eq(s).and(later_kind))).load(conn)?
            }
        };
        let full = rows.len() as i64 == BATCH;
        after = rows.last().map(|row| (row.source.clone(), row.kind.clone(), row.source_id.clone()));
        count += rows.len() as u64;
        rows.into_iter().try_for_each(&mut *emit)?;
        if !full {
            return Ok(count);
        }
    }
}

/// `(article, other)` pairs in order → each article's others, in order.
fn grouped(pairs: Vec<(i64, i64)>) -> HashMap<i64, Vec<i64>> {
    let mut groups: HashMap<i64, Vec<i64>> = HashMap::new();
    for (article, other) in pairs {
        groups.entry(article).or_default().push(other);
    }
    groups
}

/// Reads a table in batches of [`BATCH`] rows by id (`load` gets the last id read) and hands each
/// batch to `each`; returns how many rows there were.
fn batches<T>(
    conn: &mut DbConnection,
    mut load: impl FnMut(&mut DbConnection, i64) -> QueryResult<Vec<T>>,
    id: impl Fn(&T) -> i64,
    mut each: impl FnMut(&mut DbConnection, Vec<T>) -> Result<(), ApiError>,
) -> Result<u64, ApiError> {
    let (mut after, mut count) = (i64::MIN, 0);
    loop {
        let rows = load(conn, after)?;
        let Some(last) = rows.last() else { break };
        after = id(last);
        count += rows.len() as u64;
        let full = rows.len() as i64 == BATCH;
        each(conn, rows)?;
        if !full {
            break;
        }
    }
    Ok(count)
}
