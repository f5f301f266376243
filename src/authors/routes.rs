//! Author routes: public (bylines with published work, never e-mails) and editor (accounts).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{AccountView, CreateAuthor, PublicAuthor, UpdateAuthor};
use super::policy::authorize_change;
use super::store;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::responses::{DirectoryQuery, PageQuery, private_json, public_json, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// Authors with at least one published article, by name.
#[utoipa::path(
    tag = "Content",
    operation_id = "listAuthors",
    params(
        DirectoryQuery,
    ),
    responses(
        (status = 200, description = "A page of authors", body = Paginated<PublicAuthor>),
    )
)]
#[get("/authors")]
pub async fn list_authors(
    req: HttpRequest,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<DirectoryQuery>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let now = state.db.now();
    let sort = query.sort.unwrap_or_default();
    let (data, total) = state.db.run(move |conn| store::list_public(conn, now, sort, page)).await?;
    public_json(&req, &state, &Paginated { data, meta: page.meta(total) }, None)
}

/// One author with published work, by slug.
#[utoipa::path(
    tag = "Content",
    operation_id = "getAuthor",
    params(
        ("slug" = String, Path, description = "The author's slug", example = "ada-lovelace"),
        ("If-Modified-Since" = Option<String>, Header, description = "A Last-Modified from an earlier response: 304 when nothing changed since"),
    ),
    responses(
        (status = 200, description = "The author", body = Item<PublicAuthor>, headers(("Last-Modified" = String, description = "When the resource last changed"))),
        (status = 404, description = "No author with published work has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{slug}")]
pub async fn get_author(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let now = state.db.now();
    let author = state
        .db
        .run(move |conn| store::find_public(conn, now, &slug))
        .await?
        .ok_or_else(|| ApiError::NotFound("no author has this slug".into()))?;
    let (data, updated_at) = author;
    public_json(&req, &state, &Item { data }, Some(updated_at.and_utc()))
}

/// Every author: accounts and byline-only, active or not. Editors and admins.
#[utoipa::path(
    tag = "Authors",
    operation_id = "adminListAuthors",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of authors, by name", body = Paginated<AccountView>),
        (status = 403, description = "Only editors and admins manage authors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors")]
pub async fn admin_list_authors(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let (rows, total) = state.db.run(move |conn| store::list_all(conn, page)).await?;
    let data: Vec<AccountView> = rows.into_iter().map(AccountView::from_row).collect();
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// Creates an account (`email`, `password`, `role`) or a byline-only author (`name` alone).
/// Editors create authors, contributors and byline-only authors; admins any role.
#[utoipa::path(
    tag = "Authors",
    operation_id = "adminCreateAuthor",
    request_body = CreateAuthor,
    responses(
        (status = 201, description = "The author was created", body = Item<AccountView>,
            headers(("Location" = String, description = "The new author's editor URL"))),
        (status = 403, description = "The caller may not create this role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail or slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/authors")]
pub async fn admin_create_author(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateAuthor>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let password_hash = state.passwords.hash(input.password.clone()).await?;
    let author = state
        .db
        .run(move |conn| store::create_author(conn, input, password_hash, |role| authorize_change(&user, role, role)))
        .await?;
    let view = AccountView::from_row(author);
    let response = private_json(StatusCode::CREATED, &Item { data: &view });
    Ok(with_location(response, &format!("/api/v1/admin/authors/{}", view.id)))
}

/// One author, account details included. Editors and admins.
#[utoipa::path(
    tag = "Authors",
    operation_id = "adminGetAuthor",
    params(("id" = i64, Path, description = "The author's id")),
    responses(
        (status = 200, description = "The author", body = Item<AccountView>),
        (status = 403, description = "Only editors and admins manage authors", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No author has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{id}")]
pub async fn admin_get_author(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let author = state.db.run(move |conn| store::get(conn, id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: AccountView::from_row(author) }))
}

/// Changes an author: profile, e-mail, password, role, `active`. Editors manage authors,
/// contributors and byline-only authors; admins everyone. The last active admin stays an admin.
#[utoipa::path(
    tag = "Authors",
    operation_id = "adminUpdateAuthor",
    params(("id" = i64, Path, description = "The author's id")),
    request_body = UpdateAuthor,
    responses(
        (status = 200, description = "The updated author", body = Item<AccountView>),
        (status = 403, description = "The caller may not manage this author or give this role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No author has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail or slug is taken, or this is the last active admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/authors/{id}")]
pub async fn admin_update_author(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<UpdateAuthor>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let author = update_as(user, &state, id, input).await?;
    Ok(private_json(StatusCode::OK, &Item { data: AccountView::from_row(author) }))
}

/// Removes an author. One with bylines, staff comments or revisions is deactivated, as by
/// `PATCH {"active": false}`: no more logins, every session ends at once, bylines stay (200 with
/// the author). One without any (a byline-only author made by mistake, say) is deleted for good (204).
#[utoipa::path(
    tag = "Authors",
    operation_id = "adminDeleteAuthor",
    params(("id" = i64, Path, description = "The author's id")),
    responses(
        (status = 200, description = "The author has a history and is deactivated, bylines kept", body = Item<AccountView>),
        (status = 204, description = "The author had no history and is deleted for good"),
        (status = 403, description = "The caller may not manage this author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No author has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This is the last active admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/authors/{id}")]
pub async fn admin_delete_author(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let caller = user.clone();
    let removal = state
        .db
        .run(move |conn| {
            store::delete_author(conn, id, |current| {
                let role = store::effective_role(current);
                authorize_change(&caller, role, role)
            })
        })
        .await?;
    match removal {
        store::Removal::Deleted => Ok(crate::http::responses::private_no_content()),
        store::Removal::HasHistory => {
            let deactivate = UpdateAuthor { active: Some(false), ..Default::default() };
            let author = update_as(user, &state, id, deactivate).await?;
            Ok(private_json(StatusCode::OK, &Item { data: AccountView::from_row(author) }))
        }
    }
}

/// Changes an author on behalf of `user`, who must be allowed to manage them before and after.
async fn update_as(
    user: AuthUser,
    state: &web::Data<AppState>,
    id: i64,
    input: UpdateAuthor,
) -> Result<super::model::Author, ApiError> {
    let password_hash = state.passwords.hash(input.password.clone()).await?;
    state
        .db
        .run(move |conn| {
            store::update_author(conn, id, input, password_hash, |current, to| {
                authorize_change(&user, store::effective_role(current), to)
            })
        })
        .await
}

/// The routes under `/api/v1` that anyone may call.
pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(list_authors).service(get_author);
}

/// The routes under `/api/v1/admin`, for staff.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_list_authors)
        .service(admin_create_author)
        .service(admin_get_author)
        .service(admin_update_author)
        .service(admin_delete_author);
}
