//! One worker per key: when many requests need the same thing made at once (a cold cache's
//! response, an image variant nobody asked for yet), the first makes it and the others wait for
//! it instead of making it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

/// The lines of requests waiting to make a key, each forgotten once nobody holds or waits for it.
#[derive(Debug, Default)]
pub struct SingleFlight {
    lines: Mutex<HashMap<String, Arc<tokio::sync::Mutex<bool>>>>,
}

impl SingleFlight {
    /// A place in `key`'s line, however the request holding it ends (its client may go away while
    /// it waits).
    pub fn join(self: &Arc<Self>, key: &str) -> Place {
        let mut lines = self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let lock = lines.entry(key.to_string()).or_default().clone();
        Place { flights: self.clone(), key: key.to_string(), lock: Some(lock) }
    }

    /// No line is open (nothing being made, nobody waiting).
    pub fn is_idle(&self) -> bool {
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).is_empty()
    }
}

/// A request's place in one key's line.
pub struct Place {
    flights: Arc<SingleFlight>,
    key: String,
    lock: Option<Arc<tokio::sync::Mutex<bool>>>,
}

impl Place {
    /// Waits for the turn to make it, at most `patience`. The flag in the guard is for the maker
    /// to leave a word to those after it (say, "made, but not kept").
    pub async fn turn(&self, patience: Duration) -> Option<OwnedMutexGuard<bool>> {
        let lock = self.lock.clone()?;
        actix_web::rt::time::timeout(patience, lock.lock_owned()).await.ok()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut lines = self.flights.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        drop(self.lock.take());
        if lines.get(&self.key).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            lines.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request that leaves while it waits for its turn (its client went away) leaves nothing
    /// behind in the line.
    #[actix_web::test]
    async fn the_line_for_a_key_is_forgotten_however_its_requests_end() {
        let flights = Arc::new(SingleFlight::default());
        let first = flights.join("/a");
        let turn = first.turn(Duration::from_secs(1)).await.expect("the first turn is free");
        let second = flights.join("/a");
        assert!(second.turn(Duration::from_millis(10)).await.is_none(), "the first still holds it");
        drop(second);
        drop((turn, first));
        assert!(flights.is_idle());
    }
}
