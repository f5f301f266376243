//! Article queries and writes. Every public query goes through [`is_public`]; every write is one
//! transaction that leaves nothing half-done, checks the caller's `guard` inside it, and records a
//! revision when the content changed.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::listing::{Cursor, CursorKey, ListRequest, Sort, Window};
use super::model::{
    ArticleRow, CreateArticle, MAX_ALT_CHARS, MAX_AUTHORS_PER_ARTICLE, MAX_BODY_CHARS, MAX_EXCERPT_CHARS,
    MAX_SEO_DESCRIPTION_CHARS, MAX_SEO_TITLE_CHARS, MAX_TITLE_CHARS, NewArticle, SummaryRow, UpdateArticle,
};
use super::policy::ArticleAccess;
use super::revisions;
use super::search::Search;
use super::views::{AdminArticle, AdminArticleSummary, ArticleState, ArticleSummary, Embeds, PublicArticle};
use crate::authors::store::{bylines_for, existing_ids};
use crate::comments::store as comment_store;
use crate::db::visibility::{STATUS_DRAFT, STATUS_PUBLISHED, is_listed, is_public, is_scheduled};
use crate::db::{self, DbBackend, DbConnection, lower, write_transaction};
use crate::error::{ApiError, Validator};
use crate::markdown::{MAX_NESTING, Rendered, nesting_depth, render};
use crate::pagination::PageRequest;
use crate::schema::{article_authors, article_tags, articles, authors, tags};
use crate::slugs;
use crate::tags::store as tag_store;

/// Whether rows after `cursor` all have `published_at <= now` already: newest first from a
/// publication time in the past. Dropping the redundant bound matters on SQLite, which seeks the
/// index from only one upper bound: with both, it starts at `now` and filters its way down to the
/// cursor, so page 2,000 cost as much as reading 2,000 pages.
fn cursor_bounds_time(cursor: &Cursor, now: NaiveDateTime) -> bool {
    matches!((cursor.sort, &cursor.key), (Sort::NewestFirst, CursorKey::Time(key)) if *key <= now)
}

/// Filters of the public list (see `listing` for the query parameters).
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    /// Tag slugs: articles with any of them.
    pub any_tags: Vec<String>,
    /// Tag slugs: articles with all of them.
    pub all_tags: Vec<String>,
    /// An author slug.
    pub author: Option<String>,
    pub featured: Option<bool>,
    pub published_after: Option<NaiveDateTime>,
    pub published_before: Option<NaiveDateTime>,
}

/// Ids of the articles with this tag (a slug), as a subquery.
#[diesel::dsl::auto_type(no_type_alias)]
fn with_tag(tag: String) -> _ {
    article_tags::table.inner_join(tags::table).filter(tags::slug.eq(tag)).select(article_tags::article_id)
}

/// Ids of the articles with this author (an id) on the byline, as a subquery.
#[diesel::dsl::auto_type(no_type_alias)]
fn with_author(author_id: i64) -> _ {
    article_authors::table.filter(article_authors::author_id.eq(author_id)).select(article_authors::article_id)
}

/// Ids of the articles with any of these tags (slugs), as a subquery.
#[diesel::dsl::auto_type(no_type_alias)]
fn with_any_tag(tags: Vec<String>) -> _ {
    article_tags::table.inner_join(tags::table).filter(tags::slug.eq_any(tags)).select(article_tags::article_id)
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
fn after(query: articles::BoxedQuery<'static, DbBackend>, cursor: &Cursor) -> articles::BoxedQuery<'static, DbBackend> {
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

/// Rows of articles, each turned into a view with its bylines, tags and comment count, loaded for
/// all at once (three queries whatever the number of rows).
fn with_embeds<R: HasId, V>(
    conn: &mut DbConnection,
    rows: Vec<R>,
    mut view: impl FnMut(R, Embeds) -> V,
) -> Result<Vec<V>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(HasId::id).collect();
    let mut bylines = bylines_for(conn, &ids)?;
    let mut tags = tag_store::tags_for(conn, &ids)?;
    let comment_counts = comment_store::counts_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id();
            let embeds = Embeds {
                bylines: bylines.remove(&id).unwrap_or_default(),
                tags: tags.remove(&id).unwrap_or_default(),
                comment_count: comment_counts.get(&id).copied().unwrap_or(0),
            };
            view(row, embeds)
        })
        .collect())
}

/// Rows that embeds can be attached to.
trait HasId {
    fn id(&self) -> i64;
}

