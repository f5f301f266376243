//! One log line per request (method, path, status, latency, request id), and what every response
//! carries whatever produced it: an `X-Request-Id` to quote in bug reports (the client's own, when
//! it sent a well-formed one) and the security headers (`security_headers`).
//!
//! Nothing secret reaches the log: never the query string (it may carry tokens), and the path of a
//! preview link (or anything shaped like a signed token) shows its route, not its token. A request
//! whose client went away before the answer is logged as such (status 499, as nginx says), not with
//! the status nobody received. At `MASTHEAD_LOG=warn` nothing is formatted at all.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing::Instrument;

use crate::error::CLIENT_CLOSED_REQUEST as CLIENT_CLOSED;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id kept from a client.
const MAX_REQUEST_ID_CHARS: usize = 128;

/// The middleware; add it last so that it sees every response, errors included.
pub struct RequestLog;

impl<S, B> Transform<S, ServiceRequest> for RequestLog
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestLogService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestLogService { service }))
    }
}

pub struct RequestLogService<S> {
    service: S,
}

/// Unique per process start (random prefix) and per request (counter): cheap and collision-free.
fn next_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| crate::random::hex_token(4));
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The client's `X-Request-Id` when it is one a log line and a header can carry as it is
/// (letters, digits and `-_.:`, at most 128), so that one id follows a request through a proxy
/// and into these logs; otherwise a new one.
fn request_id(req: &ServiceRequest) -> String {
    let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| {
        (1..=MAX_REQUEST_ID_CHARS).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    });
    given.map_or_else(next_request_id, str::to_owned)
}

/// The path as logged: a route with a secret in its path (a preview link's token) shows the route
/// instead, and any segment shaped like a signed token (three dot-separated base64url parts) or an
/// integration token (`mh_…`) is replaced, on unknown paths too.
fn loggable_path(req: &ServiceRequest) -> String {
    if let Some(route) = req.match_pattern().filter(|route| route.contains("{token}")) {
        return route;
    }
    let path = req.path();
    if !path.split('/').any(looks_like_a_token) {
        return path.to_owned();
    }
    path.split('/')
        .map(|segment| if looks_like_a_token(segment) { "{redacted}" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

fn looks_like_a_token(segment: &str) -> bool {
    segment.starts_with(crate::auth::integration_tokens::PREFIX) && segment.len() > 30
        || looks_like_a_signed_token(segment)
}

fn looks_like_a_signed_token(segment: &str) -> bool {
    segment.len() > 30
        && segment.split('.').count() == 3
        && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'%'))
}

/// The line of one request, written when it is answered, or when its client goes away first.
struct Line {
    request_id: String,
    method: actix_web::http::Method,
    path: String,
    started: Instant,
    status: Option<u16>,
}

impl Drop for Line {
    fn drop(&mut self) {
        let latency_ms = format_args!("{:.2}", self.started.elapsed().as_secs_f64() * 1000.0);
        let (request_id, method, path) = (&self.request_id, &self.method, &self.path);
        match self.status.filter(|status| *status != CLIENT_CLOSED) {
            Some(status) => tracing::info!(target: "masthead::http", %method, %path, status, latency_ms, %request_id),
            None => tracing::info!(
                target: "masthead::http",
                %method,
                %path,
                status = CLIENT_CLOSED,
                latency_ms,
                %request_id,
                "the client closed the connection before the answer"
            ),
        }
    }
}

impl<S, B> Service<ServiceRequest> for RequestLogService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let request_id = request_id(&req);
        let docs = crate::http::security_headers::is_docs(req.path());
        if !tracing::enabled!(target: "masthead::http", tracing::Level::INFO) {
            let response = self.service.call(req);
            return Box::pin(async move { Ok(stamped(response.await?, &request_id, docs)) });
        }
        let mut line = Line {
            request_id: request_id.clone(),
            method: req.method().clone(),
            path: loggable_path(&req),
            started: Instant::now(),
            status: None,
        };
        let span = tracing::info_span!("request", id = %request_id);
        let response = span.in_scope(|| self.service.call(req));
        Box::pin(
            async move {
                // Dropped here unanswered when the client goes away: the line says so.
                let response = response.await;
                line.status = Some(match &response {
                    Ok(response) => response.status().as_u16(),
                    Err(error) => error.as_response_error().status_code().as_u16(),
                });
                drop(line);
                Ok(stamped(response?, &request_id, docs))
            }
            .instrument(span),
        )
    }
}

fn stamped<B>(mut response: ServiceResponse<B>, request_id: &str, docs: bool) -> ServiceResponse<B> {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    crate::http::security_headers::apply(headers, docs);
    response
}
