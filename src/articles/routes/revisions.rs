//! An article's history for editors: the revisions, one revision, and bringing one back.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};

use super::editor::{article_response, guard, writer};

use crate::articles::policy::{Action, authorize};
use crate::articles::revisions;
use crate::articles::store;
use crate::articles::views::{AdminArticle, Revision, RevisionSummary};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{IfMatchHeader, Precondition, QueryParams};
use crate::http::responses::{PageQuery, private_json};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// The article's history, newest first: who changed what, when.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminListRevisions",
    params(("id" = i64, Path, description = "The article's id"), PageQuery),
    responses(
        (status = 200, description = "A page of revisions", body = Paginated<RevisionSummary>),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
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
    responses(
        (status = 200, description = "The revision", body = Item<Revision>),
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
    responses(
        (status = 200, description = "The article with the revision's content", body = Item<AdminArticle>),
        (status = 403, description = "The caller's role may not change this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or revision", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is in the trash", body = Problem, content_type = "application/problem+json"),
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
