//! One log line per request (method, path, route template, status, latency, request id, the
//! caller's account), the request metrics (`metrics`), and what every response carries whatever
//! produced it: an `X-Request-Id` to quote in bug reports (the client's own, or the trace id of its
//! W3C `traceparent`, when well-formed) and the security headers (`security_headers`).
//!
//! Nothing secret reaches the log: never the query string (it may carry tokens), and the path of a
//! preview link (or anything shaped like a signed token) shows its route, not its token. A request
//! whose client went away before the answer is logged as such (status 499, as nginx says), not with
//! the status nobody received. At `MASTHEAD_LOG=warn` nothing is formatted at all.
//!
//! Every event logged while a request is served is inside its `request` span, which carries the
//! request id and, once the caller is known (`http::caller`), the account id.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

use crate::error::{CLIENT_CLOSED_REQUEST as CLIENT_CLOSED, Limit};
use crate::http::metrics::Metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id kept from a client.
const MAX_REQUEST_ID_CHARS: usize = 128;

/// The middleware; add it last so that it sees every response, errors included.
pub struct RequestLog {
    pub metrics: Option<Arc<Metrics>>,
    /// While the node drains before it stops, every answer closes its connection.
    pub draining: Arc<AtomicBool>,
}

/// The account of an authenticated caller, kept in the request's extensions for its log line.
#[derive(Clone, Copy)]
pub struct CallerAccount(pub i64);

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
        ready(Ok(RequestLogService { service, metrics: self.metrics.clone(), draining: self.draining.clone() }))
    }
}

pub struct RequestLogService<S> {
    service: S,
    metrics: Option<Arc<Metrics>>,
    draining: Arc<AtomicBool>,
}

/// Unique per process start (random prefix) and per request (counter): cheap and collision-free.
fn next_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| crate::random::hex_token(4));
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The client's `X-Request-Id` when it is one a log line and a header can carry as it is
/// (letters, digits and `-_.:`, at most 128), else the trace id of its well-formed `traceparent`,
/// so that one id follows a request through a proxy or a tracing system and into these logs;
/// otherwise a new one.
fn request_id(req: &ServiceRequest) -> String {
    let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| {
        (1..=MAX_REQUEST_ID_CHARS).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    });
    let traced = || req.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok()).and_then(trace_id);
    given.or_else(traced).map_or_else(next_request_id, str::to_owned)
}

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`): lower-case hex, not all
/// zeros, in a known version (`ff` is invalid; later versions may add fields after the flags).
fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let valid = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then_some(trace)
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

/// The line (and the metrics) of one request, written when it is answered, or when its client goes
/// away first.
struct Line {
    request_id: String,
    method: actix_web::http::Method,
    /// `None` when nothing is logged.
    path: Option<String>,
    route: Option<String>,
    started: Instant,
    status: Option<u16>,
    account: Option<i64>,
    refused: Option<Limit>,
    metrics: Option<Arc<Metrics>>,
}

impl Drop for Line {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let status = self.status.unwrap_or(CLIENT_CLOSED);
        self.log(status, elapsed);
        if let Some(metrics) = &self.metrics {
            // Last: the route moves into the metrics' label.
            metrics.request(self.route.take(), &self.method, status, elapsed);
            if let Some(limit) = self.refused {
                metrics.refused(limit);
            }
        }
    }
}

impl Line {
    fn log(&self, status: u16, elapsed: f64) {
        let Some(path) = &self.path else { return };
        // Milliseconds to two decimals, as a number for log collectors.
        let latency_ms = (elapsed * 100_000.0).round() / 100.0;
        let (request_id, method, route, account_id) = (&self.request_id, &self.method, &self.route, self.account);
        if status != CLIENT_CLOSED {
            tracing::info!(target: "masthead::http", %method, %path, route, status, latency_ms, %request_id, account_id);
        } else {
            tracing::info!(
                target: "masthead::http",
                %method,
                %path,
                route,
                status,
                latency_ms,
                %request_id,
                account_id,
                "the client closed the connection before the answer"
            );
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
        let draining = self.draining.clone();
        let logged = tracing::enabled!(target: "masthead::http", tracing::Level::INFO);
        if !logged && self.metrics.is_none() {
            let response = self.service.call(req);
            return Box::pin(async move { Ok(stamped(response.await?, &request_id, docs, &draining)) });
        }
        let mut line = Line {
            request_id: request_id.clone(),
            method: req.method().clone(),
            path: logged.then(|| loggable_path(&req)),
            route: req.match_pattern(),
            started: Instant::now(),
            status: None,
            account: None,
            refused: None,
            metrics: self.metrics.clone(),
        };
        let span = tracing::info_span!("request", request_id = %request_id, account_id = tracing::field::Empty);
        let response = span.in_scope(|| self.service.call(req));
        Box::pin(
            async move {
                // Dropped here unanswered when the client goes away: the line says so.
                let response = response.await;
                line.status = Some(match &response {
                    Ok(response) => {
                        line.account = response.request().extensions().get::<CallerAccount>().map(|caller| caller.0);
                        line.refused = response.response().extensions().get::<Limit>().copied();
                        response.status().as_u16()
                    }
                    Err(error) => error.as_response_error().status_code().as_u16(),
                });
                drop(line);
                Ok(stamped(response?, &request_id, docs, &draining))
            }
            .instrument(span),
        )
    }
}

fn stamped<B>(
    mut response: ServiceResponse<B>,
    request_id: &str,
    docs: bool,
    draining: &AtomicBool,
) -> ServiceResponse<B> {
    if draining.load(Ordering::Relaxed) {
        response.response_mut().head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    crate::http::security_headers::apply(headers, docs);
    response
}
