//! Article routes: the public reading surface and the editors' writing surface. Each handler
//! starts by saying who may call it; the SQL lives in `store`, the rules in `policy`.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{CreateArticle, STATUS_DRAFT, STATUS_PUBLISHED, UpdateArticle};
use super::policy::{Action, authorize};
use super::store::{self, AdminFilter, PublicFilter};
use super::views::{AdminArticle, AdminArticleSummary, ArticleStatus, ArticleSummary, PublicArticle};
use crate::AppState;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::pagination::{Item, PageRequest, Paginated};
use crate::responses::{private_json, public_json};

/// `GET /api/v1/articles` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Articles per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
    /// Only articles with this tag (a tag slug).
    #[param(example = "open-source")]
    pub tag: Option<String>,
    /// Only articles with this author on the byline (an author slug).
    #[param(example = "ada-lovelace")]
    pub author: Option<String>,
}

/// Published articles, newest first.
#[utoipa::path(
    tag = "Content",
    operation_id = "listArticles",
    params(ArticleListQuery),
    responses(
        (status = 200, description = "A page of published articles, without bodies", body = Paginated<ArticleSummary>),
        (status = 400, description = "Unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<ArticleListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = PublicFilter { tag: query.tag, author: query.author };
    let now = crate::db::now();
    let (data, total) = state.db.run(move |conn| store::list_public(conn, now, &filter, page)).await?;
    Ok(public_json(&Paginated { data, meta: page.meta(total) }))
}

/// One published article by slug, with its body as sanitized HTML.
#[utoipa::path(
    tag = "Content",
    operation_id = "getArticle",
    params(("slug" = String, Path, description = "The article's slug", example = "hello-world-again")),
    responses(
        (status = 200, description = "The article", body = Item<PublicArticle>),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{slug}")]
pub async fn get_article(state: web::Data<AppState>, slug: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let now = crate::db::now();
    let article = state
        .db
        .run(move |conn| store::find_public(conn, now, &slug))
        .await?
        .ok_or_else(|| ApiError::NotFound("no article has this slug".into()))?;
    Ok(public_json(&Item { data: article }))
}

/// `GET /api/v1/admin/articles` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminArticleListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Articles per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
    /// Only drafts, or only published articles.
    #[param(inline)]
    pub status: Option<ArticleStatus>,
}

/// Articles being worked on, most recently changed first. Editors and admins see every article,
/// authors and contributors their own.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminListArticles",
    params(AdminArticleListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of articles, drafts included, without bodies", body = Paginated<AdminArticleSummary>),
        (status = 400, description = "Unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
pub async fn admin_list_articles(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<AdminArticleListQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = AdminFilter {
        status: query.status.map(|s| match s {
            ArticleStatus::Draft => STATUS_DRAFT,
            ArticleStatus::Published => STATUS_PUBLISHED,
        }),
        byline: (!user.role.edits_all_articles()).then_some(user.id),
    };
    let (data, total) = state.db.run(move |conn| store::list_admin(conn, &filter, page)).await?;
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// Creates a draft with the caller as its first byline. Any signed-in role.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminCreateArticle",
    request_body = CreateArticle,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The draft was created", body = Item<AdminArticle>,
            headers(("Location" = String, description = "The new article's editor URL"))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles")]
pub async fn admin_create_article(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateArticle>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let may_create_tags = user.role >= Role::Author;
    let article = state
        .db
        .run(move |conn| {
            let id = store::create(conn, user.id, may_create_tags, input)?;
            store::load_admin(conn, id)
        })
        .await?;
    let mut response = private_json(StatusCode::CREATED, &Item { data: &article });
    if let Ok(location) = format!("/api/v1/admin/articles/{}", article.id).parse() {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// One article, drafts included.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminGetArticle",
    params(("id" = i64, Path, description = "The article's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = Item<AdminArticle>),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id (or it is someone else's and the caller is not an editor)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}")]
pub async fn admin_get_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    let article = state
        .db
        .run(move |conn| {
            authorize(&user, &store::access(conn, id)?, Action::View)?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(private_json(StatusCode::OK, &Item { data: article }))
}

/// Changes an article; only the fields sent change. Contributors may change only their drafts.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminUpdateArticle",
    params(("id" = i64, Path, description = "The article's id")),
    request_body = UpdateArticle,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated article", body = Item<AdminArticle>),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role may not change this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/articles/{id}")]
pub async fn admin_update_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<UpdateArticle>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    let may_create_tags = user.role >= Role::Author;
    let article = state
        .db
        .run(move |conn| {
            store::update(conn, id, may_create_tags, input, |a| authorize(&user, a, Action::Edit))?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(private_json(StatusCode::OK, &Item { data: article }))
}

/// Deletes an article for good, with its bylines, tags and comments.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminDeleteArticle",
    params(("id" = i64, Path, description = "The article's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The article was deleted"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role may not delete this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{id}")]
pub async fn admin_delete_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    state.db.run(move |conn| store::delete(conn, id, |a| authorize(&user, a, Action::Delete))).await?;
    Ok(HttpResponse::NoContent().insert_header(("Cache-Control", "private, no-store")).finish())
}

/// Publishes an article now (republishing keeps its first publication time). Authors and above.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminPublishArticle",
    params(("id" = i64, Path, description = "The article's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The published article", body = Item<AdminArticle>),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors cannot publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{id}/publish")]
pub async fn admin_publish_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    set_published(user, state, id.into_inner(), true).await
}

/// Takes an article off the public routes; it becomes a draft again. Authors and above.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminUnpublishArticle",
    params(("id" = i64, Path, description = "The article's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article, now a draft", body = Item<AdminArticle>),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors cannot unpublish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{id}/unpublish")]
pub async fn admin_unpublish_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    set_published(user, state, id.into_inner(), false).await
}

async fn set_published(
    user: AuthUser,
    state: web::Data<AppState>,
    id: i64,
    publish: bool,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let article = state
        .db
        .run(move |conn| {
            store::set_published(conn, id, publish, |a| authorize(&user, a, Action::Publish))?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(private_json(StatusCode::OK, &Item { data: article }))
}
