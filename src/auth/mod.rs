//! Who is calling: bearer-token authentication for the editor and account routes.
//!
//! A handler that needs a caller takes an [`AuthUser`] argument: the route cannot run without a
//! valid token, and its first line says so. Roles are checked by the handler itself (see
//! [`Role`]), never hidden in middleware that a new route could forget.

pub mod jwt;
pub mod password;
pub mod preview_tokens;
pub mod routes;
pub mod sessions;
pub mod throttle;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::authors::store as authors_store;
use crate::error::ApiError;
use crate::http::state::AppState;

/// What an account may do; see the README's table of roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes drafts of their own; cannot publish.
    Contributor,
    /// Writes and publishes their own articles.
    Author,
    /// Edits and publishes every article, manages tags.
    Editor,
    /// Everything, including accounts.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contributor => "contributor",
            Self::Author => "author",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "contributor" => Some(Self::Contributor),
            "author" => Some(Self::Author),
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Editors and admins act on every article; others only on their own.
    pub fn edits_all_articles(self) -> bool {
        self >= Self::Editor
    }

    pub fn can_publish(self) -> bool {
        self >= Self::Author
    }

    pub fn manages_tags(self) -> bool {
        self >= Self::Editor
    }
}

/// An authenticated caller. Extracting it checks the bearer token, its session *and* the account
/// row, so a token whose session ended (logout, a deactivation, a reused refresh token) or whose
/// account's password changed after it was issued is refused at once.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
}

impl AuthUser {
    /// Refuses callers below `minimum` with a 403.
    pub fn require(&self, minimum: Role) -> Result<(), ApiError> {
        if self.role >= minimum {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this action needs the {} role or higher", minimum.as_str())))
        }
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state is missing".into()))?;
            let token = token?;
            let (id, claims) = state
                .jwt
                .verify(&token)
                .ok_or_else(|| ApiError::Unauthorized("the access token is invalid or expired".into()))?;
            let session = claims.sid.clone();
            let (account, session_open) = state
                .db
                .run(move |conn| Ok((authors_store::find_account(conn, id)?, sessions::is_open(conn, id, &session)?)))
                .await?;
            let still_valid = session_open
                && account.as_ref().is_some_and(|a| {
                    a.active && a.password_hash.is_some() && sessions::password_version(a) == claims.pwv
                });
            match account {
                Some(account) if still_valid => Ok(AuthUser {
                    id: account.id,
                    role: Role::parse(&account.role)
                        .ok_or_else(|| ApiError::Internal(format!("author {} has an unknown role", account.id)))?,
                }),
                _ => Err(ApiError::Unauthorized("the access token is no longer valid".into())),
            }
        })
    }
}

/// The caller on routes open to everyone that do more for staff (posting a comment): nobody when
/// the request has no `Authorization` header, else the account of its token. A token that is sent
/// but invalid is a 401, never quietly treated as anonymous.
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Box::pin(std::future::ready(Ok(Self(None))));
        }
        let user = AuthUser::from_request(req, payload);
        Box::pin(async move { Ok(Self(Some(user.await?))) })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("this route needs `Authorization: Bearer <access token>`".into()))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <access token>`".into()))
}
