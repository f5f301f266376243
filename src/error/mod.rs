//! Every error the API can answer, and the one place where each becomes an HTTP status and an
//! RFC 9457 `application/problem+json` body.
//!
//! When to use which variant: input that cannot be parsed (malformed JSON, an unknown field or
//! parameter) is `BadRequest`; input that parses but breaks a rule is `Validation`, naming each
//! field; a row that does not exist, or that the caller may not know exists, is `NotFound`; a taken
//! slug or e-mail is `Conflict`. Anything unexpected is `Internal`: logged with the request id,
//! never detailed to the client.

mod limit;
pub use limit::Limit;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// nginx's status for a request whose client closed the connection before the answer: logged,
/// never sent (nobody is there to read it).
pub const CLIENT_CLOSED_REQUEST: u16 = 499;

/// The error type of every handler and store function.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Carries the methods the path does support, for the `Allow` header.
    #[error("this path supports only {allowed}")]
    MethodNotAllowed { allowed: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{detail}")]
    PreconditionFailed { detail: String, current_version: i32 },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A byte range outside a file of `size` bytes.
    #[error("the range asked for is outside the file, which has {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("{detail}")]
    TooManyRequests { limit: Limit, detail: String, retry_after_seconds: u64 },
    /// The database is out of reach, or (`/readyz`) the node is not ready (the cause is logged, not sent).
    #[error("{0}")]
    Unavailable(String),
    /// Every database connection (or password-hashing slot) stayed busy for longer than a request
    /// may wait: shed load rather than queue without end.
    #[error("{0}")]
    Busy(String),
    /// The request's database work ran past `MASTHEAD_QUERY_TIMEOUT_MS` and was cancelled.
    #[error("{0}")]
    QueryTimeout(String),
    /// A write failed because the database's disk is full; reads still work.
    #[error("{0}")]
    StorageFull(String),
    /// The media store (a directory or an S3 bucket) failed or is out of reach (the cause is
    /// logged, not sent).
    #[error("{0}")]
    StoreUnavailable(String),
    /// The request body did not arrive within `MASTHEAD_BODY_TIMEOUT_MS`.
    #[error("{0}")]
    RequestTimeout(String),
    /// The client closed the connection before sending the whole request: nobody will read the
    /// answer, which is logged with nginx's 499.
    #[error("{0}")]
    ClientClosed(String),
    #[error("{0}")]
    Internal(String),
}

/// One invalid field of a request, in a 422 problem.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name (a JSON path such as `tags[2]` for nested values).
    #[schema(example = "title")]
    pub field: String,
    #[schema(example = "must be 1 to 200 characters")]
    pub message: String,
}

/// An RFC 9457 problem: the body of every error response, as `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable, so clients can branch on it.
    #[serde(rename = "type")]
    #[schema(example = "urn:masthead:problem:validation")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong with this request, for a human.
    #[schema(example = "the request has invalid fields")]
    pub detail: String,
    /// The invalid fields (validation problems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The resource's current version (412 only): re-read it, merge, and retry with its ETag.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 4)]
    pub current_version: Option<i32>,
}

