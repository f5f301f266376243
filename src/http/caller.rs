//! The caller as handlers take it: an [`AuthUser`] argument checks the bearer token, its session
//! and its account before the handler runs (see `auth`); for an integration token, also the scope
//! the route needs (`auth::scopes`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::auth::scopes::{TokenAccess, token_access};
use crate::auth::{self, AuthUser, MaybeAuthUser, integration_tokens};
use crate::error::ApiError;
use crate::http::request_log::CallerAccount;
use crate::http::state::AppState;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let request = req.clone();
        // What the route asks of an integration token (only they need it).
        let access = match &token {
            Ok(token) if token.starts_with(integration_tokens::PREFIX) => {
                let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_string());
                Some(token_access(req.method().as_str(), &pattern))
            }
            _ => None,
        };
        let caller = async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state is missing".into()))?;
            let token = token?;
            if let Some(access) = access {
                let invalid = || ApiError::Unauthorized("the integration token is unknown, revoked or expired".into());
                if !integration_tokens::well_formed(&token) {
                    return Err(invalid());
                }
                let hash = state.token_key.hash(&token);
                let user = state
                    .db
                    .run(move |conn| integration_tokens::authenticate(conn, &hash))
                    .await?
                    .ok_or_else(invalid)?;
                return match access {
                    TokenAccess::Refused(why) => Err(ApiError::Forbidden(why.into())),
                    TokenAccess::Needs(scope) if !user.allows(scope) => Err(ApiError::Forbidden(format!(
                        "this integration token does not have the scope `{}`",
                        scope.as_str()
                    ))),
                    TokenAccess::Needs(_) => Ok(user),
                };
            }
            let (id, claims) = state
                .jwt
                .verify(&token)
                .ok_or_else(|| ApiError::Unauthorized("the access token is invalid or expired".into()))?;
            state
                .db
                .run(move |conn| auth::authenticate(conn, id, &claims))
                .await?
                .ok_or_else(|| ApiError::Unauthorized("the access token is no longer valid".into()))
        };
        Box::pin(async move {
            let user = caller.await?;
            // For the request's log line, and for every event logged while it is served.
            request.extensions_mut().insert(CallerAccount(user.id));
            tracing::Span::current().record("account_id", user.id);
            Ok(user)
        })
    }
}

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

pub fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
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
