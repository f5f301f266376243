//! `GET /metrics`: on the API's address for callers with `MASTHEAD_METRICS_TOKEN`, or on a
//! listener of its own at `MASTHEAD_METRICS_ADDR`; with neither, the path is a 404 like any other
//! unknown one. Not in the OpenAPI document: it is for operators, and exists only when configured.

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{self, ApiError};
use crate::http::caller::bearer_token;
use crate::http::metrics::Readings;
use crate::http::state::AppState;
use crate::{comments, webhooks};

/// The Prometheus text format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Adds `/metrics` to the API when a token is configured.
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    if state.config.operations.metrics.token.is_some() {
        cfg.service(web::resource("/metrics").route(web::get().to(with_token)));
    }
}

async fn with_token(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(expected) = &state.config.operations.metrics.token else {
        return Err(ApiError::NotFound("no route matches this path".into()));
    };
    let given = bearer_token(&req)?;
    // Digests (of equal length whatever was sent), compared in constant time.
    let matches: bool = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.expose().as_bytes())).into();
    if !matches {
        return Err(ApiError::Unauthorized("the metrics token is wrong".into()));
    }
    scrape(&state).await
}

async fn open(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> Result<HttpResponse, ApiError> {
    let metrics = state.metrics.as_ref().ok_or_else(|| ApiError::NotFound("no route matches this path".into()))?;
    // A database that does not answer leaves these unknown (NaN), not the whole scrape failed.
    let queues = state
        .db
        .run(|conn| Ok((comments::store::awaiting_moderation(conn)?, webhooks::store::pending_deliveries(conn)?)))
        .await
        .inspect_err(|error| tracing::debug!(%error, "the metrics' database counts are unknown"))
        .ok();
    let readings = Readings {
        pool: state.db.pool_usage(),
        cache: state.cache.stats(),
        comments_awaiting_moderation: queues.map(|(comments, _)| comments),
        webhook_deliveries_pending: queues.map(|(_, deliveries)| deliveries),
        media_jobs: state.media.image_workers.load(),
        process: crate::os::process_stats(),
    };
    Ok(HttpResponse::Ok()
        .content_type(TEXT_FORMAT)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(metrics.render(&readings)))
}

/// The listener of `MASTHEAD_METRICS_ADDR`: `/metrics` for whoever reaches it, and nothing else.
/// One worker; it stops with the API (`stopping`), not on signals of its own.
pub fn server(
    state: web::Data<AppState>,
    addr: std::net::SocketAddr,
) -> Result<(actix_web::dev::Server, Vec<std::net::SocketAddr>), String> {
    let state_grace = state.config.operations.shutdown.grace.as_secs();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(open))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::NotFound("this listener serves only /metrics".into()))
            }))
            .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(error::problem_for_bare_errors))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(state_grace)
    .bind(addr)
    .map_err(|e| format!("cannot listen on {addr} (MASTHEAD_METRICS_ADDR): {e}"))?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}