impl ApiError {
    /// The error for a terminal (the command line), with field errors spelled out.
    pub fn for_terminal(self) -> String {
        match self {
            Self::Validation(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        }
    }

    /// A 422 for a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    /// The stable name used in `type` (`urn:masthead:problem:<name>`) and its title.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("bad-request", "Bad request"),
            Self::Validation(_) => ("validation", "Validation failed"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::RangeNotSatisfiable { .. } => ("range-not-satisfiable", "Range not satisfiable"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Busy(_) => ("busy", "Server busy"),
            Self::QueryTimeout(_) => ("query-timeout", "Query took too long"),
            Self::StorageFull(_) => ("storage-full", "Storage full"),
            Self::StoreUnavailable(_) => ("store-unavailable", "Media store unavailable"),
            Self::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            Self::ClientClosed(_) => ("client-closed-request", "Client closed request"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn problem(&self) -> Problem {
        let (name, title) = self.kind();
        let detail = match self {
            // The cause of a 500 is logged, never sent: it may hold SQL or paths.
            Self::Internal(_) => "the server failed to handle this request; it has been logged".to_string(),
            Self::Unavailable(_) => "the database is unavailable; retry shortly".to_string(),
            Self::StoreUnavailable(_) => "the media store is unavailable; retry shortly".to_string(),
            Self::Busy(_) => "the server is at capacity; retry in a moment".to_string(),
            Self::QueryTimeout(_) => {
                "this request needed more database time than the server allows; narrow it, or retry later".to_string()
            }
            Self::StorageFull(_) => {
                "the server's storage is full, so changes cannot be saved until an operator frees space; \
                 reading still works"
                    .to_string()
            }
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("urn:masthead:problem:{name}"),
            title: title.to_string(),
            status: self.status_code().as_u16(),
            detail,
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            current_version: match self {
                Self::PreconditionFailed { current_version, .. } => Some(*current_version),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_)
            | Self::Busy(_)
            | Self::QueryTimeout(_)
            | Self::StorageFull(_)
            | Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::ClientClosed(_) => StatusCode::from_u16(CLIENT_CLOSED_REQUEST).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(%cause, "internal error"),
            Self::Unavailable(cause) => {
                if let Some(skipped) = UNAVAILABLE_LOGGED.take() {
                    tracing::warn!(%cause, skipped, "unavailable");
                }
            }
            Self::Busy(cause) => {
                if let Some(skipped) = BUSY_LOGGED.take() {
                    tracing::warn!(%cause, skipped, "shed a request: no capacity left");
                }
            }
            Self::QueryTimeout(cause) => {
                tracing::warn!(%cause, "cancelled a request's database work: over its time budget")
            }
            Self::StoreUnavailable(cause) => tracing::error!(%cause, "the media store failed"),
            Self::StorageFull(cause) => {
                tracing::error!(%cause, "a write failed: the disk holding the database is full; free space to recover")
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::Unavailable(_) | Self::QueryTimeout(_) | Self::StoreUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::Busy(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            Self::StorageFull(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("60")));
            }
            // The rest of a slow body may still be on its way: this connection is done.
            Self::RequestTimeout(_) => {
                response.force_close();
            }
            Self::MethodNotAllowed { allowed } => {
                if let Ok(value) = HeaderValue::from_str(allowed) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::RangeNotSatisfiable { size } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.insert_header((header::CONTENT_RANGE, value));
                }
            }
            Self::TooManyRequests { limit, retry_after_seconds, .. } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds)));
                response.extensions_mut().insert(*limit);
            }
            _ => {}
        }
        response.body(body)
    }
}

/// A log line written at most once a second, saying how many were left out in between: an outage
/// or an overload answers thousands of requests a second, and the log must stay readable.
struct OncePerSecond {
    second: std::sync::atomic::AtomicU64,
    skipped: std::sync::atomic::AtomicU64,
}

impl OncePerSecond {
    const fn new() -> Self {
        Self { second: std::sync::atomic::AtomicU64::new(0), skipped: std::sync::atomic::AtomicU64::new(0) }
    }

    /// `Some(lines left out since the last one)` when this line is to be written.
    fn take(&self) -> Option<u64> {
        use std::sync::atomic::Ordering::Relaxed;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let last = self.second.load(Relaxed);
        if last != now && self.second.compare_exchange(last, now, Relaxed, Relaxed).is_ok() {
            Some(self.skipped.swap(0, Relaxed))
        } else {
            self.skipped.fetch_add(1, Relaxed);
            None
        }
    }
}

static UNAVAILABLE_LOGGED: OncePerSecond = OncePerSecond::new();
static BUSY_LOGGED: OncePerSecond = OncePerSecond::new();

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => Self::NotFound("the requested resource does not exist".into()),
            // The constraint's name is an implementation detail: not for clients.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("a record with the same unique value was saved at the same time; retry".into())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Self::Unavailable(error.to_string()),
            DieselError::DatabaseError(_, info) if info.message().contains("database is locked") => {
                Self::Unavailable(error.to_string())
            }
            // SQLite interrupted by the time budget's progress handler (`db::budget`), or
            // PostgreSQL's `statement_timeout`.
            DieselError::DatabaseError(_, info)
                if info.message() == "interrupted" || info.message().contains("statement timeout") =>
            {
                Self::QueryTimeout(error.to_string())
            }
            // SQLITE_FULL, and PostgreSQL's disk_full (53100) as its message says it.
            DieselError::DatabaseError(_, info)
                if info.message().contains("database or disk is full")
                    || info.message().contains("No space left on device") =>
            {
                Self::StorageFull(error.to_string())
            }
            _ => Self::Internal(format!("database error: {error}")),
        }
    }
}

