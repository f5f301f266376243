//! The application: the route table, the middleware around it, and the OpenAPI document it makes.
//! Nothing imports this module but the command line (and the tests, which drive exactly this app).

pub mod archive_files;
pub mod background;
pub mod demo;
pub mod health;
pub mod metrics;
pub mod server;
mod stopping;
pub mod token_commands;

use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, web};
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{self, ApiError};
use crate::http::state::AppState;
use crate::http::{cache, extract, head_requests, openapi, request_log, unknown_parameters};
use crate::{accounts, archive, articles, authors, comments, media, redirects, sitemap, tags, tokens, webhooks};

/// The route table: each resource registers its own routes, which also puts them in the OpenAPI
/// document.
pub fn configure_routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .configure(articles::routes::public)
            .configure(comments::routes::public)
            .configure(authors::routes::public)
            .configure(tags::routes::public)
            .configure(redirects::routes::public)
            .service(scope("/auth").configure(accounts::routes::configure))
            .service(
                scope("/admin")
                    .configure(articles::routes::editor)
                    .configure(comments::routes::editor)
                    .configure(tags::routes::editor)
                    .configure(authors::routes::editor)
                    .configure(tokens::routes::editor)
                    .configure(webhooks::routes::editor)
                    .configure(media::routes::editor)
                    .configure(redirects::routes::editor)
                    .configure(archive::routes::editor),
            ),
    )
    .configure(media::serving::public)
    .configure(sitemap::routes::public)
    .configure(health::configure);
}

/// The whole document, without building a server or touching a database.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut api) =
        App::new().into_utoipa_app().openapi(openapi::base()).configure(configure_routes).split_for_parts();
    openapi::complete(&mut api);
    api
}

/// The document as every worker serves it, made once per process: it does not depend on the
/// configuration, and each worker keeping a copy of its own cost about 4 MiB per worker.
struct SharedDocument {
    /// Compact JSON, for `GET /openapi.json`.
    json: web::Bytes,
    /// Which methods each path takes, for 405s and `Allow`.
    methods: Arc<openapi::MethodTable>,
}

fn shared_document() -> &'static SharedDocument {
    static DOCUMENT: OnceLock<SharedDocument> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let api = document();
        let json = serde_json::to_vec(&api).expect("the OpenAPI document serialises");
        SharedDocument { json: json.into(), methods: Arc::new(openapi::MethodTable::from_document(&api)) }
    })
}

/// The document as committed in `openapi/openapi.json`: pretty JSON and a final newline.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// The whole application: routes, docs, error handling, logging. Used by `serve` and the tests.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = state.config.max_body_bytes;
    let body_limits = state.body_limits.clone();
    let cors_origins = state.config.cors_origins.clone();
    let (metrics, draining) = (state.metrics.clone(), state.draining.clone());
    let (state_cache, state_db, flight_timeout) =
        (state.cache.clone(), state.db.clone(), state.config.db.acquire_timeout);
    // The routes; the document their registration makes is dropped here (see `shared_document`).
    let (app, _) = App::new().into_utoipa_app().configure(configure_routes).split_for_parts();
    let document = shared_document();
    // Captured by the default service, which does not see app data.
    let methods = document.methods.clone();
    let json = document.json.clone();
    let with_metrics = |cfg: &mut web::ServiceConfig| metrics::configure(cfg, &state);
    app.configure(with_metrics)
        .app_data(state.clone())
        .app_data(web::Data::from(methods.clone()))
        .app_data(web::PayloadConfig::new(max_body))
        .app_data(body_limits)
        .app_data(extract::path_config())
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new(["/openapi.json"])))
        .route(
            "/openapi.json",
            web::get().to(move || {
                let json = json.clone();
                async move { HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(json) }
            }),
        )
        .service(
            web::resource("/docs")
                .get(|| async { HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish() }),
        )
        .default_service(web::to(move |req: actix_web::HttpRequest| no_route(req, methods.clone())))
        .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(error::problem_for_bare_errors))
        // Inside the cache: a hit is a key already checked (a refusal is never stored), so hits
        // skip the check; a key with an unknown parameter is always a miss, and refused.
        .wrap(unknown_parameters::RefuseUnknownParameters)
        .wrap(cache::PublicCache { cache: state_cache, db: state_db, flight_timeout })
        .wrap(actix_web::middleware::Condition::new(!cors_origins.is_empty(), cors(&cors_origins)))
        .wrap(actix_web::middleware::Compress::default())
        .wrap(head_requests::HeadAsGet)
        .wrap(request_log::RequestLog { metrics, draining })
}

/// Browsers on the configured front-end origins may call every route, send the headers the API
/// reads and read the headers it answers with. Without origins the middleware is not used at all.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, header::IF_NONE_MATCH])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::LOCATION,
            header::RETRY_AFTER,
            header::LAST_MODIFIED,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600)
}

/// What answers when no route matched: 405 with `Allow` when the path exists with other methods
/// (known from the route table's OpenAPI document), else 404.
async fn no_route(req: actix_web::HttpRequest, methods: Arc<openapi::MethodTable>) -> Result<HttpResponse, ApiError> {
    match methods.allowed(req.path()) {
        Some(allowed) => Err(ApiError::MethodNotAllowed { allowed }),
        None => Err(ApiError::NotFound("no route matches this path".into())),
    }
}
