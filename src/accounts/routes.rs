//! Account routes: log in, refresh, log out, the caller's own account and password.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::account::Account;
use crate::auth::sessions::{self, TokenResponse};
use crate::auth::throttle::{self, Attempt, LoginKeys};
use crate::auth::{AuthUser, Role};
use crate::authors::model::{AccountView, UpdateProfile};
use crate::authors::store as authors_store;
use crate::error::{ApiError, Problem};
use crate::http::extract::JsonBody;
use crate::http::responses::private_json;
use crate::http::state::AppState;
use crate::pagination::Item;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "9f2c4e1b7a6d5c3e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery staple", "new_password": "a new and longer passphrase"}))]
pub struct PasswordChange {
    #[schema(format = Password)]
    pub current_password: String,
    /// 8 to 256 characters.
    #[schema(format = Password, min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// Checks the password of an attempt the throttle let through (`throttle::reserve`): the account
/// back on success (the attempt forgiven), 401 on a wrong password (the attempt stays counted).
/// Without a usable account a dummy hash is checked instead, so that the time taken does not tell
/// which e-mails exist. When the check cannot run (the server is busy) the attempt is withdrawn.
async fn check_credentials(
    state: &AppState,
    attempt: Attempt,
    account: Option<Account>,
    password: String,
) -> Result<Account, ApiError> {
    let usable = account.filter(Account::can_log_in);
    let hash =
        usable.as_ref().and_then(|a| a.password_hash.clone()).unwrap_or_else(|| state.dummy_password_hash.clone());
    let matches = match state.passwords.verify(password, hash).await {
        Ok(matches) => matches,
        Err(error) => {
            state.db.run(move |conn| throttle::withdraw(conn, attempt)).await?;
            return Err(error);
        }
    };
    match usable.filter(|_| matches) {
        Some(account) => {
            state.db.run(move |conn| throttle::succeeded(conn, attempt)).await?;
            Ok(account)
        }
        None => Err(ApiError::Unauthorized("wrong e-mail or password".into())),
    }
}

/// Exchanges an e-mail and password for an access token and a refresh token. An unknown e-mail,
/// a wrong password and a deactivated account all get the same 401, in about the same time.
/// Repeated failures from one address or against one account are throttled (429).
#[utoipa::path(
    tag = "Auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let keys = LoginKeys::new(&crate::http::extract::client_address(&req, state.config.trust_proxy), &input.email);
    let limits = state.config.login_limits;
    let email = input.email;
    let (attempt, account) = state
        .db
        .run(move |conn| {
            let attempt = throttle::reserve(conn, &keys, &limits)?;
            Ok((attempt, Account::find_by_email(conn, &email)?))
        })
        .await?;
    let account = check_credentials(&state, attempt, account, input.password).await?;
    let tokens = start_session(&state, account).await?;
    Ok(private_json(StatusCode::OK, &tokens))
}

async fn start_session(state: &web::Data<AppState>, account: Account) -> Result<TokenResponse, ApiError> {
    let session_state = state.clone();
    let tokens = state
        .db
        .run(move |conn| {
            let state = &session_state;
            sessions::start(conn, &state.jwt, refresh_ttl(state), &account)
        })
        .await?;
    Ok(tokens)
}

fn refresh_ttl(state: &AppState) -> chrono::Duration {
    chrono::Duration::seconds(state.config.refresh_ttl.as_secs() as i64)
}

/// Exchanges a refresh token for a new access token and a new refresh token. Each refresh token
/// works once: presenting one again revokes its whole session (it was copied).
#[utoipa::path(
    tag = "Auth",
    operation_id = "refresh",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "The refresh token is unknown, used, expired or revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let session_state = state.clone();
    let tokens = state
        .db
        .run(move |conn| {
            let state = &session_state;
            sessions::refresh(conn, &state.jwt, refresh_ttl(state), &input.refresh_token)
        })
        .await?;
    Ok(private_json(StatusCode::OK, &tokens))
}

/// Ends the session of a refresh token. Answers 204 whether or not the token was known.
#[utoipa::path(
    tag = "Auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session is over"),
    )
)]
#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.db.run(move |conn| sessions::logout(conn, &input.refresh_token)).await?;
    Ok(crate::http::responses::private_no_content())
}

/// The caller's own account.
#[utoipa::path(
    tag = "Auth",
    operation_id = "getMe",
    responses(
        (status = 200, description = "The caller's account", body = Item<AccountView>),
    )
)]
#[get("/me")]
pub async fn me(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = user.id;
    let account = state.db.run(move |conn| authors_store::get(conn, id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: AccountView::from_row(account) }))
}

/// Changes the caller's own profile (name, bio, avatar). Nobody changes their own role.
#[utoipa::path(
    tag = "Auth",
    operation_id = "updateMe",
    request_body = UpdateProfile,
    responses(
        (status = 200, description = "The updated account", body = Item<AccountView>),
    )
)]
#[patch("/me")]
pub async fn update_me(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<UpdateProfile>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = user.id;
    let account = state.db.run(move |conn| authors_store::update_profile(conn, id, input)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: AccountView::from_row(account) }))
}

/// Changes the caller's password. Every session of the account ends (other devices must log in
/// again); the answer is a fresh token pair for this one. A wrong current password counts as a
/// failed login.
#[utoipa::path(
    tag = "Auth",
    operation_id = "changePassword",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; a new token pair", body = TokenResponse),
        (status = 401, description = "Missing, invalid or expired access token, or a wrong current password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/password")]
pub async fn change_password(
    req: HttpRequest,
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    crate::error::Validator::new()
        .chars(
            "new_password",
            &input.new_password,
            crate::auth::password::MIN_PASSWORD_CHARS,
            crate::auth::password::MAX_PASSWORD_CHARS,
        )
        .finish()?;
    let id = user.id;
    let address = crate::http::extract::client_address(&req, state.config.trust_proxy);
    let limits = state.config.login_limits;
    let (attempt, account) = state
        .db
        .run(move |conn| {
            let profile = authors_store::get(conn, id)?;
            let keys = LoginKeys::new(&address, profile.email.as_deref().unwrap_or_default());
            Ok((throttle::reserve(conn, &keys, &limits)?, Account::find(conn, id)?))
        })
        .await?;
    check_credentials(&state, attempt, account, input.current_password).await.map_err(|e| match e {
        ApiError::Unauthorized(_) => ApiError::Unauthorized("the current password is wrong".into()),
        other => other,
    })?;
    let password_hash = state.passwords.hash(Some(input.new_password.clone())).await?;
    let account = state
        .db
        .run(move |conn| {
            authors_store::set_password(conn, id, &input.new_password, password_hash)?;
            Account::find(conn, id)?.ok_or_else(|| ApiError::NotFound("the account no longer exists".into()))
        })
        .await?;
    tracing::info!(author_id = id, "password changed; sessions revoked");
    let tokens = start_session(&state, account).await?;
    Ok(private_json(StatusCode::OK, &tokens))
}

/// The routes under `/api/v1/auth`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(refresh).service(logout).service(me).service(update_me).service(change_password);
}
