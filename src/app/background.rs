//! The work every serving node does besides answering requests: announcing scheduled
//! publications whose time came, and sending webhook deliveries. Both are claimed through the
//! database, so several nodes share them without doing anything twice.

use std::rc::Rc;
use std::time::Instant;

use crate::articles::store::announcements;
use crate::http::state::AppState;
use crate::webhooks::dispatcher::{Dispatcher, QuietWarnings};

/// Starts the background loop on the current runtime; it runs as long as that does.
pub fn spawn(state: &AppState) -> Result<(), String> {
    if let Some(metrics) = state.metrics.clone() {
        // Request latencies wait in the recorder until folded into their buckets: without
        // this, a node nobody scrapes would keep every one of them.
        actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(crate::http::metrics::UPKEEP_INTERVAL).await;
                metrics.upkeep();
            }
        });
    }
    let dispatcher = Rc::new(Dispatcher::new(state.db.clone(), state.config.webhooks)?);
    let db = state.db.clone();
    let poll = state.config.webhooks.poll_interval;
    actix_web::rt::spawn(async move {
        let mut swept_at: Option<Instant> = None;
        let warnings = QuietWarnings::default();
        loop {
            if swept_at.is_none_or(|at| at.elapsed() >= poll) {
                swept_at = Some(Instant::now());
                // A full batch may leave more (many came due while no node ran): go on at once.
                loop {
                    match db.run(announcements::announce_due).await {
                        Ok(0) => break,
                        Ok(count) => {
                            tracing::info!(count, "scheduled publications announced");
                            if count < announcements::DUE_BATCH {
                                break;
                            }
                        }
                        Err(error) => {
                            if let Some(suppressed) = warnings.allow() {
                                tracing::warn!(%error, suppressed, "cannot announce scheduled publications");
                            }
                            break;
                        }
                    }
                }
            }
            if !dispatcher.dispatch_due().await {
                dispatcher.wait().await;
            }
        }
    });
    Ok(())
}
