//! Draft previews: an editor asks for a signed, expiring link; a front end fetches the draft
//! through it without any credentials. The link carries an HS256 token for one article, signed
//! with a key derived from the JWT secret and a distinct issuer, so it can never pass as an
//! access token, nor an access token as a preview link.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::policy::{Action, authorize};
use super::store;
use super::views::PublicArticle;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem, Validator};
use crate::http::extract::OptionalJsonBody;
use crate::http::responses::private_json;
use crate::http::state::AppState;
use crate::pagination::Item;

/// Default and longest lifetimes of a preview link, in seconds.
const DEFAULT_TTL: i64 = 3600;
const MAX_TTL: i64 = 7 * 86_400;

/// `POST …/preview`, body optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_in": 3600}))]
pub struct PreviewRequest {
    /// Seconds the link works (60 to 604800); an hour by default.
    #[schema(minimum = 60, maximum = 604800, default = 3600)]
    pub expires_in: Option<i64>,
}

/// A preview link.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewLink {
    /// Fetch it with a plain GET, no credentials: it answers the article as the public would see
    /// it once published.
    #[schema(example = "https://cms.example.com/api/v1/previews/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln")]
    pub url: String,
    /// The token alone, for a front end that serves previews under its own address and fetches
    /// `GET /api/v1/previews/{token}` itself.
    #[schema(example = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln")]
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A signed, expiring link to the article as it is now (drafts included), for a front end to
/// render a preview without an editor's credentials. Anyone who may read the article may ask.
#[utoipa::path(
    tag = "Articles",
    operation_id = "adminCreatePreview",
    params(("id" = i64, Path, description = "The article's id")),
    request_body(content = Option<PreviewRequest>, description = "Optional: how long the link works", example = json!({"expires_in": 3600})),
    responses(
        (status = 201, description = "A preview link", body = Item<PreviewLink>,
            headers(("Location" = String, description = "The preview link itself (as `data.url`)"))),
        (status = 404, description = "No article has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{id}/preview")]
pub async fn create_preview(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    OptionalJsonBody(input): OptionalJsonBody<PreviewRequest>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let ttl = input.expires_in.unwrap_or(DEFAULT_TTL);
    Validator::new().check((60..=MAX_TTL).contains(&ttl), "expires_in", "must be from 60 to 604800").finish()?;
    let id = id.into_inner();
    state.db.run(move |conn| authorize(&user, &store::access(conn, id)?, Action::View)).await?;
    let expires_at = state.previews.now() + chrono::Duration::seconds(ttl);
    let token = state.previews.sign(id, expires_at)?;
    let url = format!("{}/api/v1/previews/{token}", state.public_base);
    let response =
        private_json(StatusCode::CREATED, &Item { data: PreviewLink { url: url.clone(), token, expires_at } });
    Ok(crate::http::responses::with_location(response, &url))
}

/// The article a preview link was made for, as the public will see it (even as a draft). Never
/// cached by shared caches.
#[utoipa::path(
    tag = "Content",
    operation_id = "getPreview",
    params(("token" = String, Path, description = "The token of a preview link")),
    responses(
        (status = 200, description = "The article", body = Item<PublicArticle>),
        (status = 403, description = "The link is invalid or has expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The article no longer exists or is in the trash", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/previews/{token}")]
pub async fn get_preview(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = state
        .previews
        .article_id(&token)
        .ok_or_else(|| ApiError::Forbidden("this preview link is invalid or has expired".into()))?;
    let article = state
        .db
        .run(move |conn| store::find_preview(conn, id))
        .await?
        .ok_or_else(|| ApiError::NotFound("the previewed article no longer exists".into()))?
        .with_comment_closing(state.config.comments.close_after_days);
    Ok(private_json(StatusCode::OK, &Item { data: article }))
}
