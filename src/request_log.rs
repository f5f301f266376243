//! One log line per request (method, path, status, latency, request id) and an `X-Request-Id`
//! header to quote in bug reports. The query string is never logged: it may carry tokens.
//! At `MASTHEAD_LOG=warn` nothing is formatted at all.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing::Instrument;

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
    let prefix = PREFIX.get_or_init(|| crate::auth::random_token(4));
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
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
        let request_id = next_request_id();
        if !tracing::enabled!(target: "masthead::http", tracing::Level::INFO) {
            let response = self.service.call(req);
            return Box::pin(async move { with_request_id(response.await?, &request_id) });
        }
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.path().to_owned();
        let span = tracing::info_span!("request", id = %request_id);
        let response = span.in_scope(|| self.service.call(req));
        Box::pin(
            async move {
                let response = response.await?;
                tracing::info!(
                    target: "masthead::http",
                    %method,
                    %path,
                    status = response.status().as_u16(),
                    latency_ms = format_args!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
                );
                with_request_id(response, &request_id)
            }
            .instrument(span),
        )
    }
}

fn with_request_id<B>(mut response: ServiceResponse<B>, request_id: &str) -> Result<ServiceResponse<B>, Error> {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}
