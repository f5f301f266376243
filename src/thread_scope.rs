//! Values in scope on one thread for the length of a call: what `Db::run` sets around a request's
//! database work (its clock, how it writes media URLs, the node that names its commits), read deep
//! inside that work without being passed down to every function.

use std::cell::RefCell;
use std::thread::LocalKey;

/// A thread's slot for one such value; `None` outside any scope.
pub type Slot<T> = LocalKey<RefCell<Option<T>>>;

/// Runs `work` with `value` in `slot` on this thread, and puts back what was there before, even if
/// `work` panics: blocking threads are reused by other requests.
pub fn with<T: 'static, R>(slot: &'static Slot<T>, value: T, work: impl FnOnce() -> R) -> R {
    struct Restore<T: 'static>(&'static Slot<T>, Option<T>);
    impl<T: 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            let outer = self.1.take();
            self.0.with(|scope| *scope.borrow_mut() = outer);
        }
    }
    let outer = slot.with(|scope| scope.replace(Some(value)));
    let _restore = Restore(slot, outer);
    work()
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static SLOT: RefCell<Option<u32>> = const { RefCell::new(None) };
    }

    fn current() -> Option<u32> {
        SLOT.with(|slot| *slot.borrow())
    }

    #[test]
    fn scopes_nest_and_are_put_back_even_after_a_panic() {
        with(&SLOT, 1, || {
            assert_eq!(with(&SLOT, 2, current), Some(2));
            assert_eq!(current(), Some(1));
            let panicked = std::panic::catch_unwind(|| with(&SLOT, 3, || panic!("in scope")));
            assert!(panicked.is_err());
            assert_eq!(current(), Some(1));
        });
        assert_eq!(current(), None);
    }
}
