//! Public reads: the list (keyset or numbered pages), one article by slug, related articles, all
//! through `db::visibility`; and previews, which show any article not in the trash to whoever
//! holds a signed link.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::joins::{with_any_tag, with_embeds, with_tag};
use crate::articles::listing::PublicFilter;
use crate::articles::listing::{Cursor, CursorKey, ListRequest, Sort, Window};
use crate::articles::model::{ArticleRow, SummaryRow};
use crate::articles::search::Search;
use crate::articles::views::{ArticleSummary, PublicArticle};
use crate::db::visibility::{is_listed, is_public};
use crate::db::{DbBackend, DbConnection};
use crate::error::ApiError;
use crate::schema::{article_authors, article_tags, articles, authors};
use crate::slugs;

/// Whether rows after `cursor` all have `published_at <= now` already: newest first from a
/// publication time in the past. Dropping the redundant bound matters on SQLite, which seeks the
/// index from only one upper bound: with both, it starts at `now` and filters its way down to the
/// cursor, so page 2,000 cost as much as reading 2,000 pages.
fn cursor_bounds_time(cursor: &Cursor, now: NaiveDateTime) -> bool {
    matches!((cursor.sort, &cursor.key), (Sort::NewestFirst, CursorKey::Time(key)) if *key <= now)
}

/// The public list's rows. `now` is `None` only where a cursor bounds the time instead (see
/// [`cursor_bounds_time`]).
fn public_articles(
    now: Option<NaiveDateTime>,
    filter: &PublicFilter,
    search: Option<&Search>,
) -> articles::BoxedQuery<'static, DbBackend> {
    let mut query = match now {
        Some(now) => articles::table.filter(is_public(now)).into_boxed(),
        None => articles::table.filter(is_listed()).into_boxed(),
    };
    if let Some(search) = search {
        query = query.filter(search.matches());
    }
    if !filter.any_tags.is_empty() {
        query = query.filter(articles::id.eq_any(with_any_tag(filter.any_tags.clone())));
    }
    for tag in &filter.all_tags {
        query = query.filter(articles::id.eq_any(with_tag(tag.clone())));
    }
    if let Some(author) = &filter.author {
        query = query.filter(
            articles::id.eq_any(
                article_authors::table
                    .inner_join(authors::table)
                    .filter(authors::slug.eq(author.clone()))
                    .select(article_authors::article_id),
            ),
        );
    }
    if let Some(featured) = filter.featured {
        query = query.filter(articles::featured.eq(featured));
    }
    if let Some(after) = filter.published_after {
        query = query.filter(articles::published_at.ge(after));
    }
    if let Some(before) = filter.published_before {
        query = query.filter(articles::published_at.lt(before));
    }
    query
}

/// A page of the public list.
pub struct ListPage {
    pub items: Vec<ArticleSummary>,
    /// Page-number pagination only.
    pub total: Option<i64>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

fn ordered(
    query: articles::BoxedQuery<'static, DbBackend>,
    sort: Sort,
    search: Option<&Search>,
) -> articles::BoxedQuery<'static, DbBackend> {
    match sort {
        Sort::Relevance => match search {
            Some(search) => query.order((search.rank().asc(), articles::id.asc())),
            None => query.order((articles::published_at.desc(), articles::id.desc())),
        },
        Sort::NewestFirst => query.order((articles::published_at.desc(), articles::id.desc())),
        Sort::OldestFirst => query.order((articles::published_at.asc(), articles::id.asc())),
        // Case-insensitive, and the same on both backends whatever the database's collation.
        Sort::Title => query.order((articles::title_key.asc(), articles::id.asc())),
        Sort::RecentlyUpdated => query.order((articles::updated_at.desc(), articles::id.desc())),
    }
}

