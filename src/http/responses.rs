//! Small pieces shared by the route modules: the page query and JSON responses with the right
//! caching headers for their surface.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, EntityTag, HeaderValue, LAST_MODIFIED};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::http::validators::{Validators, http_date};

use crate::pagination::{DEFAULT_PER_PAGE, DirectorySort, MAX_PER_PAGE};

/// `?page=&per_page=` for list routes that take nothing else.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
}

/// `?page=&per_page=&sort=` for the public authors and tags lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// By name (default) or by published articles, most first.
    #[param(inline)]
    pub sort: Option<DirectorySort>,
}

const _: () = assert!(
    DEFAULT_PER_PAGE == 20 && MAX_PER_PAGE == 100 && crate::pagination::MAX_PAGE == 1_000_000_000,
    "update the #[param] bounds of every page query"
);

/// A JSON response for a public route: the same for everyone, so cacheable by any CDN, with a
/// strong `ETag` (a hash of the bytes) and `304 Not Modified` for `If-None-Match`, and for
/// single resources `Last-Modified` and `If-Modified-Since`.
pub fn public_json<T: Serialize>(
    req: &HttpRequest,
    state: &AppState,
    body: &T,
    last_modified: Option<DateTime<Utc>>,
) -> Result<HttpResponse, ApiError> {
    let bytes =
        serde_json::to_vec(body).map_err(|e| ApiError::Internal(format!("cannot serialise a response: {e}")))?;
    Ok(public_bytes(req, state, bytes, "application/json", last_modified))
}

/// [`public_json`] for bytes already made (an Atom feed).
pub fn public_bytes(
    req: &HttpRequest,
    state: &AppState,
    bytes: Vec<u8>,
    content_type: &'static str,
    last_modified: Option<DateTime<Utc>>,
) -> HttpResponse {
    let digest = Sha256::digest(&bytes);
    let etag = EntityTag::new_strong(base16ct::lower::encode_string(&digest[..16]));
    let last_modified = last_modified.map(http_date);
    let fresh = Validators::of(req).fresh(&etag, last_modified);
    let status = if fresh { StatusCode::NOT_MODIFIED } else { StatusCode::OK };
    let mut response = HttpResponse::build(status);
    response.insert_header((CACHE_CONTROL, state.public_cache_control.clone())).insert_header((ETAG, etag));
    if let Some(last_modified) = last_modified {
        response.insert_header((LAST_MODIFIED, last_modified));
    }
    if status == StatusCode::NOT_MODIFIED {
        return response.finish();
    }
    response.insert_header((CONTENT_TYPE, HeaderValue::from_static(content_type))).body(bytes)
}

/// `301 Moved Permanently` to `path` of the API (absolute, from the public address), cacheable
/// like any public answer.
pub fn moved_permanently(state: &AppState, path: &str) -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((CACHE_CONTROL, state.public_cache_control.clone()))
        .insert_header((actix_web::http::header::LOCATION, format!("{}{path}", state.config.public_base())))
        .finish()
}

/// `204 No Content` for an editor or account route, never stored by caches.
pub fn private_no_content() -> HttpResponse {
    HttpResponse::NoContent().insert_header((CACHE_CONTROL, HeaderValue::from_static("private, no-store"))).finish()
}

/// A JSON response for an editor or account route: private to the caller, never stored by caches.
pub fn private_json<T: Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).insert_header((CACHE_CONTROL, HeaderValue::from_static("private, no-store"))).json(body)
}

/// Says where a created resource is (`Location`), on a response already made for it.
pub fn with_location(mut response: HttpResponse, location: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(actix_web::http::header::LOCATION, value);
    }
    response
}
