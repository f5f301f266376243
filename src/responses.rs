//! Small pieces shared by the route modules: the page query and JSON responses with the right
//! caching headers for their surface.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::pagination::{DEFAULT_PER_PAGE, MAX_PER_PAGE};

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

const _: () = assert!(
    DEFAULT_PER_PAGE == 20 && MAX_PER_PAGE == 100 && crate::pagination::MAX_PAGE == 1_000_000_000,
    "update the #[param] bounds of every page query"
);

/// A 200 JSON response for a public route.
pub fn public_json<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// A JSON response for an editor or account route: private to the caller, never stored by caches.
pub fn private_json<T: Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).insert_header((CACHE_CONTROL, HeaderValue::from_static("private, no-store"))).json(body)
}

/// Serialises stored UTC timestamps (`NaiveDateTime`) as RFC 3339 with a `Z`, as every
/// timestamp in the API is. Use with `#[serde(serialize_with = "utc")]` and
/// `#[schema(value_type = String, format = DateTime)]`.
pub fn utc<S: serde::Serializer>(time: &chrono::NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    time.and_utc().serialize(serializer)
}

/// [`utc`] for optional timestamps.
pub fn utc_opt<S: serde::Serializer>(time: &Option<chrono::NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    time.map(|t| t.and_utc()).serialize(serializer)
}