impl HasId for ArticleRow {
    fn id(&self) -> i64 {
        self.id
    }
}

impl HasId for SummaryRow {
    fn id(&self) -> i64 {
        self.id
    }
}

/// Filters of the editors' list.
#[derive(Debug, Clone)]
pub struct AdminFilter {
    pub now: NaiveDateTime,
    /// Without a state, everything but the trash.
    pub state: Option<ArticleState>,
    /// Only articles with this author on the byline (authors and contributors see only their own).
    pub byline: Option<i64>,
    /// The dashboard's author filter: an author id.
    pub author: Option<i64>,
    /// A tag slug.
    pub tag: Option<String>,
    /// Words in the title or the body, case-insensitive.
    pub text: Option<String>,
}

fn admin_articles(filter: &AdminFilter) -> articles::BoxedQuery<'static, DbBackend> {
    let mut query = articles::table.into_boxed();
    query = match filter.state {
        None => query.filter(articles::deleted_at.is_null()),
        Some(ArticleState::Trashed) => query.filter(articles::deleted_at.is_not_null()),
        Some(ArticleState::Draft) => {
            query.filter(articles::deleted_at.is_null()).filter(articles::status.eq(STATUS_DRAFT))
        }
        Some(ArticleState::Scheduled) => query.filter(is_scheduled(filter.now)),
        Some(ArticleState::Published) => query.filter(is_public(filter.now)),
    };
    for author_id in [filter.byline, filter.author].into_iter().flatten() {
        query = query.filter(articles::id.eq_any(with_author(author_id)));
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(articles::id.eq_any(with_tag(tag.clone())));
    }
    if let Some(text) = &filter.text {
        let pattern = db::contains_pattern(text);
        query = query.filter(
            lower(articles::title)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(articles::body_markdown).like(pattern).escape('\\')),
        );
    }
    query
}