/// Only the rows after the cursor, in the cursor's order: `(key, id)` past `(cursor key, cursor id)`.
pub(super) fn after(
    query: articles::BoxedQuery<'static, DbBackend>,
    cursor: &Cursor,
) -> articles::BoxedQuery<'static, DbBackend> {
    use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
    // Row-value comparisons, `(key, id) < (?, ?)`: both databases seek them in the index of the
    // order, where the equivalent `key < ? OR (key = ? AND id < ?)` would scan.
    let seek = |columns: &str, op: &str| diesel::dsl::sql::<Bool>(&format!("({columns}) {op} ("));
    let id = cursor.id;
    match (&cursor.key, cursor.sort) {
        (CursorKey::Time(t), Sort::NewestFirst) => query.filter(
            seek("articles.published_at, articles.id", "<")
                .bind::<Timestamp, _>(*t)
                .sql(", ")
                .bind::<BigInt, _>(id)
                .sql(")"),
        ),
        (CursorKey::Time(t), Sort::OldestFirst) => query.filter(
            seek("articles.published_at, articles.id", ">")
                .bind::<Timestamp, _>(*t)
                .sql(", ")
                .bind::<BigInt, _>(id)
                .sql(")"),
        ),
        (CursorKey::Time(t), _) => query.filter(
            seek("articles.updated_at, articles.id", "<")
                .bind::<Timestamp, _>(*t)
                .sql(", ")
                .bind::<BigInt, _>(id)
                .sql(")"),
        ),
        (CursorKey::Offset(offset), _) => query.offset(*offset),
        // The cursor carries the row's sort key, compared exactly as ORDER BY compares it.
        (CursorKey::Text(key), _) => query.filter(
            seek("articles.title_key, articles.id", ">")
                .bind::<Text, _>(key.clone())
                .sql(", ")
                .bind::<BigInt, _>(id)
                .sql(")"),
        ),
    }
}

fn cursor_of(row: &SummaryRow, sort: Sort, position: i64) -> Cursor {
    let key = match sort {
        Sort::Relevance => CursorKey::Offset(position),
        Sort::NewestFirst | Sort::OldestFirst => CursorKey::Time(row.published_at.unwrap_or(row.updated_at)),
        Sort::RecentlyUpdated => CursorKey::Time(row.updated_at),
        Sort::Title => CursorKey::Text(row.title_key.clone()),
    };
    Cursor { sort, key, id: row.id }
}

/// A page of the public list, with bylines and tags (and bodies when asked): a fixed number of
/// queries whatever the page size. Keyset pages cost the same at any depth.
pub fn list_public(conn: &mut DbConnection, now: NaiveDateTime, request: &ListRequest) -> Result<ListPage, ApiError> {
    let per_page = request.window.per_page();
    // A search without words matches nothing (and an empty MATCH is a syntax error in FTS5).
    if request.search.as_ref().is_some_and(|words| words.is_empty()) {
        let total = matches!(request.window, Window::Page(_)).then_some(0);
        return Ok(ListPage { items: Vec::new(), total, next: None });
    }
    let search = request.search.as_deref().map(|words| Search::new(conn.kind(), words));
    let search = search.as_ref();
    let base = || public_articles(Some(now), &request.filter, search);
    // One row more than asked tells whether another page follows.
    let (mut rows, total, start) = match search.filter(|s| request.sort == Sort::Relevance && s.ranks_separately()) {
        Some(search) => {
            let start = match &request.window {
                Window::Page(page) => page.offset(),
                Window::After { cursor: Some(Cursor { key: CursorKey::Offset(offset), .. }), .. } => *offset,
                Window::After { .. } => 0,
            };
            let matching: HashSet<i64> = base().select(articles::id).load::<i64>(conn)?.into_iter().collect();
            let total = matches!(request.window, Window::Page(_)).then_some(matching.len() as i64);
            let ids = search.best_first(conn, &matching, start, per_page + 1)?;
            // The rule again: an article unpublished since the first statement stays out.
            let mut rows: Vec<SummaryRow> =
                base().filter(articles::id.eq_any(ids.clone())).select(SummaryRow::as_select()).load(conn)?;
            rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
            (rows, total, start)
        }
        None => {
            let (query, total, start) = match &request.window {
                Window::Page(page) => {
                    let total = base().count().get_result(conn)?;
                    (ordered(base(), request.sort, search).offset(page.offset()), Some(total), page.offset())
                }
                Window::After { cursor: Some(cursor), .. } => {
                    let start = if let CursorKey::Offset(offset) = cursor.key { offset } else { 0 };
                    let bounded = (!cursor_bounds_time(cursor, now)).then_some(now);
                    let rows = public_articles(bounded, &request.filter, search);
                    (ordered(after(rows, cursor), request.sort, search), None, start)
                }
                Window::After { cursor: None, .. } => (ordered(base(), request.sort, search), None, 0),
            };
            (query.limit(per_page + 1).select(SummaryRow::as_select()).load(conn)?, total, start)
        }
    };
    let next = if rows.len() as i64 > per_page {
        rows.truncate(per_page as usize);
        rows.last().map(|row| cursor_of(row, request.sort, start.saturating_add(per_page)))
    } else {
        None
    };
    let mut bodies: HashMap<i64, (String, String)> =
        if (request.include_body || request.include_text) && !rows.is_empty() {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            articles::table
                .filter(articles::id.eq_any(ids))
                .select((articles::id, articles::body_html, articles::body_text))
                .load::<(i64, String, String)>(conn)?
                .into_iter()
                .map(|(id, html, text)| (id, (html, text)))
                .collect()
        } else {
            HashMap::new()
        };
    let items = with_embeds(conn, rows, |row, embeds| {
        let body = bodies.remove(&row.id);
        let mut item = ArticleSummary::new(row, embeds);
        if let Some((html, text)) = body {
            item.body_html = request.include_body.then_some(html);
            item.body_text = request.include_text.then_some(text);
        }
        item
    })?;
    Ok(ListPage { items, total, next })
}

