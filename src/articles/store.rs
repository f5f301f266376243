//! Article queries and writes. Every public query goes through [`is_public`]; every write is one
//! transaction that leaves nothing half-done.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{
    ArticleRow, CreateArticle, MAX_BODY_CHARS, MAX_EXCERPT_CHARS, MAX_TITLE_CHARS, NewArticle, STATUS_DRAFT,
    STATUS_PUBLISHED, SummaryRow, UpdateArticle,
};
use super::policy::ArticleAccess;
use super::render::render;
use super::views::{AdminArticle, AdminArticleSummary, ArticleSummary, PublicArticle};
use crate::authors::store::bylines_for;
use crate::db::{self, DbBackend, DbConnection, write_transaction};
use crate::error::{ApiError, Validator};
use crate::pagination::PageRequest;
use crate::schema::{article_authors, article_tags, articles, authors, tags};
use crate::slugs;
use crate::tags::store as tag_store;

/// The one visibility rule of public content: published, publication time reached, not deleted.
/// A future `published_at` is a scheduled article; it appears on its own, no job needed.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn is_public(now: NaiveDateTime) -> _ {
    let published: &'static str = STATUS_PUBLISHED;
    articles::status.eq(published).and(articles::published_at.le(now)).and(articles::deleted_at.is_null())
}

/// Filters of the public list.
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    /// A tag slug.
    pub tag: Option<String>,
    /// An author slug.
    pub author: Option<String>,
}

fn public_articles(now: NaiveDateTime, filter: &PublicFilter) -> articles::BoxedQuery<'static, DbBackend> {
    let mut query = articles::table.filter(is_public(now)).into_boxed();
    if let Some(tag) = &filter.tag {
        query = query.filter(
            articles::id.eq_any(
                article_tags::table
                    .inner_join(tags::table)
                    .filter(tags::slug.eq(tag.clone()))
                    .select(article_tags::article_id),
            ),
        );
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
    query
}

/// A page of the public list, newest first, with bylines and tags (three queries, whatever the size).
pub fn list_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    filter: &PublicFilter,
    page: PageRequest,
) -> Result<(Vec<ArticleSummary>, i64), ApiError> {
    let total = public_articles(now, filter).count().get_result(conn)?;
    let rows: Vec<SummaryRow> = public_articles(now, filter)
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(SummaryRow::as_select())
        .load(conn)?;
    let items = with_embeds(conn, rows, ArticleSummary::new)?;
    Ok((items, total))
}

/// One public article by slug.
pub fn find_public(conn: &mut DbConnection, now: NaiveDateTime, slug: &str) -> Result<Option<PublicArticle>, ApiError> {
    let row: Option<ArticleRow> = articles::table
        .filter(is_public(now))
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| Ok(with_embeds(conn, vec![row], PublicArticle::new)?.remove(0))).transpose()
}

/// Rows of articles, each turned into a view with its bylines and tags, loaded for all at once.
fn with_embeds<R, V>(
    conn: &mut DbConnection,
    rows: Vec<R>,
    view: impl Fn(R, Vec<crate::authors::model::AuthorSummary>, Vec<crate::tags::model::PublicTag>) -> V,
) -> Result<Vec<V>, ApiError>
where
    R: HasId,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(HasId::id).collect();
    let mut bylines = bylines_for(conn, &ids)?;
    let mut tags = tag_store::tags_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id();
            view(row, bylines.remove(&id).unwrap_or_default(), tags.remove(&id).unwrap_or_default())
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
#[derive(Debug, Clone, Default)]
pub struct AdminFilter {
    pub status: Option<&'static str>,
    /// Only articles with this author on the byline (authors and contributors see only their own).
    pub byline: Option<i64>,
}

fn admin_articles(filter: &AdminFilter) -> articles::BoxedQuery<'static, DbBackend> {
    let mut query = articles::table.filter(articles::deleted_at.is_null()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(articles::status.eq(status));
    }
    if let Some(author_id) = filter.byline {
        query = query.filter(articles::id.eq_any(
            article_authors::table.filter(article_authors::author_id.eq(author_id)).select(article_authors::article_id),
        ));
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
    let items = with_embeds(conn, rows, AdminArticleSummary::new)?;
    Ok((items, total))
}

