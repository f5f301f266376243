//! Serving: the HTTP server over the application, with the bounds on what clients may hold.

use actix_web::{HttpServer, web};

use super::build_app;
use crate::config::Config;
use crate::db::Db;
use crate::http::state::AppState;
use crate::os;

/// Opens the database (migrating it), then serves until stopped.
pub async fn serve(mut config: Config) -> Result<(), String> {
    config.resolve_jwt_secret().map_err(|e| e.to_string())?;
    os::tune_allocator();
    let addr = config.addr;
    if config.public_url.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            base = %config.public_base(),
            "MASTHEAD_PUBLIC_URL is not set: feed and preview links use the listen address; set it to the API's public address"
        );
    }
    let db = Db::open(&config.database_url, config.db).map_err(|e| e.to_string())?;
    let workers = config.operations.workers;
    let connections = os::raise_open_file_limit(config.db.pool_size.into());
    let connections = config.max_connections.map_or(connections as usize, |n| n).max(workers);
    let state = web::Data::new(AppState::new(config, db)?);
    // Health probes, readiness and other nodes' writes; started once the response cache listens,
    // or it would miss the watcher's first news and stay off.
    state.db.watch();
    super::background::spawn(&state)?;
    let mut servers = Vec::new();
    if let Some(metrics_addr) = state.config.operations.metrics.addr {
        let (server, _) = super::metrics::server(state.clone(), metrics_addr)?;
        tracing::info!(addr = %metrics_addr, "metrics are served at http://{metrics_addr}/metrics");
        servers.push(server.handle());
        actix_web::rt::spawn(server);
    }
    let shutdown = state.config.operations.shutdown;
    let draining = state.draining.clone();
    let (server, _) = http_server(state, addr, ServerShape { workers, max_connections: connections })?;
    servers.push(server.handle());
    actix_web::rt::spawn(super::stopping::stop_on_signal(servers, draining, shutdown));
    tracing::info!(%addr, max_connections = connections, "Masthead is listening; API docs at http://{addr}/docs/");
    let served = server.await.map_err(|e| format!("server error: {e}"));
    // Background work (the database watcher, webhook deliveries) ends with the process: a delivery
    // cut short is leased, and another node (or this one, restarted) sends it again.
    tracing::info!("stopped");
    served
}

/// How many workers serve, and how many connections they hold at most.
pub struct ServerShape {
    pub workers: usize,
    pub max_connections: usize,
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
    let state_grace = state.config.operations.shutdown.grace.as_secs();
    let server = HttpServer::new(move || build_app(state.clone()))
        // As nginx does on keep-alive connections: a response written in pieces (a streamed media
        // file's headers, then its chunks) must not wait for the client's delayed ACK (40 ms).
        .tcp_nodelay(true)
        .workers(shape.workers)
        .worker_max_blocking_threads(blocking_threads)
        .max_connections(shape.max_connections.div_ceil(shape.workers))
        .client_request_timeout(head_timeout)
        // A client that closes its side is gone: stop working for it, and log it as such.
        .h1_allow_half_closed(false)
        // Stopping is `serve`'s (`stop_on_signal`), after a drain.
        .disable_signals()
        .shutdown_timeout(state_grace);
    let server = server.bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}
