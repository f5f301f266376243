//! Article routes: the public reading surface and the editors' writing surface. Each handler
//! starts by saying who may call it; the SQL lives in `store`, the rules in `policy`.
//!
//! Editor responses carry `ETag: "v<version>"`; every write honours `If-Match` (412 when stale),
//! so two editors saving from the same version cannot silently overwrite each other.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, LINK};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::listing::{ArticleListMeta, ArticleListQuery, ListRequest, Window, link_header};

use super::model::{CreateArticle, PublishRequest, UpdateArticle};
use super::policy::{Action, ArticleAccess, authorize, check_byline};
use super::revisions;
use super::store::{self, AdminFilter, Publication, Writer};
use super::views::{
    AdminArticle, AdminArticleSummary, ArticleState, ArticleSummary, PublicArticle, Revision, RevisionSummary,
};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{IfMatchHeader, JsonBody, OptionalJsonBody, Precondition, QueryParams, version_etag};
use crate::http::openapi::{
    BadRequest, PayloadTooLarge, PreconditionFailed, Unauthorized, UnsupportedMediaType, ValidationFailed,
};
use crate::http::responses::{PageQuery, private_json, public_json, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// Published articles, newest first by default. Filters combine (AND); pages by number (with
/// totals) or by cursor (keyset: as fast at any depth). Every page with more after it carries
/// `meta.next_cursor`; the `Link` header has `next`, `prev`, `first` and `last` where known.
#[utoipa::path(
    tag = "Content",
    operation_id = "listArticles",
    params(
        ArticleListQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response: 304 when it still matches"),
    ),
    responses(
        (status = 200, description = "A page of published articles", body = ArticleList,
            headers(
                ("ETag" = String, description = "Strong validator of this response"),
                ("Cache-Control" = String, description = "public, max-age=…, stale-while-revalidate=…"),
                ("Link" = String, description = "RFC 8288 links: next, prev, first, last where known"),
            )),
        (status = 304, description = "Not modified: the cached copy is current (no body)"),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<ArticleListQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = ListRequest::from_query(query)?;
    let now = crate::db::now();
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
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response: 304 when it still matches"),
        ("If-Modified-Since" = Option<String>, Header, description = "A Last-Modified from an earlier response: 304 when nothing changed since"),
    ),
    responses(
        (status = 304, description = "Not modified: the cached copy is current (no body)"),
        (status = 200, description = "The article", body = Item<PublicArticle>, headers(("ETag" = String, description = "Strong validator of this response"), ("Cache-Control" = String, description = "public, max-age=…, stale-while-revalidate=…"), ("Last-Modified" = String, description = "When the resource last changed"))),
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
    let now = crate::db::now();
    let (article, last_modified) = state
        .db
        .run(move |conn| store::find_public(conn, now, &slug))
        .await?
        .ok_or_else(|| ApiError::NotFound("no article has this slug".into()))?;
    let article = article.with_comment_closing(state.config.comments.close_after_days);
    public_json(&req, &state, &Item { data: article }, Some(last_modified.and_utc()))
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
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response: 304 when it still matches"),
    ),
    responses(
        (status = 200, description = "Related articles, without bodies", body = RelatedArticles,
            headers(
                ("ETag" = String, description = "Strong validator of this response"),
                ("Cache-Control" = String, description = "public, max-age=…, stale-while-revalidate=…"),
            )),
        (status = 304, description = "Not modified: the cached copy is current (no body)"),
        (status = 400, response = BadRequest),
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
    let now = crate::db::now();
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

/// `GET /api/v1/admin/articles` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminArticleListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Articles per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// Only articles in this state; without it, everything but the trash.
    #[param(inline)]
    pub status: Option<ArticleState>,
    /// Only articles with this author (an id) on the byline.
    pub author: Option<i64>,
    /// Only articles with this tag (a slug).
    pub tag: Option<String>,
    /// Words in the title or the body (case-insensitive).
    #[param(max_length = 200)]
    pub q: Option<String>,
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
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 422, response = ValidationFailed),
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
    let text = query.q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    crate::error::Validator::new().chars("q", text.as_deref().unwrap_or_default(), 0, 200).finish()?;
    let filter = AdminFilter {
        now: crate::db::now(),
        state: query.status,
        byline: (!user.role.edits_all_articles()).then_some(user.id),
        author: query.author,
        tag: query.tag,
        text,
    };
    let (data, total) = state.db.run(move |conn| store::list_admin(conn, &filter, page)).await?;
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// An editor's article response, with its `ETag`.
fn article_response(status: StatusCode, article: &AdminArticle) -> HttpResponse {
    let mut response = private_json(status, &Item { data: article });
    if let Ok(etag) = version_etag(article.version).to_string().parse() {
        response.headers_mut().insert(ETAG, etag);
    }
    response
}

fn writer(user: &AuthUser) -> Writer {
    Writer { author_id: user.id, may_create_tags: user.role >= Role::Author }
}

/// The guard of a write: the caller's rights, then the client's `If-Match`.
fn guard(
    user: AuthUser,
    action: Action,
    precondition: Precondition,
) -> impl FnOnce(&ArticleAccess) -> Result<(), ApiError> {
    move |article| {
        authorize(&user, article, action)?;
        precondition.check(article.version)
    }
}

/// Creates a draft, by default with the caller as its byline, and records revision 1. Any
/// signed-in role; contributors only with existing tags.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminCreateArticle",
    request_body = CreateArticle,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The draft was created", body = Item<AdminArticle>,
            headers(("Location" = String, description = "The new article's editor URL"), ("ETag" = String, description = "Its version, for If-Match"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, description = "An id in `authors` is not an author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken, or two tag names would share a slug", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/articles")]
pub async fn admin_create_article(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateArticle>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    check_byline(&user, input.authors.as_deref())?;
    let writer = writer(&user);
    let prepared = crate::http::state::cpu_bound(move || store::prepare_new(input)).await?;
    let article = state
        .db
        .run(move |conn| {
            let id = store::create(conn, writer, prepared)?;
            store::load_admin(conn, id)
        })
        .await?;
    let response = article_response(StatusCode::CREATED, &article);
    Ok(with_location(response, &format!("/api/v1/admin/articles/{}", article.id)))
}

/// One article, drafts and trash included.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminGetArticle",
    params(("id" = i64, Path, description = "The article's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its version, for If-Match"))),
        (status = 401, response = Unauthorized),
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
    Ok(article_response(StatusCode::OK, &article))
}

/// Changes an article; only the fields sent change. A change of title, excerpt, body, tags or
/// authors records a revision. Contributors change only their drafts.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminUpdateArticle",
    params(
        ("id" = i64, Path, description = "The article's id"),
        IfMatchHeader,
    ),
    request_body = UpdateArticle,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated article", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role may not change this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id, or an id in `authors` is not an author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken, two tag names would share a slug, or the article is in the trash", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
    )
)]
#[patch("/articles/{id}")]
pub async fn admin_update_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    precondition: Precondition,
    JsonBody(input): JsonBody<UpdateArticle>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    check_byline(&user, input.authors.as_deref())?;
    let id = id.into_inner();
    let writer = writer(&user);
    let prepared = crate::http::state::cpu_bound(move || store::prepare_update(input)).await?;
    let article = state
        .db
        .run(move |conn| {
            store::update(conn, id, writer, prepared, guard(user, Action::Edit, precondition))?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(article_response(StatusCode::OK, &article))
}

/// `DELETE /api/v1/admin/articles/{id}` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Remove for good instead of moving to the trash (editors and admins).
    #[param(default = false)]
    pub permanent: Option<bool>,
}