/// The editors' list, most recently changed first.
pub fn list_admin(
    conn: &mut DbConnection,
    filter: &AdminFilter,
    page: PageRequest,
) -> Result<(Vec<AdminArticleSummary>, i64), ApiError> {
    let total = admin_articles(filter).count().get_result(conn)?;
    let rows: Vec<SummaryRow> = admin_articles(filter)
        .order((articles::updated_at.desc(), articles::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(SummaryRow::as_select())
        .load(conn)?;
    let now = filter.now;
    with_embeds(conn, rows, |row, embeds| AdminArticleSummary::new(row, embeds, now)).map(|items| (items, total))
}

/// One article as editors see it (from the trash too).
pub fn load_admin(conn: &mut DbConnection, id: i64) -> Result<AdminArticle, ApiError> {
    let row: ArticleRow =
        articles::table.find(id).select(ArticleRow::as_select()).first(conn).optional()?.ok_or_else(not_found)?;
    let now = db::now();
    Ok(with_embeds(conn, vec![row], |row, embeds| AdminArticle::new(row, embeds, now))?.remove(0))
}

/// What the policy and preconditions need to decide about an article; 404 when there is none.
pub fn access(conn: &mut DbConnection, id: i64) -> Result<ArticleAccess, ApiError> {
    let (status, deleted_at, version): (String, Option<NaiveDateTime>, i32) = articles::table
        .find(id)
        .select((articles::status, articles::deleted_at, articles::version))
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    let byline_ids = article_authors::table
        .filter(article_authors::article_id.eq(id))
        .order(article_authors::position)
        .select(article_authors::author_id)
        .load(conn)?;
    Ok(ArticleAccess { status, trashed: deleted_at.is_some(), version, byline_ids })
}

pub fn not_found() -> ApiError {
    ApiError::NotFound("no article has this id".into())
}

fn in_trash() -> ApiError {
    ApiError::Conflict("the article is in the trash; restore it first".into())
}

/// Locks the article, loads its access facts, runs the caller's guard (permissions, `If-Match`)
/// on them, and refuses the trash unless `allow_trashed`.
fn guarded(
    conn: &mut DbConnection,
    id: i64,
    allow_trashed: bool,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<ArticleAccess, ApiError> {
    // Lock the row first (a no-op update): on PostgreSQL a concurrent writer now waits here and
    // then reads the version this transaction wrote, so If-Match cannot pass on a stale read.
    let locked = diesel::update(articles::table.find(id)).set(articles::version.eq(articles::version)).execute(conn)?;
    if locked == 0 {
        return Err(not_found());
    }
    let access = access(conn, id)?;
    guard(&access)?;
    if access.trashed && !allow_trashed {
        return Err(in_trash());
    }
    Ok(access)
}

/// An optional text field as sent: trimmed, an empty string meaning "none".
fn trimmed(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// The editor's fields, trimmed and checked; every problem is collected before answering.
/// `Option<Option<_>>`: absent, cleared, or set.
#[derive(Default)]
struct Fields {
    title: Option<String>,
    body_markdown: Option<String>,
    excerpt: Option<Option<String>>,
    slug: Option<String>,
    tags: Option<Vec<(String, String)>>,
    authors: Option<Vec<i64>>,
    featured: Option<bool>,
    cover_image_url: Option<Option<String>>,
    cover_image_alt: Option<Option<String>>,
    seo_title: Option<Option<String>>,
    seo_description: Option<Option<String>>,
    canonical_url: Option<Option<String>>,
    comments_enabled: Option<bool>,
}

impl Fields {
    fn check(input: UpdateArticle) -> Result<Self, ApiError> {
        let mut v = Validator::new();
        let raw = |value: &Option<Option<String>>| value.as_ref().and_then(|v| v.as_deref()).map(str::to_string);
        for (field, text, max) in [
            ("title", input.title.clone(), MAX_TITLE_CHARS),
            ("excerpt", raw(&input.excerpt), MAX_EXCERPT_CHARS),
            ("cover_image_alt", raw(&input.cover_image_alt), MAX_ALT_CHARS),
            ("seo_title", raw(&input.seo_title), MAX_SEO_TITLE_CHARS),
            ("seo_description", raw(&input.seo_description), MAX_SEO_DESCRIPTION_CHARS),
            ("cover_image_url", raw(&input.cover_image_url), 2048),
            ("canonical_url", raw(&input.canonical_url), 2048),
        ] {
            v.untrimmed_max(field, text.as_deref(), max);
        }
        let optional = |value: Option<Option<String>>| value.map(|v| trimmed(v.as_deref()));
        let tag_names = input.tags;
        let mut fields = Fields {
            title: input.title.map(|t| t.trim().to_string()),
            body_markdown: input.body_markdown,
            excerpt: optional(input.excerpt),
            slug: input.slug,
            tags: None,
            authors: input.authors,
            featured: input.featured,
            cover_image_url: optional(input.cover_image_url),
            cover_image_alt: optional(input.cover_image_alt),
            seo_title: optional(input.seo_title),
            seo_description: optional(input.seo_description),
            canonical_url: optional(input.canonical_url),
            comments_enabled: input.comments_enabled,
        };
        if let Some(title) = &fields.title {
            v.chars("title", title, 1, MAX_TITLE_CHARS);
        }
        if let Some(body) = &fields.body_markdown {
            v.chars("body_markdown", body, 0, MAX_BODY_CHARS);
            if body.chars().count() <= MAX_BODY_CHARS {
                v.check(
                    nesting_depth(body) <= MAX_NESTING,
                    "body_markdown",
                    format!("must not nest lists, quotes or emphasis more than {MAX_NESTING} levels deep"),
                );
            }
        }
        if let Some(slug) = &fields.slug {
            v.check(slugs::is_valid_slug(slug), "slug", slugs::SLUG_RULE);
        }
        if let Some(ids) = &mut fields.authors {
            v.check(
                (1..=MAX_AUTHORS_PER_ARTICLE).contains(&ids.len()),
                "authors",
                format!("must list 1 to {MAX_AUTHORS_PER_ARTICLE} author ids"),
            );
            // An author named twice is on the byline once, at the first place.
            let mut seen = Vec::with_capacity(ids.len());
            ids.retain(|id| {
                if seen.contains(id) {
                    false
                } else {
                    seen.push(*id);
                    true
                }
            });
        }
        for (field, value, max) in [
            ("excerpt", &fields.excerpt, MAX_EXCERPT_CHARS),
            ("cover_image_alt", &fields.cover_image_alt, MAX_ALT_CHARS),
            ("seo_title", &fields.seo_title, MAX_SEO_TITLE_CHARS),
            ("seo_description", &fields.seo_description, MAX_SEO_DESCRIPTION_CHARS),
        ] {
            if let Some(Some(value)) = value {
                v.chars(field, value, 0, max);
            }
        }
        for (field, value) in [("cover_image_url", &fields.cover_image_url), ("canonical_url", &fields.canonical_url)] {
            if let Some(Some(url)) = value {
                v.http_url(field, url);
            }
        }
        fields.tags = tag_names.map(|names| tag_store::check_tag_names(&names, &mut v)).transpose()?;
        v.finish()?;
        Ok(fields)
    }
}

fn slug_taken(conn: &mut DbConnection, slug: &str, except_id: Option<i64>) -> Result<bool, ApiError> {
    let query =
        articles::table.filter(articles::slug.eq(slug.to_string())).filter(articles::id.ne(except_id.unwrap_or(-1)));
    Ok(diesel::select(diesel::dsl::exists(query)).get_result(conn)?)
}

fn slug_conflict(slug: &str) -> ApiError {
    ApiError::Conflict(format!("the slug `{slug}` is taken by another article"))
}

/// Replaces an article's byline with `author_ids`, in order; every id must be an author.
fn set_bylines(conn: &mut DbConnection, article_id: i64, author_ids: &[i64]) -> Result<(), ApiError> {
    let existing = existing_ids(conn, author_ids)?;
    if let Some(missing) = author_ids.iter().find(|id| !existing.contains(id)) {
        // A reference to nothing: 404, like a path to nothing (the id itself is well-formed).
        return Err(ApiError::NotFound(format!("`authors`: no author has the id {missing}")));
    }
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(article_id))).execute(conn)?;
    for (position, author_id) in author_ids.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(article_id),
                article_authors::author_id.eq(*author_id),
                article_authors::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Who is writing, for bylines, tag creation and the revision history.
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    pub author_id: i64,
    pub may_create_tags: bool,
}

/// An editor's input, checked and rendered before any database work: rendering is CPU-bound
/// and must not hold a pooled connection (see `crate::http::state::cpu_bound`).
pub struct Prepared {
    fields: Fields,
    rendered: Option<Rendered>,
}

impl Prepared {
    fn new(fields: Fields) -> Self {
        let rendered = fields.body_markdown.as_deref().map(render);
        Self { fields, rendered }
    }

    /// A `PATCH {}`: nothing to write, no new version.
    fn is_empty(&self) -> bool {
        let f = &self.fields;
        f.title.is_none()
            && f.body_markdown.is_none()
            && f.excerpt.is_none()
            && f.slug.is_none()
            && f.tags.is_none()
            && f.authors.is_none()
            && f.featured.is_none()
            && f.cover_image_url.is_none()
            && f.cover_image_alt.is_none()
            && f.seo_title.is_none()
            && f.seo_description.is_none()
            && f.canonical_url.is_none()
            && f.comments_enabled.is_none()
    }
}

/// Checks and renders a new article.
pub fn prepare_new(input: CreateArticle) -> Result<Prepared, ApiError> {
    Fields::check(UpdateArticle {
        title: Some(input.title),
        body_markdown: Some(input.body_markdown),
        excerpt: Some(input.excerpt),
        slug: input.slug,
        tags: input.tags,
        authors: input.authors,
        featured: input.featured,
        cover_image_url: Some(input.cover_image_url),
        cover_image_alt: Some(input.cover_image_alt),
        seo_title: Some(input.seo_title),
        seo_description: Some(input.seo_description),
        canonical_url: Some(input.canonical_url),
        comments_enabled: input.comments_enabled,
    })
    .map(Prepared::new)
}

/// Checks and renders an editor's changes.
pub fn prepare_update(input: UpdateArticle) -> Result<Prepared, ApiError> {
    Fields::check(input).map(Prepared::new)
}

/// How often a derived slug is chosen again after losing a race for it.
const SLUG_ATTEMPTS: usize = 5;

/// Creates a draft (the caller is the byline unless `authors` says otherwise) and records
/// revision 1; returns its id.
pub fn create(conn: &mut DbConnection, writer: Writer, prepared: Prepared) -> Result<i64, ApiError> {
    let Prepared { fields, rendered } = prepared;
    let title = fields.title.clone().unwrap_or_default();
    let body = fields.body_markdown.clone().unwrap_or_default();
    let rendered = rendered.unwrap_or_else(|| render(&body));
    let text = |value: &Option<Option<String>>| value.clone().flatten();
    write_transaction(conn, |conn| {
        let now = db::now();
        let (excerpt, cover_url, cover_alt) =
            (text(&fields.excerpt), text(&fields.cover_image_url), text(&fields.cover_image_alt));
        let (seo_title, seo_description, canonical) =
            (text(&fields.seo_title), text(&fields.seo_description), text(&fields.canonical_url));
        let mut attempts = 0;
        let id = loop {
            attempts += 1;
            let slug = match &fields.slug {
                Some(slug) if slug_taken(conn, slug, None)? => return Err(slug_conflict(slug)),
                Some(slug) => slug.clone(),
                None => {
                    let base = slugs::slugify(&title, "article");
                    db::lock_key(conn, &format!("articles.slug:{base}"))?;
                    slugs::unique_slug(&base, |s| slug_taken(conn, s, None))?
                }
            };
            let inserted = db::insert_unless_taken(conn, |conn| {
                diesel::insert_into(articles::table)
                    .values(&NewArticle {
                        slug: &slug,
                        title: &title,
                        title_key: &slugs::sort_key(&title),
                        excerpt: excerpt.as_deref(),
                        derived_excerpt: &rendered.derived_excerpt,
                        body_markdown: &body,
                        body_html: &rendered.html,
                        body_text: &rendered.text,
                        status: STATUS_DRAFT,
                        published_at: None,
                        featured: fields.featured.unwrap_or(false),
                        cover_image_url: cover_url.as_deref(),
                        cover_image_alt: cover_alt.as_deref(),
                        seo_title: seo_title.as_deref(),
                        seo_description: seo_description.as_deref(),
                        canonical_url: canonical.as_deref(),
                        comments_enabled: fields.comments_enabled.unwrap_or(true),
                        word_count: rendered.word_count,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    })
                    .returning(articles::id)
                    .get_result::<i64>(conn)
            })?;
            match inserted {
                Some(id) => break id,
                // Taken between the check and the insert by a concurrent writer.
                None if fields.slug.is_some() => return Err(slug_conflict(&slug)),
                None if attempts < SLUG_ATTEMPTS => continue,
                None => return Err(ApiError::Conflict("could not find a free slug; retry".into())),
            }
        };
        set_bylines(conn, id, fields.authors.as_deref().unwrap_or(&[writer.author_id]))?;
        if let Some(tags) = &fields.tags {
            let tag_ids = tag_store::resolve(conn, tags, writer.may_create_tags)?;
            tag_store::set_for_article(conn, id, &tag_ids)?;
        }
        revisions::record(conn, id, writer.author_id, Some("created".into()))?;
        Ok(id)
    })
}

#[derive(AsChangeset)]
#[diesel(table_name = articles)]
struct ArticleChanges<'a> {
    title: Option<&'a str>,
    title_key: Option<String>,
    slug: Option<&'a str>,
    excerpt: Option<Option<&'a str>>,
    derived_excerpt: Option<&'a str>,
    body_markdown: Option<&'a str>,
    body_html: Option<&'a str>,
    body_text: Option<&'a str>,
    word_count: Option<i32>,
    featured: Option<bool>,
    cover_image_url: Option<Option<&'a str>>,
    cover_image_alt: Option<Option<&'a str>>,
    seo_title: Option<Option<&'a str>>,
    seo_description: Option<Option<&'a str>>,
    canonical_url: Option<Option<&'a str>>,
    comments_enabled: Option<bool>,
    updated_at: NaiveDateTime,
}

/// Applies an editor's changes after `guard` accepts the article as it is now, in the same
/// transaction; records a revision when title, excerpt, body, tags or authors changed.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    writer: Writer,
    prepared: Prepared,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        guarded(conn, id, false, guard)?;
        if prepared.is_empty() {
            return Ok(());
        }
        apply(conn, id, writer, &prepared.fields, prepared.rendered.as_ref())?;
        revisions::record(conn, id, writer.author_id, None)?;
        Ok(())
    })
}

