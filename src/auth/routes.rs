//! Account routes: log in, and who am I.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::password::verify_password;
use super::{AuthUser, Role};
use crate::AppState;
use crate::authors::model::AccountView;
use crate::authors::store as authors_store;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::pagination::Item;
use crate::responses::private_json;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

/// A token response, flat as OAuth 2.0 clients expect.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
}

/// Exchanges an e-mail and password for an access token. An unknown e-mail, a wrong password and
/// a deactivated account all get the same 401, in about the same time.
#[utoipa::path(
    tag = "Auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or of the wrong type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/login")]
pub async fn login(
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = input.email;
    let account = state.db.run(move |conn| authors_store::find_by_email(conn, &email)).await?;
    let params = state.config.password_hashing;
    let dummy_hash = state.dummy_password_hash.clone();
    let account = web::block(move || {
        let usable = account.filter(|a| a.active && a.password_hash.is_some());
        // Hash even when there is no account, so response time does not reveal which e-mails exist.
        let hash = usable.as_ref().and_then(|a| a.password_hash.clone()).unwrap_or(dummy_hash);
        let matches = verify_password(&input.password, &hash, &params);
        usable.filter(|_| matches)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password check failed: {e}")))?
    .ok_or_else(|| ApiError::Unauthorized("wrong e-mail or password".into()))?;
    let access_token = state.jwt.issue(account.id, &account.role).map_err(ApiError::Internal)?;
    tracing::info!(author_id = account.id, "login");
    Ok(private_json(
        StatusCode::OK,
        &TokenResponse { access_token, token_type: "Bearer", expires_in: state.jwt.ttl_seconds() },
    ))
}

/// The caller's own account.
#[utoipa::path(
    tag = "Auth",
    operation_id = "getMe",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = Item<AccountView>),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = user.id;
    let account = state
        .db
        .run(move |conn| authors_store::find_account(conn, id))
        .await?
        .and_then(AccountView::from_row)
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    Ok(private_json(StatusCode::OK, &Item { data: account }))
}
