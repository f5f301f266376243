//! A few at a time, and a bounded wait for a turn: past it, a 503 `busy` rather than a queue
//! without end. For costly work a request may ask for (password hashes, image work).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Turns at some work; a turn ends when its permit is dropped.
pub struct Turns {
    slots: Arc<Semaphore>,
    at_once: usize,
    /// Callers waiting for a turn now (for the metrics).
    waiting: AtomicUsize,
    wait: Duration,
    /// What a turn is, for the 503's log line ("password-hashing slot").
    what: &'static str,
}

impl Turns {
    pub fn new(at_once: usize, wait: Duration, what: &'static str) -> Self {
        let at_once = at_once.max(1);
        Self { slots: Arc::new(Semaphore::new(at_once)), at_once, waiting: AtomicUsize::new(0), wait, what }
    }

    /// Turns taken now, and callers waiting for one.
    pub fn load(&self) -> (usize, usize) {
        (self.at_once - self.slots.available_permits(), self.waiting.load(Ordering::Relaxed))
    }

    /// A turn, or `Busy` when none came free within the wait.
    pub async fn take(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::count(&self.waiting);
        actix_web::rt::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Busy(format!("no {} came free within {} ms", self.what, self.wait.as_millis())))?
            .map_err(|closed| ApiError::Internal(format!("the {} turns are gone: {closed}", self.what)))
    }
}

/// One caller counted as waiting until it stops waiting, however that ends (its client may leave).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
