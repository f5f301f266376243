//! Stopping on a signal. SIGTERM (an orchestrator's stop) drains for `shutdown.drain` — still
//! serving, with `/readyz` at 503 and every answer closing its connection, so that load balancers
//! and keep-alive clients move elsewhere instead of sending a request on a connection about to
//! close — then every listener stops accepting, closes its idle connections and gives requests in
//! progress `shutdown.grace`. SIGINT (Ctrl-C) skips the drain; a second signal stops at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::ServerHandle;
use actix_web::rt::signal::unix::{SignalKind, signal};

use crate::config::Shutdown;

pub async fn stop_on_signal(servers: Vec<ServerHandle>, draining: Arc<AtomicBool>, shutdown: Shutdown) {
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        tracing::error!("cannot listen for SIGTERM and SIGINT: they will stop the server at once, without draining");
        return;
    };
    let drain = tokio::select! {
        _ = terminate.recv() => shutdown.drain,
        _ = interrupt.recv() => std::time::Duration::ZERO,
    };
    draining.store(true, Ordering::SeqCst);
    let again = async {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    };
    tokio::pin!(again);
    if !drain.is_zero() {
        let drain_ms = drain.as_millis() as u64;
        tracing::info!(drain_ms, "stopping: draining (/readyz answers 503; answers close their connections)");
        tokio::select! {
            _ = actix_web::rt::time::sleep(drain) => {}
            _ = &mut again => return stop_now(&servers).await,
        }
    }
    let grace_seconds = shutdown.grace.as_secs();
    tracing::info!(grace_seconds, "stopping: no new connections; finishing requests in progress");
    tokio::select! {
        _ = futures_util::future::join_all(servers.iter().map(|server| server.stop(true))) => {}
        _ = &mut again => stop_now(&servers).await,
    }
}

async fn stop_now(servers: &[ServerHandle]) {
    tracing::warn!("stopping now: a second signal; requests in progress are cut off");
    futures_util::future::join_all(servers.iter().map(|server| server.stop(false))).await;
}