/// One public article by slug, and when it last changed: its content or its comments (whose count
/// it carries).
pub fn find_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    slug: &str,
) -> Result<Option<(PublicArticle, NaiveDateTime)>, ApiError> {
    // Not a slug at all (or with bytes PostgreSQL cannot compare, such as NUL): nothing to look up.
    if !slugs::is_valid_slug(slug) {
        return Ok(None);
    }
    let row: Option<ArticleRow> = articles::table
        .filter(is_public(now))
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let last_modified = row.comments_changed_at.map_or(row.updated_at, |at| at.max(row.updated_at));
    Ok(Some((with_embeds(conn, vec![row], PublicArticle::new)?.remove(0), last_modified)))
}

/// Any article not in the trash, in the public shape: what a preview link shows.
pub fn find_preview(conn: &mut DbConnection, id: i64) -> Result<Option<PublicArticle>, ApiError> {
    let row: Option<ArticleRow> = articles::table
        .find(id)
        .filter(articles::deleted_at.is_null())
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| Ok(with_embeds(conn, vec![row], PublicArticle::new)?.remove(0))).transpose()
}

/// Published articles sharing the most tags with the public article `slug` (most shared first,
/// then newest); `None` when `slug` is not public.
pub fn related(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    slug: &str,
    limit: i64,
) -> Result<Option<Vec<ArticleSummary>>, ApiError> {
    if !slugs::is_valid_slug(slug) {
        return Ok(None);
    }
    let Some(id) = articles::table
        .filter(is_public(now))
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let tag_ids: Vec<i64> =
        article_tags::table.filter(article_tags::article_id.eq(id)).select(article_tags::tag_id).load(conn)?;
    if tag_ids.is_empty() {
        return Ok(Some(Vec::new()));
    }
    // Grouped by the article's key, so its other columns (published_at) may order the groups.
    let ranked: Vec<(i64, i64)> = articles::table
        .inner_join(article_tags::table)
        .filter(is_public(now))
        .filter(article_tags::tag_id.eq_any(&tag_ids))
        .filter(articles::id.ne(id))
        .group_by(articles::id)
        .select((articles::id, diesel::dsl::count_star()))
        .order((diesel::dsl::count_star().desc(), articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .load(conn)?;
    let ids: Vec<i64> = ranked.iter().map(|(id, _)| *id).collect();
    let mut rows: Vec<SummaryRow> =
        articles::table.filter(articles::id.eq_any(&ids)).select(SummaryRow::as_select()).load(conn)?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(Some(with_embeds(conn, rows, ArticleSummary::new)?))
}
