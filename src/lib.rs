//! Masthead: a headless CMS served as a JSON API, on SQLite or PostgreSQL.
//!
//! This library builds the whole application so that `main.rs` stays a thin command line and the
//! tests drive exactly the app that production runs ([`build_app`]).

pub mod articles;
pub mod auth;
pub mod authors;
pub mod body;
pub mod cache;
pub mod comments;
pub mod config;
pub mod db;
pub mod demo;
pub mod email;
pub mod error;
pub mod extract;
pub mod markdown;
pub mod openapi;
pub mod ops;
pub mod optional_fields;
pub mod os;
pub mod pagination;
pub mod random;
pub mod responses;
pub mod schema;
pub mod settings;
pub mod slugs;
pub mod tags;

mod head_requests;
mod request_log;
mod security_headers;
mod unknown_parameters;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;

/// What every request handler can reach.
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    /// A hash to verify against when an e-mail is unknown, so a login takes as long either way.
    pub dummy_password_hash: String,
    /// Password hashing for requests, a few at a time (see `auth::password::Hashing`).
    pub passwords: auth::password::Hashing,
    /// Signs and checks draft preview links.
    pub previews: articles::preview::PreviewSigner,
    /// Public responses already made (see `cache`).
    pub cache: Arc<cache::ResponseCache>,
    /// `Cache-Control` of public responses, built once from the configuration.
    pub public_cache_control: actix_web::http::header::HeaderValue,
    /// The base of absolute links (`Config::public_base`): configured, never from a request.
    pub public_base: String,
    /// The bounds of request bodies, with their memory budget shared by every worker.
    pub body_limits: body::BodyLimits,
}

impl AppState {
    /// Builds the state from a configuration whose JWT secret is resolved.
    pub fn new(config: Config, db: Db) -> Result<Self, String> {
        let secret = config.jwt_secret.clone().ok_or("the JWT secret is not configured")?;
        let jwt = JwtKeys::new(&secret, config.access_ttl);
        let previews = articles::preview::PreviewSigner::new(&secret);
        let dummy_password_hash = auth::password::hash_password(&random::hex_token(16), &config.password_hashing)?;
        let public_cache_control = config.public_cache.header_value();
        let cache = Arc::new(cache::ResponseCache::new(config.cache_bytes));
        if cache.enabled() {
            let observer: Arc<dyn db::ChangeObserver> = cache.clone();
            db.observe(Arc::downgrade(&observer));
        }
        db.watch();
        let public_base = config.public_base();
        let body_limits = body::BodyLimits::new(config.max_body_bytes, config.body_timeout, config.trust_proxy);
        let passwords = auth::password::Hashing::new(
            config.password_hashing,
            config.password_hash_concurrency,
            config.db.acquire_timeout,
        );
        Ok(Self {
            db,
            config: Arc::new(config),
            jwt,
            previews,
            dummy_password_hash,
            passwords,
            cache,
            public_cache_control,
            public_base,
            body_limits,
        })
    }
}

/// The route table: every route is registered here with `.service()`, which is also what puts it
/// in the OpenAPI document.
pub fn configure_routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .service(articles::routes::list_articles)
            .service(articles::routes::get_article)
            .service(articles::routes::related_articles)
            .service(comments::routes::list_comments)
            .service(comments::routes::post_comment)
            .service(articles::feed::feed)
            .service(articles::preview::get_preview)
            .service(authors::routes::list_authors)
            .service(authors::routes::get_author)
            .service(tags::routes::list_tags)
            .service(tags::routes::get_tag)
            .service(
                scope("/auth")
                    .service(auth::routes::login)
                    .service(auth::routes::refresh)
                    .service(auth::routes::logout)
                    .service(auth::routes::me)
                    .service(auth::routes::update_me)
                    .service(auth::routes::change_password),
            )
            .service(
                scope("/admin")
                    .service(articles::routes::admin_list_articles)
                    .service(articles::routes::admin_create_article)
                    .service(articles::routes::admin_get_article)
                    .service(articles::routes::admin_update_article)
                    .service(articles::routes::admin_delete_article)
                    .service(articles::routes::admin_publish_article)
                    .service(articles::routes::admin_unpublish_article)
                    .service(articles::routes::admin_restore_article)
                    .service(articles::routes::admin_list_revisions)
                    .service(articles::routes::admin_get_revision)
                    .service(articles::routes::admin_restore_revision)
                    .service(articles::preview::create_preview)
                    .service(comments::routes::admin_list_comments)
                    .service(comments::routes::admin_moderate_comments)
                    .service(comments::routes::admin_moderate_comment)
                    .service(comments::routes::admin_delete_comment)
                    .service(tags::routes::admin_list_tags)
                    .service(tags::routes::admin_create_tag)
                    .service(tags::routes::admin_get_tag)
                    .service(tags::routes::admin_update_tag)
                    .service(tags::routes::admin_delete_tag)
                    .service(authors::routes::admin_list_authors)
                    .service(authors::routes::admin_create_author)
                    .service(authors::routes::admin_get_author)
                    .service(authors::routes::admin_update_author)
                    .service(authors::routes::admin_delete_author),
            ),
    )
    .service(ops::healthz)
    .service(ops::readyz);
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
    let (app, mut api) =
        App::new().into_utoipa_app().openapi(openapi::base()).configure(configure_routes).split_for_parts();
    openapi::complete(&mut api);
    // Captured by the default service, which does not see app data.
    let methods = Arc::new(openapi::MethodTable::from_document(&api));
    app.app_data(state)
        .app_data(web::Data::from(methods.clone()))
        .app_data(web::PayloadConfig::new(max_body))
        .app_data(body_limits)
        .app_data(extract::path_config())
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
        .service(
            web::resource("/docs")
                .get(|| async { HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish() }),
        )
        .default_service(web::to(move |req: actix_web::HttpRequest| no_route(req, methods.clone())))
        .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(error::problem_for_bare_errors))
        // Inside the cache: a hit is a key already checked (a refusal is never stored), so hits
        // skip the check; a key with an unknown parameter is always a miss, and refused.
        .wrap(unknown_parameters::RefuseUnknownParameters)
        .wrap(cache::PublicCache)
        .wrap(actix_web::middleware::Condition::new(!cors_origins.is_empty(), cors(&cors_origins)))
        .wrap(actix_web::middleware::Compress::default())
        .wrap(head_requests::HeadAsGet)
        .wrap(request_log::RequestLog)
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