/// Moves an article to the trash (gone from public routes; `POST …/restore` brings it back), or
/// with `?permanent=true` removes it for good with its history and comments (editors and admins).
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminDeleteArticle",
    params(
        ("id" = i64, Path, description = "The article's id"),
        DeleteQuery,
        IfMatchHeader,
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Moved to the trash, or deleted for good"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role may not delete this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/articles/{id}")]
pub async fn admin_delete_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    precondition: Precondition,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    state
        .db
        .run(move |conn| {
            if query.permanent.unwrap_or(false) {
                store::delete_permanently(conn, id, guard(user, Action::DeletePermanently, precondition))
            } else {
                store::set_trashed(conn, id, true, guard(user, Action::Trash, precondition))
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().insert_header(("Cache-Control", "private, no-store")).finish())
}

/// Brings an article back from the trash, in the state it had.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminRestoreArticle",
    params(
        ("id" = i64, Path, description = "The article's id"),
        IfMatchHeader,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The restored article", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role may not restore this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
    )
)]
#[post("/articles/{id}/restore")]
pub async fn admin_restore_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    precondition: Precondition,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    let article = state
        .db
        .run(move |conn| {
            store::set_trashed(conn, id, false, guard(user, Action::Trash, precondition))?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(article_response(StatusCode::OK, &article))
}

/// Publishes an article now, or schedules it with a future `published_at` (it then appears on
/// public routes at that time by itself). Republishing keeps the first publication time. Authors
/// (their own) and above.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminPublishArticle",
    params(
        ("id" = i64, Path, description = "The article's id"),
        IfMatchHeader,
    ),
    request_body(content = Option<PublishRequest>, description = "Optional: when to publish", example = json!({"published_at": "2030-01-01T08:00:00Z"})),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The published (or scheduled) article", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Contributors cannot publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is in the trash", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/articles/{id}/publish")]
pub async fn admin_publish_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    precondition: Precondition,
    OptionalJsonBody(input): OptionalJsonBody<PublishRequest>,
) -> Result<HttpResponse, ApiError> {
    let at = input.publication_time()?;
    set_publication(user, state, id.into_inner(), Publication::Publish(at), precondition).await
}