/// One article as editors see it.
pub fn load_admin(conn: &mut DbConnection, id: i64) -> Result<AdminArticle, ApiError> {
    let row: ArticleRow = articles::table
        .find(id)
        .filter(articles::deleted_at.is_null())
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    Ok(with_embeds(conn, vec![row], AdminArticle::new)?.remove(0))
}

/// What the policy needs to decide about an article; 404 when there is none.
pub fn access(conn: &mut DbConnection, id: i64) -> Result<ArticleAccess, ApiError> {
    let status: String = articles::table
        .find(id)
        .filter(articles::deleted_at.is_null())
        .select(articles::status)
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    let byline_ids = article_authors::table
        .filter(article_authors::article_id.eq(id))
        .order(article_authors::position)
        .select(article_authors::author_id)
        .load(conn)?;
    Ok(ArticleAccess { status, byline_ids })
}

fn not_found() -> ApiError {
    ApiError::NotFound("no article has this id".into())
}

/// Trims and checks the fields an editor sends; collects every problem before answering.
struct CheckedFields {
    title: Option<String>,
    body_markdown: Option<String>,
    excerpt: Option<Option<String>>,
    slug: Option<String>,
    tags: Option<Vec<(String, String)>>,
}

fn check_fields(
    title: Option<&str>,
    body_markdown: Option<String>,
    excerpt: Option<Option<&str>>,
    slug: Option<String>,
    tags: Option<&[String]>,
) -> Result<CheckedFields, ApiError> {
    let mut v = Validator::new();
    let title = title.map(|t| t.trim().to_string());
    if let Some(title) = &title {
        v.chars("title", title, 1, MAX_TITLE_CHARS);
    }
    if let Some(body) = &body_markdown {
        v.chars("body_markdown", body, 0, MAX_BODY_CHARS);
    }
    // An empty excerpt means "derive it", like null.
    let excerpt = excerpt.map(|e| e.map(str::trim).filter(|e| !e.is_empty()).map(str::to_string));
    if let Some(Some(excerpt)) = &excerpt {
        v.chars("excerpt", excerpt, 0, MAX_EXCERPT_CHARS);
    }
    if let Some(slug) = &slug {
        v.check(slugs::is_valid_slug(slug), "slug", slugs::SLUG_RULE);
    }
    let tags = tags.map(|names| tag_store::check_tag_names(names, &mut v));
    v.finish()?;
    Ok(CheckedFields { title, body_markdown, excerpt, slug, tags })
}

fn slug_taken(conn: &mut DbConnection, slug: &str, except_id: Option<i64>) -> Result<bool, ApiError> {
    let query =
        articles::table.filter(articles::slug.eq(slug.to_string())).filter(articles::id.ne(except_id.unwrap_or(-1)));
    Ok(diesel::select(diesel::dsl::exists(query)).get_result(conn)?)
}

fn slug_conflict(slug: &str) -> ApiError {
    ApiError::Conflict(format!("the slug `{slug}` is taken by another article"))
}