/// Collects every invalid field of a request before answering, so a client fixes them in one go.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` against `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.errors.push(FieldError { field: field.into(), message: message.into() });
        }
        self
    }

    /// Checks a length in characters (not bytes), after the caller's trimming.
    pub fn chars(&mut self, field: &str, value: &str, min: usize, max: usize) -> &mut Self {
        let len = value.chars().count();
        self.check(
            (min..=max).contains(&len),
            field,
            if min == 0 {
                format!("must be at most {max} characters")
            } else {
                format!("must be {min} to {max} characters")
            },
        )
    }

    /// For text that is trimmed before its own checks: its `maxLength` in the OpenAPI document counts
    /// the text as sent, so spaces around it count too. Reports only what the trimmed check will
    /// not (a text too long even trimmed is reported there, once).
    pub fn untrimmed_max(&mut self, field: &str, raw: Option<&str>, max: usize) -> &mut Self {
        let too_long = raw.is_some_and(|raw| raw.chars().count() > max && raw.trim().chars().count() <= max);
        self.check(!too_long, field, format!("must be at most {max} characters, counting the spaces around it"))
    }

    /// An absolute `http` or `https` URL of at most 2048 characters, without spaces.
    pub fn http_url(&mut self, field: &str, value: &str) -> &mut Self {
        self.check(is_http_url(value), field, "must be an absolute http(s) URL of at most 2048 characters")
    }

    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(std::mem::take(&mut self.errors))) }
    }
}

/// An absolute `http` or `https` URL of at most 2048 characters, with a host and no spaces.
pub fn is_http_url(value: &str) -> bool {
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    value.chars().count() <= 2048
        && rest.is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            // No bracketed (IPv6 literal) hosts: a stray bracket makes a URL that parsers refuse.
            !host.is_empty() && !host.contains(['[', ']']) && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}

/// Gives an RFC 9457 body to error responses that were produced without one (by actix itself:
/// a 405 of the docs route, a missing docs asset), so that every error a client sees is
/// `application/problem+json`.
pub fn problem_for_bare_errors<B>(
    response: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::middleware::ErrorHandlerResponse;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    let problem = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound("no route matches this path".into()).error_response(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed {
            allowed: allow.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("GET").to_string(),
        }
        .error_response(),
        s if s.is_server_error() => ApiError::Internal(format!("bare {s} from the framework")).error_response(),
        // Anything else keeps its status, as a plain problem (RFC 9457 `about:blank`).
        s => {
            let reason = s.canonical_reason().unwrap_or("Error");
            let body = Problem {
                problem_type: "about:blank".into(),
                title: reason.into(),
                status: s.as_u16(),
                detail: reason.to_lowercase(),
                errors: None,
                current_version: None,
            };
            HttpResponse::build(s)
                .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")))
                .body(serde_json::to_vec(&body).unwrap_or_default())
        }
    };
    let (request, _) = response.into_parts();
    Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(request, problem).map_into_right_body()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(message: &str) -> ApiError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string())).into()
    }

    /// What the databases say when they cancel or cannot write, as each backend words it.
    #[test]
    fn cancelled_and_full_databases_are_named_503s() {
        let cases = [
            ("interrupted", "query-timeout", "5"),
            ("canceling statement due to statement timeout", "query-timeout", "5"),
            ("database or disk is full", "storage-full", "60"),
            ("could not extend file \"base/16384/16385\": No space left on device", "storage-full", "60"),
        ];
        for (message, kind, retry_after) in cases {
            let response = database_error(message).error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{message}");
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), retry_after, "{message}");
            let problem = database_error(message).problem();
            assert_eq!(problem.problem_type, format!("urn:masthead:problem:{kind}"));
            assert!(!problem.detail.contains(message), "the cause is logged, not sent");
        }
        let busy = ApiError::Busy("no connection came free".into()).error_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let slow = ApiError::RequestTimeout("the body took too long".into()).error_response();
        assert_eq!(slow.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(slow.head().connection_type(), actix_web::http::ConnectionType::Close);
    }
}
