//! Redirect routes: the public table front ends build their redirects from, and the editors'
//! management of path redirects under `/api/v1/admin/redirects` (editors and admins).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{
    AdminRedirect, AdminRedirectQuery, CreateRedirect, PublicRedirect, RedirectTableQuery, UpdateRedirect,
};
use super::store::{self, RedirectChanges};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::openapi::ValidationFailed;
use crate::http::responses::{private_json, private_no_content, public_json, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// Every redirect a front end should answer, in its own paths (`MASTHEAD_ARTICLE_PATH`):
/// articles' former slugs and path redirects, oldest first, chains followed to their end. Only
/// redirects to public articles show.
#[utoipa::path(
    tag = "Content",
    operation_id = "listRedirects",
    params(RedirectTableQuery),
    responses(
        (status = 200, description = "A page of the redirect table", body = Paginated<PublicRedirect>),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/redirects")]
pub async fn list_redirects(
    req: HttpRequest,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<RedirectTableQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::sized(query.page, query.per_page, 100, 1000)?;
    let now = state.db.now();
    let article_path = state.config.site.article_path.clone();
    let (data, total) = state.db.run(move |conn| store::public_table(conn, now, &article_path, page)).await?;
    public_json(&req, &state, &Paginated { data, meta: page.meta(total) }, None)
}

/// Every redirect, oldest first: articles' former slugs (`kind=slug`) and path redirects.
#[utoipa::path(
    tag = "Redirects",
    operation_id = "adminListRedirects",
    params(AdminRedirectQuery),
    responses(
        (status = 200, description = "A page of redirects", body = Paginated<AdminRedirect>),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/redirects")]
pub async fn admin_list_redirects(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<AdminRedirectQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let (rows, total) = state.db.run(move |conn| store::list_admin(conn, &query, page)).await?;
    let data = rows.into_iter().map(AdminRedirect::from).collect();
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// Redirects a path of the front end (`/2016/01/hello-world/`) to an article, at whatever its
/// slug is, or to another path or URL. A path already redirected leads on: chains are followed
/// when read, and loops are refused.
#[utoipa::path(
    tag = "Redirects",
    operation_id = "adminCreateRedirect",
    request_body = CreateRedirect,
    responses(
        (status = 201, description = "The redirect was made", body = Item<AdminRedirect>,
            headers(("Location" = String, description = "The redirect's editor URL"))),
        (status = 404, description = "No article has the `to.article_id`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`from` is redirected already, or the redirect would lead back to it (a loop)", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/redirects")]
pub async fn admin_create_redirect(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateRedirect>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let redirect = store::check(&input.from, input.to.into(), input.status)?;
    let (now, article_path) = (state.db.now(), state.config.site.article_path.clone());
    let row = state.db.run(move |conn| store::create(conn, redirect, &article_path, now)).await?;
    let location = format!("/api/v1/admin/redirects/{}", row.id);
    Ok(with_location(private_json(StatusCode::CREATED, &Item { data: AdminRedirect::from(row) }), &location))
}

/// One redirect.
#[utoipa::path(
    tag = "Redirects",
    operation_id = "adminGetRedirect",
    params(("id" = i64, Path, description = "The redirect's id")),
    responses(
        (status = 200, description = "The redirect", body = Item<AdminRedirect>),
        (status = 404, description = "No redirect has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/redirects/{id}")]
pub async fn admin_get_redirect(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| store::find(conn, id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: AdminRedirect::from(row) }))
}

/// Changes a path redirect. An article's former slug follows its article and cannot be changed;
/// delete it to free the slug.
#[utoipa::path(
    tag = "Redirects",
    operation_id = "adminUpdateRedirect",
    params(("id" = i64, Path, description = "The redirect's id")),
    request_body = UpdateRedirect,
    responses(
        (status = 200, description = "The redirect as changed", body = Item<AdminRedirect>),
        (status = 404, description = "No redirect has this id, or no article has the `to.article_id`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A former slug, a `from` redirected already, or a loop", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = ValidationFailed),
    )
)]
#[patch("/redirects/{id}")]
pub async fn admin_update_redirect(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<UpdateRedirect>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let changes = RedirectChanges { from: input.from, target: input.to.map(Into::into), status: input.status };
    let (id, now, article_path) = (id.into_inner(), state.db.now(), state.config.site.article_path.clone());
    let row = state.db.run(move |conn| store::update(conn, id, changes, &article_path, now)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: AdminRedirect::from(row) }))
}

/// Deletes a redirect. Deleting an article's former slug frees the slug for other articles, and
/// its old links stop working.
#[utoipa::path(
    tag = "Redirects",
    operation_id = "adminDeleteRedirect",
    params(("id" = i64, Path, description = "The redirect's id")),
    responses(
        (status = 204, description = "The redirect was deleted"),
        (status = 404, description = "No redirect has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/redirects/{id}")]
pub async fn admin_delete_redirect(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    state.db.run(move |conn| store::delete(conn, id)).await?;
    Ok(private_no_content())
}

/// The routes under `/api/v1` that anyone may call.
pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(list_redirects);
}

/// The routes under `/api/v1/admin`, for editors and admins.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_list_redirects)
        .service(admin_create_redirect)
        .service(admin_get_redirect)
        .service(admin_update_redirect)
        .service(admin_delete_redirect);
}