/// Creates a draft with `author_id` as its first byline; returns its id.
pub fn create(
    conn: &mut DbConnection,
    author_id: i64,
    may_create_tags: bool,
    input: CreateArticle,
) -> Result<i64, ApiError> {
    let fields = check_fields(
        Some(&input.title),
        Some(input.body_markdown),
        Some(input.excerpt.as_deref()),
        input.slug,
        input.tags.as_deref(),
    )?;
    let title = fields.title.unwrap_or_default();
    let body = fields.body_markdown.unwrap_or_default();
    let rendered = render(&body);
    write_transaction(conn, |conn| {
        let slug = match fields.slug {
            Some(slug) if slug_taken(conn, &slug, None)? => return Err(slug_conflict(&slug)),
            Some(slug) => slug,
            None => slugs::unique_slug(&slugs::slugify(&title, "article"), |s| slug_taken(conn, s, None))?,
        };
        let now = db::now();
        let id: i64 = diesel::insert_into(articles::table)
            .values(&NewArticle {
                slug: &slug,
                title: &title,
                excerpt: fields.excerpt.flatten().as_deref(),
                derived_excerpt: &rendered.derived_excerpt,
                body_markdown: &body,
                body_html: &rendered.html,
                body_text: &rendered.text,
                status: STATUS_DRAFT,
                word_count: rendered.word_count,
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .returning(articles::id)
            .get_result(conn)?;
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(id),
                article_authors::author_id.eq(author_id),
                article_authors::position.eq(0),
            ))
            .execute(conn)?;
        if let Some(tags) = &fields.tags {
            let tag_ids = tag_store::resolve(conn, tags, may_create_tags)?;
            tag_store::set_for_article(conn, id, &tag_ids)?;
        }
        Ok(id)
    })
}

/// Applies an editor's changes after `guard` (the caller's permission check) accepts the article
/// as it is now, in the same transaction.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    may_create_tags: bool,
    input: UpdateArticle,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let fields = check_fields(
        input.title.as_deref(),
        input.body_markdown,
        input.excerpt.as_ref().map(|e| e.as_deref()),
        input.slug,
        input.tags.as_deref(),
    )?;
    let rendered = fields.body_markdown.as_deref().map(render);
    write_transaction(conn, |conn| {
        guard(&access(conn, id)?)?;
        if let Some(slug) = &fields.slug
            && slug_taken(conn, slug, Some(id))?
        {
            return Err(slug_conflict(slug));
        }
        let changes = ArticleChanges {
            title: fields.title.as_deref(),
            slug: fields.slug.as_deref(),
            excerpt: fields.excerpt.as_ref().map(|e| e.as_deref()),
            body_markdown: fields.body_markdown.as_deref(),
            body_html: rendered.as_ref().map(|r| r.html.as_str()),
            body_text: rendered.as_ref().map(|r| r.text.as_str()),
            derived_excerpt: rendered.as_ref().map(|r| r.derived_excerpt.as_str()),
            word_count: rendered.as_ref().map(|r| r.word_count),
            updated_at: db::now(),
        };
        diesel::update(articles::table.find(id))
            .set((changes, articles::version.eq(articles::version + 1)))
            .execute(conn)?;
        if let Some(tags) = &fields.tags {
            let tag_ids = tag_store::resolve(conn, tags, may_create_tags)?;
            tag_store::set_for_article(conn, id, &tag_ids)?;
        }
        Ok(())
    })
}

#[derive(AsChangeset)]
#[diesel(table_name = articles)]
struct ArticleChanges<'a> {
    title: Option<&'a str>,
    slug: Option<&'a str>,
    excerpt: Option<Option<&'a str>>,
    body_markdown: Option<&'a str>,
    body_html: Option<&'a str>,
    body_text: Option<&'a str>,
    derived_excerpt: Option<&'a str>,
    word_count: Option<i32>,
    updated_at: NaiveDateTime,
}

/// Publishes (now, or keeps the first publication time when republishing) or unpublishes.
pub fn set_published(
    conn: &mut DbConnection,
    id: i64,
    publish: bool,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        guard(&access(conn, id)?)?;
        let now = db::now();
        let status = if publish { STATUS_PUBLISHED } else { STATUS_DRAFT };
        let published_at: Option<NaiveDateTime> =
            articles::table.find(id).select(articles::published_at).first(conn)?;
        diesel::update(articles::table.find(id))
            .set((
                articles::status.eq(status),
                articles::published_at.eq(if publish { published_at.or(Some(now)) } else { published_at }),
                articles::updated_at.eq(now),
                articles::version.eq(articles::version + 1),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes an article with its bylines, tags and comments.
pub fn delete(
    conn: &mut DbConnection,
    id: i64,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        guard(&access(conn, id)?)?;
        diesel::delete(articles::table.find(id)).execute(conn)?;
        Ok(())
    })
}