/// Writes checked fields to an article (shared by edits and revision restores).
fn apply(
    conn: &mut DbConnection,
    id: i64,
    writer: Writer,
    fields: &Fields,
    rendered: Option<&Rendered>,
) -> Result<(), ApiError> {
    if let Some(slug) = &fields.slug
        && slug_taken(conn, slug, Some(id))?
    {
        return Err(slug_conflict(slug));
    }
    fn text(value: &Option<Option<String>>) -> Option<Option<&str>> {
        value.as_ref().map(|v| v.as_deref())
    }
    let changes = ArticleChanges {
        title: fields.title.as_deref(),
        title_key: fields.title.as_deref().map(slugs::sort_key),
        slug: fields.slug.as_deref(),
        excerpt: text(&fields.excerpt),
        derived_excerpt: rendered.map(|r| r.derived_excerpt.as_str()),
        body_markdown: fields.body_markdown.as_deref(),
        body_html: rendered.map(|r| r.html.as_str()),
        body_text: rendered.map(|r| r.text.as_str()),
        word_count: rendered.map(|r| r.word_count),
        featured: fields.featured,
        cover_image_url: text(&fields.cover_image_url),
        cover_image_alt: text(&fields.cover_image_alt),
        seo_title: text(&fields.seo_title),
        seo_description: text(&fields.seo_description),
        canonical_url: text(&fields.canonical_url),
        comments_enabled: fields.comments_enabled,
        updated_at: db::now(),
    };
    diesel::update(articles::table.find(id))
        .set((changes, articles::version.eq(articles::version + 1)))
        .execute(conn)?;
    if let Some(author_ids) = &fields.authors {
        set_bylines(conn, id, author_ids)?;
    }
    if let Some(tags) = &fields.tags {
        let tag_ids = tag_store::resolve(conn, tags, writer.may_create_tags)?;
        tag_store::set_for_article(conn, id, &tag_ids)?;
    }
    Ok(())
}

