//! The time Masthead runs on: the system's, or in tests a clock they move forward (schedules,
//! windows, expiries) instead of sleeping. Each `Db` holds one, and puts it in scope around the
//! database work of a request (`Db::run`), so that stores read it through `db::now()` without
//! passing it down every call.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The system clock, plus however far a test moved it (never, in production).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    ahead_micros: Arc<AtomicI64>,
}

thread_local! {
    static IN_SCOPE: RefCell<Option<Clock>> = const { RefCell::new(None) };
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::microseconds(self.ahead_micros.load(Ordering::SeqCst))
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        self.ahead_micros.fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    /// Runs `work` with this clock as the one [`now`] reads on this thread.
    pub fn in_scope<T>(&self, work: impl FnOnce() -> T) -> T {
        crate::thread_scope::with(&IN_SCOPE, self.clone(), work)
    }
}

/// Now, by the clock in scope on this thread ([`Clock::in_scope`]), else by the system's.
pub fn now() -> DateTime<Utc> {
    IN_SCOPE.with(|scope| scope.borrow().as_ref().map_or_else(Utc::now, Clock::now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_is_read_only_where_it_is_in_scope() {
        let clock = Clock::default();
        clock.advance(Duration::days(2));
        let system = Utc::now();
        let moved = clock.in_scope(now);
        assert!(moved - system >= Duration::days(2) && moved - system < Duration::days(2) + Duration::minutes(1));
        assert!(now() - system < Duration::minutes(1), "outside its scope the system clock counts");
    }
}
