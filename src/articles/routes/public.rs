//! The public reading surface: the list, one article by slug, and related articles.

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::articles::listing::{ArticleListMeta, ArticleListQuery, ListRequest, Window, link_header};

use crate::articles::store;
use crate::articles::views::{ArticleSummary, PublicArticle};
use crate::error::{ApiError, Problem};
use crate::http::cache::shows_only_article;
use crate::http::extract::QueryParams;
use crate::http::openapi::ValidationFailed;
use crate::http::responses::{moved_permanently, public_json};
use crate::http::state::AppState;
use crate::pagination::Item;
use crate::redirects::store as redirect_store;

/// Published articles, newest first by default. Filters combine (AND); pages by number (with
/// totals) or by cursor (keyset: as fast at any depth). Every page with more after it carries
/// `meta.next_cursor`; the `Link` header has `next`, `prev`, `first` and `last` where known.
#[utoipa::path(
    tag = "Content",
    operation_id = "listArticles",
    params(
        ArticleListQuery,
    ),
    responses(
        (status = 200, description = "A page of published articles", body = ArticleList,
            headers(
                ("Link" = String, description = "RFC 8288 links: next, prev, first, last where known"),
            )),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<ArticleListQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = ListRequest::from_query(query)?;
    let now = state.db.now();
    let listed = {
        let searching = request.search.is_some();
        let request = request.clone();
        let work = move |conn: &mut crate::db::DbConnection| store::list_public(conn, now, &request);
        // Anyone may ask for a search; it gets a quarter of the pool, so reads always find a connection.
        if searching { state.db.run_expensive(work).await? } else { state.db.run(work).await? }
    };
    let next_cursor = listed.next.as_ref().map(|cursor| cursor.encode());
    let (page, total_pages) = match &request.window {
        Window::Page(page) => (Some(page.page), listed.total.map(|total| page.meta(total).total_pages)),
        Window::After { .. } => (None, None),
    };
    // The path as routed (`/api/v1/%61rticles` is `/api/v1/articles`): this answer is cached and
    // served to every spelling of its key.
    let path = req.match_info().as_str();
    let link = link_header(path, req.query_string(), &request.window, next_cursor.as_deref(), total_pages);
    let list = ArticleList {
        data: listed.items,
        meta: ArticleListMeta {
            page,
            per_page: request.window.per_page(),
            total: listed.total,
            total_pages,
            next_cursor,
        },
    };
    let mut response = match &request.fields {
        None => public_json(&req, &state, &list, None)?,
        Some(fields) => public_json(&req, &state, &only_fields(&list, fields)?, None)?,
    };
    if let Ok(value) = link.parse() {
        response.headers_mut().insert(LINK, value);
    }
    Ok(response)
}

/// A page of the public article list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub data: Vec<ArticleSummary>,
    pub meta: ArticleListMeta,
}

/// The list with only the asked-for fields in each item.
fn only_fields(list: &ArticleList, fields: &[String]) -> Result<serde_json::Value, ApiError> {
    let mut value = serde_json::to_value(list).map_err(|e| ApiError::Internal(format!("cannot serialise: {e}")))?;
    if let Some(items) = value.get_mut("data").and_then(|d| d.as_array_mut()) {
        for item in items {
            if let Some(object) = item.as_object_mut() {
                object.retain(|key, _| fields.iter().any(|f| f == key));
            }
        }
    }
    Ok(value)
}

/// One published article by slug, with its body as sanitized HTML.
#[utoipa::path(
    tag = "Content",
    operation_id = "getArticle",
    params(
        ("slug" = String, Path, description = "The article's slug", example = "hello-world-again"),
        ("If-Modified-Since" = Option<String>, Header, description = "A Last-Modified from an earlier response: 304 when nothing changed since"),
    ),
    responses(
        (status = 200, description = "The article", body = Item<PublicArticle>, headers(("Last-Modified" = String, description = "When the resource last changed"))),
        (status = 301, description = "A former slug of a published article: `Location` is the article at its slug now",
            headers(("Location" = String, description = "The article's URL"))),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{slug}")]
pub async fn get_article(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let now = state.db.now();
    let found = state
        .db
        .run(move |conn| match store::find_public(conn, now, &slug)? {
            Some(found) => Ok(Ok(found)),
            None => Ok(Err(redirect_store::current_slug(conn, now, &slug)?)),
        })
        .await?;
    let (article, last_modified) = match found {
        Ok(found) => found,
        Err(Some(moved_to)) => return Ok(moved_permanently(&state, &format!("/api/v1/articles/{moved_to}"))),
        Err(None) => return Err(ApiError::NotFound("no article has this slug".into())),
    };
    let article = article.with_comment_closing(state.config.comments.close_after_days);
    let id = article.summary.id;
    Ok(shows_only_article(public_json(&req, &state, &Item { data: article }, Some(last_modified.and_utc()))?, id))
}

/// `GET /api/v1/articles/{slug}/related` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelatedQuery {
    /// How many articles.
    #[param(minimum = 1, maximum = 20, default = 5)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub limit: Option<i64>,
}

/// Published articles that share the most tags with this one, most shared first, then newest.
#[utoipa::path(
    tag = "Content",
    operation_id = "listRelatedArticles",
    params(
        ("slug" = String, Path, description = "The article's slug", example = "hello-world-again"),
        RelatedQuery,
    ),
    responses(
        (status = 200, description = "Related articles, without bodies", body = RelatedArticles),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/articles/{slug}/related")]
pub async fn related_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    QueryParams(query): QueryParams<RelatedQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(5);
    crate::error::Validator::new().check((1..=20).contains(&limit), "limit", "must be from 1 to 20").finish()?;
    let slug = slug.into_inner();
    let now = state.db.now();
    let data = state
        .db
        .run(move |conn| store::related(conn, now, &slug, limit))
        .await?
        .ok_or_else(|| ApiError::NotFound("no article has this slug".into()))?;
    public_json(&req, &state, &RelatedArticles { data }, None)
}

/// Articles related to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedArticles {
    pub data: Vec<ArticleSummary>,
}