/// Runs CPU-bound work (rendering Markdown, hashing passwords) on the blocking pool, without
/// holding a database connection while it runs.
pub async fn cpu_bound<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    web::block(work).await.map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}

/// Opens the database (migrating it), then serves until stopped.
pub async fn serve(mut config: Config) -> Result<(), String> {
    config.resolve_jwt_secret().map_err(|e| e.to_string())?;
    os::return_large_allocations();
    let addr = config.addr;
    if config.public_url.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            base = %config.public_base(),
            "MASTHEAD_PUBLIC_URL is not set: feed and preview links use the listen address; set it to the API's public address"
        );
    }
    let db = Db::open(&config.database_url, config.db).map_err(|e| e.to_string())?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let connections = os::raise_open_file_limit(config.db.pool_size.into());
    let connections = config.max_connections.map_or(connections as usize, |n| n).max(workers);
    let state = web::Data::new(AppState::new(config, db)?);
    let (server, _) = http_server(state, addr, ServerShape { workers, max_connections: connections, signals: true })?;
    tracing::info!(%addr, max_connections = connections, "Masthead is listening; API docs at http://{addr}/docs/");
    server.await.map_err(|e| format!("server error: {e}"))
}

/// How many workers serve, how many connections they hold at most, and whether the server stops on
/// SIGINT and SIGTERM (not inside a test process).
pub struct ServerShape {
    pub workers: usize,
    pub max_connections: usize,
    pub signals: bool,
}

/// The HTTP server over [`build_app`], bound to `addr` (its addresses once bound), with the bounds
/// on what clients may hold: used by `serve` and by the tests' loopback listener, so that both
/// run the same server.
pub fn http_server(
    state: web::Data<AppState>,
    addr: std::net::SocketAddr,
    shape: ServerShape,
) -> Result<(actix_web::dev::Server, Vec<std::net::SocketAddr>), String> {
    // Blocking work is mostly database work, which never has more tasks than the pool has
    // connections (`Db::run` waits for one first), plus password hashes and Markdown rendering:
    // each worker gets that many blocking threads rather than actix's default of 512 / workers.
    // Fewer threads also means fewer malloc arenas, which was most of the resident memory under
    // load (about 120 MiB instead of 35 on SQLite without the cache).
    let blocking_threads = state.config.db.pool_size as usize + state.config.password_hash_concurrency + 2;
    // Request heads must arrive promptly too (bodies have `MASTHEAD_BODY_TIMEOUT_MS`).
    let head_timeout = state.config.body_timeout.min(std::time::Duration::from_secs(5));
    let mut server = HttpServer::new(move || build_app(state.clone()))
        .workers(shape.workers)
        .worker_max_blocking_threads(blocking_threads)
        .max_connections(shape.max_connections.div_ceil(shape.workers))
        .client_request_timeout(head_timeout)
        // A client that closes its side is gone: stop working for it, and log it as such.
        .h1_allow_half_closed(false);
    if !shape.signals {
        server = server.disable_signals();
    }
    let server = server.bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}
