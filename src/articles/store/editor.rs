//! Editor reads: the editors' list, one article as editors see it, and the facts the policy and
//! preconditions decide on.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::joins::{with_author, with_embeds, with_tag};
use crate::articles::model::{ArticleRow, SummaryRow};
use crate::articles::policy::ArticleAccess;
use crate::articles::views::{AdminArticle, AdminArticleSummary, ArticleState, PublicArticle};
use crate::db::visibility::{STATUS_DRAFT, is_public, is_scheduled};
use crate::db::{self, DbBackend, DbConnection, lower};
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::schema::{article_authors, articles};

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
/// The article as editors see it and, when it is public, as the public sees it: one read for
/// both, for a write's answer and its webhook event.
pub fn load_admin_and_public(
    conn: &mut DbConnection,
    id: i64,
) -> Result<(AdminArticle, Option<PublicArticle>), ApiError> {
    let row: ArticleRow =
        articles::table.find(id).select(ArticleRow::as_select()).first(conn).optional()?.ok_or_else(not_found)?;
    let now = db::now();
    let public = ArticleState::of(&row.status, row.published_at, row.deleted_at, now) == ArticleState::Published;
    Ok(with_embeds(conn, vec![row], |row, embeds| {
        let public = public.then(|| PublicArticle::new(row.clone(), embeds.clone()));
        (AdminArticle::new(row, embeds, now), public)
    })?
    .remove(0))
}

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

pub(super) fn in_trash() -> ApiError {
    ApiError::Conflict("the article is in the trash; restore it first".into())
}
