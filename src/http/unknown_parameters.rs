//! Query parameters that an operation does not take are refused with a 400 on every route, as the
//! lists' own parsers refuse theirs: a typo does not pass silently, and `?bust=N` on a public route
//! can neither make a new cache entry per request (3,000 such requests evicted a hot entry) nor
//! reach a handler. What each operation takes is read from the OpenAPI document, which the
//! handlers' own parameter types generate, so the two cannot disagree. Paths outside the
//! document (`/docs/…`, `/openapi.json`) are left to their own handlers.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::Error;
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::web;

use crate::error::ApiError;
use crate::http::openapi::MethodTable;

/// The middleware; add it inside the response cache: nothing refused is ever stored, so a hit
/// needs no check.
pub struct RefuseUnknownParameters;

impl<S, B> Transform<S, ServiceRequest> for RefuseUnknownParameters
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RefuseUnknownParametersService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RefuseUnknownParametersService { service }))
    }
}

pub struct RefuseUnknownParametersService<S> {
    service: S,
}

/// The first query parameter that the operation does not take, as a 400 problem.
fn unknown_parameter(req: &ServiceRequest) -> Option<ApiError> {
    let table = req.app_data::<web::Data<MethodTable>>()?;
    // The path as the router matches it (`/api/v1/%61rticles` is `/api/v1/articles`).
    let known = table.query_parameters(req.match_info().as_str(), req.method().as_str())?;
    let (name, _) =
        form_urlencoded::parse(req.query_string().as_bytes()).find(|(name, _)| !known.iter().any(|k| k == name))?;
    let takes = match known {
        [] => "this route takes none".to_string(),
        names => format!("this route takes {}", names.join(", ")),
    };
    Some(ApiError::BadRequest(format!("unknown query parameter `{name}`; {takes}")))
}

impl<S, B> Service<ServiceRequest> for RefuseUnknownParametersService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Checked<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if !req.query_string().is_empty()
            && let Some(error) = unknown_parameter(&req)
        {
            return Checked::Refused { response: Some(req.error_response(error).map_into_boxed_body()) };
        }
        Checked::Passed { inner: self.service.call(req) }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's answer, or the refusal: no box on either path.
    #[project = CheckedProjection]
    pub enum Checked<F> {
        Passed { #[pin] inner: F },
        Refused { response: Option<ServiceResponse<BoxBody>> },
    }
}

impl<F, B> Future for Checked<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CheckedProjection::Passed { inner } => inner.poll(cx).map_ok(ServiceResponse::map_into_left_body),
            CheckedProjection::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion").map_into_right_body()))
            }
        }
    }
}
