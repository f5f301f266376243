//! Integration token routes, under `/api/v1/admin/tokens`. Every staff role may make tokens for
//! itself; admins see and revoke everyone's. Only a login may call these: a token cannot make,
//! list or revoke tokens (see `auth::scopes`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{CreateToken, CreatedToken, TokenView};
use super::store::{self, NewToken};
use crate::auth::integration_tokens::{display_prefix, generate};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::responses::{private_json, private_no_content, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// `GET /api/v1/admin/tokens` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// An account id: that account's tokens (admins only). Without it, admins see every token and
    /// others their own.
    pub owner: Option<i64>,
}

/// Whose tokens the caller may see and revoke: their own; an admin's, everyone's.
fn may_see(user: &AuthUser) -> impl Fn(i64) -> bool + Send + 'static {
    let (id, admin) = (user.id, user.role >= Role::Admin);
    move |owner| admin || owner == id
}

/// Makes an integration token for the caller, acting as them within its scopes. The token is in
/// this response only: the server keeps a keyed hash of it.
#[utoipa::path(
    tag = "Tokens",
    operation_id = "adminCreateToken",
    request_body = CreateToken,
    responses(
        (status = 201, description = "The token was made; store `token` now", body = Item<CreatedToken>,
            headers(("Location" = String, description = "The token's editor URL"))),
        (status = 403, description = "An integration token cannot make tokens", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account holds 50 unrevoked, unexpired tokens already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tokens")]
pub async fn admin_create_token(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateToken>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let now = state.db.now();
    let (name, scopes, expires_at) = store::check(&input.name, &input.scopes, input.expires_at, now)?;
    let token = generate();
    let new = NewToken {
        owner_id: user.id,
        name,
        scopes,
        expires_at,
        token_hash: state.token_key.hash(&token),
        token_prefix: display_prefix(&token),
    };
    let row = state.db.run(move |conn| store::create(conn, new, now)).await?;
    let location = format!("/api/v1/admin/tokens/{}", row.id);
    tracing::info!(token_id = row.id, owner_id = row.owner_id, "integration token made");
    let body = Item { data: CreatedToken { view: row.into(), token } };
    Ok(with_location(private_json(StatusCode::CREATED, &body), &location))
}

/// The caller's unrevoked tokens, newest first (admins: everyone's, or one account's with
/// `owner`). Never the tokens themselves.
#[utoipa::path(
    tag = "Tokens",
    operation_id = "adminListTokens",
    params(TokenListQuery),
    responses(
        (status = 200, description = "A page of tokens", body = Paginated<TokenView>),
        (status = 403, description = "Only admins list other accounts' tokens", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tokens")]
pub async fn admin_list_tokens(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<TokenListQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let owner = match (query.owner, user.role >= Role::Admin) {
        (owner, true) => owner,
        (Some(owner), false) if owner != user.id => {
            return Err(ApiError::Forbidden("only admins list other accounts' tokens".into()));
        }
        (_, false) => Some(user.id),
    };
    let (rows, total) = state.db.run(move |conn| store::list(conn, owner, page)).await?;
    let data = rows.into_iter().map(TokenView::from).collect();
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// One unrevoked token of the caller's (admins: anyone's), without the token itself.
#[utoipa::path(
    tag = "Tokens",
    operation_id = "adminGetToken",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token", body = Item<TokenView>),
        (status = 404, description = "No unrevoked token of yours has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tokens/{id}")]
pub async fn admin_get_token(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let (id, may_see) = (id.into_inner(), may_see(&user));
    let row = state.db.run(move |conn| store::find(conn, id, may_see)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: TokenView::from(row) }))
}

/// Revokes a token at once, on every node.
#[utoipa::path(
    tag = "Tokens",
    operation_id = "adminRevokeToken",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 204, description = "The token was revoked"),
        (status = 404, description = "No unrevoked token of yours has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tokens/{id}")]
pub async fn admin_revoke_token(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let (id, may_see, now) = (id.into_inner(), may_see(&user), state.db.now());
    state.db.run(move |conn| store::revoke(conn, id, may_see, now)).await?;
    tracing::info!(token_id = id, by = user.id, "integration token revoked");
    Ok(private_no_content())
}

/// The routes under `/api/v1/admin`, for staff logged in.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_create_token).service(admin_list_tokens).service(admin_get_token).service(admin_revoke_token);
}
