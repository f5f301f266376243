//! The editors' writing surface: drafts, edits, publication, the trash. Each handler starts by
//! saying who may call it; the SQL lives in `store`, the rules in `policy`.
//!
//! Responses carry `ETag: "v<version>"`; every write honours `If-Match` (412 when stale), so two
//! editors saving from the same version cannot silently overwrite each other.

use actix_web::http::StatusCode;
use actix_web::http::header::ETAG;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::articles::model::{CreateArticle, PublishRequest, UpdateArticle};
use crate::articles::policy::{Action, ArticleAccess, authorize, check_byline};
use crate::articles::store::{self, AdminFilter, Publication, Writer};
use crate::articles::views::{AdminArticle, AdminArticleSummary, ArticleState};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{IfMatchHeader, JsonBody, OptionalJsonBody, Precondition, QueryParams, version_etag};
use crate::http::responses::{private_json, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

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
    responses(
        (status = 200, description = "A page of articles, drafts included, without bodies", body = Paginated<AdminArticleSummary>),
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
        now: state.db.now(),
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
pub(super) fn article_response(status: StatusCode, article: &AdminArticle) -> HttpResponse {
    let mut response = private_json(status, &Item { data: article });
    if let Ok(etag) = version_etag(article.version).to_string().parse() {
        response.headers_mut().insert(ETAG, etag);
    }
    response
}

pub(super) fn writer(user: &AuthUser) -> Writer {
    Writer { author_id: user.id, may_create_tags: user.role >= Role::Author }
}

/// The guard of a write: the caller's rights, then the client's `If-Match`.
pub(super) fn guard(
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
    responses(
        (status = 201, description = "The draft was created", body = Item<AdminArticle>,
            headers(("Location" = String, description = "The new article's editor URL"), ("ETag" = String, description = "Its version, for If-Match"))),
        (status = 404, description = "An id in `authors` is not an author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken, or two tag names would share a slug", body = Problem, content_type = "application/problem+json"),
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
    responses(
        (status = 200, description = "The article", body = Item<AdminArticle>,
            headers(("ETag" = String, description = "Its version, for If-Match"))),
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
    responses(
        (status = 200, description = "The updated article", body = Item<AdminArticle>),
        (status = 403, description = "The caller's role may not change this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id, or an id in `authors` is not an author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken, two tag names would share a slug, or the article is in the trash", body = Problem, content_type = "application/problem+json"),
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
        .run(move |conn| store::update(conn, id, writer, prepared, guard(user, Action::Edit, precondition)))
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
    responses(
        (status = 204, description = "Moved to the trash, or deleted for good"),
        (status = 403, description = "The caller's role may not delete this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
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
    Ok(crate::http::responses::private_no_content())
}

/// Brings an article back from the trash, in the state it had.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminRestoreArticle",
    params(
        ("id" = i64, Path, description = "The article's id"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The restored article", body = Item<AdminArticle>),
        (status = 403, description = "The caller's role may not restore this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
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
    responses(
        (status = 200, description = "The published (or scheduled) article", body = Item<AdminArticle>),
        (status = 403, description = "Contributors cannot publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is in the trash", body = Problem, content_type = "application/problem+json"),
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
    responses(
        (status = 200, description = "The article, now a draft", body = Item<AdminArticle>),
        (status = 403, description = "Contributors cannot unpublish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is in the trash", body = Problem, content_type = "application/problem+json"),
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
