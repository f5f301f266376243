//! HEAD on every GET route, as RFC 9110 asks: link checkers, caches and `curl -I` get the GET's
//! status and headers (`ETag`, `Content-Length`, `Cache-Control`, a 304 for a matching
//! `If-None-Match`) without its body.
//!
//! A HEAD request is routed as the GET. The HTTP/1 encoder, which saw HEAD when it read the
//! request, writes the headers (with the GET body's length) and drops the body. A hand-written
//! middleware rather than `middleware::from_fn`, which would box two futures on every request.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::Method;

/// The middleware; add it outside the routes (and inside the request log, which logs HEAD).
pub struct HeadAsGet;

impl<S, B> Transform<S, ServiceRequest> for HeadAsGet
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = HeadAsGetService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(HeadAsGetService { service }))
    }
}

pub struct HeadAsGetService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for HeadAsGetService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        if req.method() == Method::HEAD {
            req.head_mut().method = Method::GET;
        }
        self.service.call(req)
    }
}
