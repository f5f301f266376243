//! Small pieces shared by the route modules: the page query and JSON responses with the right
//! caching headers for their surface.

use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, EntityTag, HeaderValue, HttpDate, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;

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
    let etag = EntityTag::new_strong(digest[..16].iter().map(|b| format!("{b:02x}")).collect());
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

/// HTTP dates have whole seconds: drop the rest, or a resource would always look newer than the
/// `If-Modified-Since` a client copied from its `Last-Modified`.
fn http_date(time: DateTime<Utc>) -> HttpDate {
    let seconds = u64::try_from(time.timestamp()).unwrap_or(0);
    HttpDate::from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
}

/// The validators a client sent (`If-None-Match`, `If-Modified-Since`): what decides between a
/// 304 and a 200. Kept apart from the request so that the response cache can have a full 200
/// made for everyone and still answer each client's own validators.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    if_none_match: Vec<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
}

impl Validators {
    pub fn of(req: &HttpRequest) -> Self {
        Self::from_headers(req.headers())
    }

    fn from_headers(headers: &actix_web::http::header::HeaderMap) -> Self {
        // A date sent twice is no date: RFC 9110 has the field ignored then.
        let mut since = headers.get_all(IF_MODIFIED_SINCE);
        let if_modified_since = match (since.next(), since.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        };
        Self { if_none_match: headers.get_all(IF_NONE_MATCH).cloned().collect(), if_modified_since }
    }

    /// Takes them off a request, whose answer is then a full 200 whatever the client holds.
    pub fn take(req: &mut actix_web::dev::ServiceRequest) -> Self {
        let validators = Self::from_headers(req.headers());
        req.headers_mut().remove(IF_NONE_MATCH);
        req.headers_mut().remove(IF_MODIFIED_SINCE);
        validators
    }

    /// Whether a stored response (its `ETag` and `Last-Modified` as sent) is fresh for them.
    pub fn fresh_for_stored(&self, etag: Option<&str>, last_modified: Option<&str>) -> bool {
        let Some(etag) = etag.and_then(|e| e.parse::<EntityTag>().ok()) else { return false };
        self.fresh(&etag, last_modified.and_then(|v| v.parse::<HttpDate>().ok()))
    }

    /// RFC 9110 §13.1: `If-None-Match` (weak comparison) wins; `If-Modified-Since` counts only
    /// without it. Unparseable validators are ignored, as the RFC asks.
    pub fn fresh(&self, etag: &EntityTag, last_modified: Option<HttpDate>) -> bool {
        if !self.if_none_match.is_empty() {
            // `*` is the whole field or nothing; otherwise a list of tags, unreadable ones ignored.
            if let [only] = &self.if_none_match[..]
                && only.to_str().is_ok_and(|value| value.trim() == "*")
            {
                return true;
            }
            return self
                .if_none_match
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .any(|item| item.trim().parse::<EntityTag>().is_ok_and(|tag| tag.weak_eq(etag)));
        }
        let since = self.if_modified_since.as_ref().and_then(|v| v.to_str().ok()?.parse::<HttpDate>().ok());
        match (last_modified, since) {
            (Some(modified), Some(since)) => {
                std::time::SystemTime::from(modified) <= std::time::SystemTime::from(since)
            }
            _ => false,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_modified_since_compares_whole_seconds() {
        let modified: DateTime<Utc> = "2026-11-25T16:29:07.446750Z".parse().unwrap();
        let date = http_date(modified);
        let req = TestRequest::get().insert_header(("If-Modified-Since", date.to_string())).to_http_request();
        let etag = EntityTag::new_strong("x".into());
        assert!(Validators::of(&req).fresh(&etag, Some(date)), "{date}");
        let both = TestRequest::get()
            .insert_header(("If-None-Match", "\"y\", W/\"x\""))
            .insert_header(("If-Modified-Since", date.to_string()))
            .to_http_request();
        assert!(Validators::of(&both).fresh(&etag, Some(date)), "a weak match");
        let other = TestRequest::get().insert_header(("If-None-Match", "\"y\"")).to_http_request();
        assert!(!Validators::of(&other).fresh(&etag, Some(date)), "If-None-Match wins over If-Modified-Since");
    }
}
