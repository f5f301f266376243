//! A few at a time, and a bounded wait for a turn: past it, a 503 `busy` rather than a queue
//! without end. For costly work a request may ask for (password hashes, image work).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Turns at some work; a turn ends when its permit is dropped.
pub struct Turns {
    slots: Arc<Semaphore>,
    wait: Duration,
    /// What a turn is, for the 503's log line ("password-hashing slot").
    what: &'static str,
}

impl Turns {
    pub fn new(at_once: usize, wait: Duration, what: &'static str) -> Self {
        Self { slots: Arc::new(Semaphore::new(at_once.max(1))), wait, what }
    }

    /// A turn, or `Busy` when none came free within the wait.
    pub async fn take(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        actix_web::rt::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Busy(format!("no {} came free within {} ms", self.what, self.wait.as_millis())))?
            .map_err(|closed| ApiError::Internal(format!("the {} turns are gone: {closed}", self.what)))
    }
}