/// Takes an article off the public routes; it becomes a draft again. Authors (their own) and above.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminUnpublishArticle",
    params(
        ("id" = i64, Path, description = "The article's id"),
        IfMatchHeader,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article, now a draft", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Contributors cannot unpublish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is in the trash", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
    )
)]
#[post("/articles/{id}/unpublish")]
pub async fn admin_unpublish_article(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    precondition: Precondition,
) -> Result<HttpResponse, ApiError> {
    set_publication(user, state, id.into_inner(), Publication::Unpublish, precondition).await
}

async fn set_publication(
    user: AuthUser,
    state: web::Data<AppState>,
    id: i64,
    publication: Publication,
    precondition: Precondition,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let article = state
        .db
        .run(move |conn| {
            store::set_publication(conn, id, publication, guard(user, Action::Publish, precondition))?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(article_response(StatusCode::OK, &article))
}

/// The article's history, newest first: who changed what, when.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminListRevisions",
    params(("id" = i64, Path, description = "The article's id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of revisions", body = Paginated<RevisionSummary>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/articles/{id}/revisions")]
pub async fn admin_list_revisions(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let id = id.into_inner();
    let (data, total) = state
        .db
        .run(move |conn| {
            authorize(&user, &store::access(conn, id)?, Action::View)?;
            revisions::list(conn, id, page)
        })
        .await?;
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// One revision, with the content it recorded.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminGetRevision",
    params(("id" = i64, Path, description = "The article's id"), ("number" = i32, Path, description = "The revision number, from 1")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revision", body = Item<Revision>),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No such article or revision", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}/revisions/{number}")]
pub async fn admin_get_revision(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i32)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let (id, number) = path.into_inner();
    let revision = state
        .db
        .run(move |conn| {
            authorize(&user, &store::access(conn, id)?, Action::View)?;
            revisions::get(conn, id, number)
        })
        .await?;
    Ok(private_json(StatusCode::OK, &Item { data: revision }))
}

/// Brings back the title, excerpt, body, tags and authors of a revision. This records a new
/// revision: nothing in the history is overwritten.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminRestoreRevision",
    params(
        ("id" = i64, Path, description = "The article's id"),
        ("number" = i32, Path, description = "The revision to bring back"),
        IfMatchHeader,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article with the revision's content", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role may not change this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or revision", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is in the trash", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
    )
)]
#[post("/articles/{id}/revisions/{number}/restore")]
pub async fn admin_restore_revision(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i32)>,
    precondition: Precondition,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let (id, number) = path.into_inner();
    let writer = writer(&user);
    let article = state
        .db
        .run(move |conn| {
            store::restore_revision(conn, id, number, writer, guard(user, Action::Edit, precondition))?;
            store::load_admin(conn, id)
        })
        .await?;
    Ok(article_response(StatusCode::OK, &article))
}
