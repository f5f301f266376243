//! Tag routes: public (tags on published articles) and editor (every tag).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{CreateTag, Tag, TagWithCount, UpdateTag};
use super::store;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::responses::{DirectoryQuery, PageQuery, private_json, public_json};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// Tags on at least one published article, by name.
#[utoipa::path(
    tag = "Content",
    operation_id = "listTags",
    params(
        DirectoryQuery,
    ),
    responses(
        (status = 200, description = "A page of tags", body = Paginated<TagWithCount>),
    )
)]
#[get("/tags")]
pub async fn list_tags(
    req: HttpRequest,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<DirectoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let now = state.db.now();
    let sort = query.sort.unwrap_or_default();
    let (data, total) = state.db.run(move |conn| store::list_public(conn, now, sort, page)).await?;
    public_json(&req, &state, &Paginated { data, meta: page.meta(total) }, None)
}

/// One tag on published articles, by slug.
#[utoipa::path(
    tag = "Content",
    operation_id = "getTag",
    params(
        ("slug" = String, Path, description = "The tag's slug", example = "open-source"),
        ("If-Modified-Since" = Option<String>, Header, description = "A Last-Modified from an earlier response: 304 when nothing changed since"),
    ),
    responses(
        (status = 200, description = "The tag", body = Item<TagWithCount>, headers(("Last-Modified" = String, description = "When the resource last changed"))),
        (status = 404, description = "No tag on a published article has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags/{slug}")]
pub async fn get_tag(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let now = state.db.now();
    let tag = state
        .db
        .run(move |conn| store::find_public(conn, now, &slug))
        .await?
        .ok_or_else(|| ApiError::NotFound("no tag has this slug".into()))?;
    let (data, updated_at) = tag;
    public_json(&req, &state, &Item { data }, Some(updated_at.and_utc()))
}

/// Every tag, used or not, by name. Any signed-in role.
#[utoipa::path(
    tag = "Tags",
    operation_id = "adminListTags",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of tags", body = Paginated<Tag>),
    )
)]
#[get("/tags")]
pub async fn admin_list_tags(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let (data, total) = state.db.run(move |conn| store::list_all(conn, page)).await?;
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// Creates a tag. Authors and above.
#[utoipa::path(
    tag = "Tags",
    operation_id = "adminCreateTag",
    request_body = CreateTag,
    responses(
        (status = 201, description = "The tag was created", body = Item<Tag>,
            headers(("Location" = String, description = "The new tag's editor URL"))),
        (status = 403, description = "Contributors cannot create tags", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tags")]
pub async fn admin_create_tag(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateTag>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let tag = state.db.run(move |conn| store::create(conn, input)).await?;
    let location = format!("/api/v1/admin/tags/{}", tag.id);
    Ok(crate::http::responses::with_location(private_json(StatusCode::CREATED, &Item { data: tag }), &location))
}

/// One tag, used or not. Any signed-in role.
#[utoipa::path(
    tag = "Tags",
    operation_id = "adminGetTag",
    params(("id" = i64, Path, description = "The tag's id")),
    responses(
        (status = 200, description = "The tag", body = Item<Tag>),
        (status = 404, description = "No tag has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags/{id}")]
pub async fn admin_get_tag(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    let tag = state.db.run(move |conn| store::find(conn, id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: tag }))
}

/// Renames a tag, changes its slug or description. Editors and admins.
#[utoipa::path(
    tag = "Tags",
    operation_id = "adminUpdateTag",
    params(("id" = i64, Path, description = "The tag's id")),
    request_body = UpdateTag,
    responses(
        (status = 200, description = "The updated tag", body = Item<Tag>),
        (status = 403, description = "Only editors and admins change tags", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No tag has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tags/{id}")]
pub async fn admin_update_tag(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<UpdateTag>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let tag = state.db.run(move |conn| store::update(conn, id, input)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: tag }))
}

/// Deletes a tag; the articles that had it keep everything else. Editors and admins.
#[utoipa::path(
    tag = "Tags",
    operation_id = "adminDeleteTag",
    params(("id" = i64, Path, description = "The tag's id")),
    responses(
        (status = 204, description = "The tag was deleted"),
        (status = 403, description = "Only editors and admins delete tags", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No tag has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tags/{id}")]
pub async fn admin_delete_tag(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    state.db.run(move |conn| store::delete(conn, id)).await?;
    Ok(crate::http::responses::private_no_content())
}

/// The routes under `/api/v1` that anyone may call.
pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(list_tags).service(get_tag);
}

/// The routes under `/api/v1/admin`, for staff.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_list_tags)
        .service(admin_create_tag)
        .service(admin_get_tag)
        .service(admin_update_tag)
        .service(admin_delete_tag);
}