/// What `POST …/publish` and `…/unpublish` ask for.
#[derive(Debug, Clone, Copy)]
pub enum Publication {
    /// Public at this time (scheduled when in the future); `None`: now, or the first publication
    /// time when it is already past (republishing keeps an article's place in the list).
    Publish(Option<NaiveDateTime>),
    Unpublish,
}

pub fn set_publication(
    conn: &mut DbConnection,
    id: i64,
    publication: Publication,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        guarded(conn, id, false, guard)?;
        let now = db::now();
        let current: Option<NaiveDateTime> = articles::table.find(id).select(articles::published_at).first(conn)?;
        let (status, published_at) = match publication {
            Publication::Publish(Some(at)) => (STATUS_PUBLISHED, Some(at)),
            Publication::Publish(None) => (STATUS_PUBLISHED, Some(current.filter(|at| *at <= now).unwrap_or(now))),
            Publication::Unpublish => (STATUS_DRAFT, current),
        };
        diesel::update(articles::table.find(id))
            .set((
                articles::status.eq(status),
                articles::published_at.eq(published_at),
                articles::updated_at.eq(now),
                articles::version.eq(articles::version + 1),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Moves an article to the trash (`true`) or back out of it (`false`). Idempotent.
pub fn set_trashed(
    conn: &mut DbConnection,
    id: i64,
    trashed: bool,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        let access = guarded(conn, id, true, guard)?;
        if access.trashed == trashed {
            return Ok(());
        }
        let now = db::now();
        diesel::update(articles::table.find(id))
            .set((
                articles::deleted_at.eq(trashed.then_some(now)),
                articles::updated_at.eq(now),
                articles::version.eq(articles::version + 1),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes an article for good, with its bylines, tags, revisions and comments.
pub fn delete_permanently(
    conn: &mut DbConnection,
    id: i64,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        guarded(conn, id, true, guard)?;
        diesel::delete(articles::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Brings back the content of revision `number` (title, excerpt, body, tags, authors) as a new
/// revision; nothing in the history is overwritten.
pub fn restore_revision(
    conn: &mut DbConnection,
    id: i64,
    number: i32,
    writer: Writer,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        guarded(conn, id, false, guard)?;
        let snapshot = revisions::snapshot_of(conn, id, number)?;
        let still_authors = existing_ids(conn, &snapshot.authors)?;
        let authors: Vec<i64> = snapshot.authors.iter().copied().filter(|a| still_authors.contains(a)).collect();
        let mut v = Validator::new();
        let tags = tag_store::check_tag_names(&snapshot.tags, &mut v)?;
        let fields = Fields {
            title: Some(snapshot.title),
            excerpt: Some(snapshot.excerpt),
            tags: Some(tags),
            authors: (!authors.is_empty()).then_some(authors),
            ..Fields::default()
        };
        let rendered = render(&snapshot.body_markdown);
        let fields = Fields { body_markdown: Some(snapshot.body_markdown), ..fields };
        // Tags deleted since then come back: restoring history may recreate them.
        apply(conn, id, Writer { may_create_tags: true, ..writer }, &fields, Some(&rendered))?;
        revisions::record(conn, id, writer.author_id, Some(format!("restored from revision {number}")))?;
        Ok(())
    })
}
