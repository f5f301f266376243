//! How busy the connection pool is, for the metrics.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Db;
use crate::error::ApiError;

/// Counts of requests that found every connection taken.
#[derive(Default)]
pub(super) struct PoolWaits {
    /// Waited for a connection at all.
    pub(super) waited: AtomicU64,
    /// Waited for as long as they may, then were refused (503 `busy`).
    timeouts: AtomicU64,
}

impl PoolWaits {
    pub(super) fn timed_out(&self, detail: String) -> ApiError {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
        ApiError::Busy(detail)
    }
}

/// The pool as the metrics show it.
pub struct PoolUsage {
    /// Connections requests may hold at once (`MASTHEAD_DB_POOL_SIZE`).
    pub size: u32,
    /// Held by requests now.
    pub in_use: u32,
    /// Open now, in use or idle.
    pub open: u32,
    /// Since start: requests that waited for a connection, and those that gave up waiting.
    pub waits: u64,
    pub timeouts: u64,
}

impl Db {
    pub fn pool_usage(&self) -> PoolUsage {
        let size = self.settings.pool_size;
        PoolUsage {
            size,
            in_use: size.saturating_sub(self.slots.available_permits() as u32),
            open: self.pool.state().connections,
            waits: self.waits.waited.load(Ordering::Relaxed),
            timeouts: self.waits.timeouts.load(Ordering::Relaxed),
        }
    }
}
