//! What the sitemap lists, in a fixed order (articles, then tags, then authors, each by id), so
//! that a part is a window of the whole list and parts never overlap.

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::visibility::is_public;
use crate::error::ApiError;
use crate::schema::{article_authors, article_tags, articles, authors, tags};

/// What a URL shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Article,
    Tag,
    Author,
}

/// One URL of the sitemap, before it is written with the front end's paths.
#[derive(Debug)]
pub struct Entry {
    pub kind: Kind,
    pub slug: String,
    /// An article's publication, for dated paths.
    pub published_at: Option<NaiveDateTime>,
    /// Its last change: an article's edit or publication; for a tag or an author, its own edit or
    /// its newest published article.
    pub lastmod: NaiveDateTime,
}

/// How many URLs of each kind.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub articles: i64,
    pub tags: i64,
    pub authors: i64,
}

impl Counts {
    pub fn total(&self) -> i64 {
        self.articles + self.tags + self.authors
    }
}

pub fn counts(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Counts, ApiError> {
    let articles = articles::table.filter(is_public(now)).count().get_result(conn)?;
    let tagged = article_tags::table.inner_join(articles::table).filter(is_public(now)).select(article_tags::tag_id);
    let tags = tags::table.filter(tags::id.eq_any(tagged)).count().get_result(conn)?;
    let bylined =
        article_authors::table.inner_join(articles::table).filter(is_public(now)).select(article_authors::author_id);
    let authors = authors::table.filter(authors::id.eq_any(bylined)).count().get_result(conn)?;
    Ok(Counts { articles, tags, authors })
}

/// `limit` entries from `offset` of the whole list (articles, tags, authors).
pub fn entries(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    counts: Counts,
    offset: i64,
    limit: i64,
) -> Result<Vec<Entry>, ApiError> {
    let mut entries = Vec::with_capacity(limit.clamp(0, 50_000) as usize);
    // Each kind's window: where the part starts in it, and how many it takes.
    let window = |count: i64, start: i64, taken: usize| {
        let from = (offset - start).max(0);
        let take = (limit - taken as i64).min(count - from).max(0);
        (from, take)
    };
    let (from, take) = window(counts.articles, 0, 0);
    if take > 0 {
        let rows: Vec<(String, Option<NaiveDateTime>, NaiveDateTime)> = articles::table
            .filter(is_public(now))
            .order(articles::id.asc())
            .offset(from)
            .limit(take)
            .select((articles::slug, articles::published_at, articles::updated_at))
            .load(conn)?;
        entries.extend(rows.into_iter().map(|(slug, published_at, updated_at)| Entry {
            kind: Kind::Article,
            slug,
            published_at,
            // A scheduled article changes when its time comes, after its last edit.
            lastmod: published_at.map_or(updated_at, |at| at.max(updated_at)),
        }));
    }
    let (from, take) = window(counts.tags, counts.articles, entries.len());
    if take > 0 {
        let rows: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)> = tags::table
            .inner_join(article_tags::table.inner_join(articles::table))
            .filter(is_public(now))
            .group_by((tags::id, tags::slug, tags::updated_at))
            .order(tags::id.asc())
            .offset(from)
            .limit(take)
            .select((tags::slug, tags::updated_at, max(articles::published_at)))
            .load(conn)?;
        entries.extend(rows.into_iter().map(|(slug, updated_at, newest)| Entry {
            kind: Kind::Tag,
            slug,
            published_at: None,
            lastmod: newest.map_or(updated_at, |at| at.max(updated_at)),
        }));
    }
    let (from, take) = window(counts.authors, counts.articles + counts.tags, entries.len());
    if take > 0 {
        let rows: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)> = authors::table
            .inner_join(article_authors::table.inner_join(articles::table))
            .filter(is_public(now))
            .group_by((authors::id, authors::slug, authors::updated_at))
            .order(authors::id.asc())
            .offset(from)
            .limit(take)
            .select((authors::slug, authors::updated_at, max(articles::published_at)))
            .load(conn)?;
        entries.extend(rows.into_iter().map(|(slug, updated_at, newest)| Entry {
            kind: Kind::Author,
            slug,
            published_at: None,
            lastmod: newest.map_or(updated_at, |at| at.max(updated_at)),
        }));
    }
    Ok(entries)
}
