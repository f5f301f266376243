//! A few threads of low priority for heavy CPU work (image decoding and encoding), so that it
//! takes the cores only when requests leave them idle: on a small machine, four large uploads at
//! once must not starve the readers. The threads are started on first use and end with the pool.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// The pool; `threads` jobs run at once, the others wait in its queue.
pub struct LowPriorityPool {
    threads: usize,
    name: &'static str,
    queue: OnceLock<Mutex<Sender<Job>>>,
}

impl LowPriorityPool {
    pub fn new(threads: usize, name: &'static str) -> Self {
        Self { threads: threads.max(1), name, queue: OnceLock::new() }
    }

    fn sender(&self) -> Result<Sender<Job>, ApiError> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            for index in 0..self.threads {
                let receiver = receiver.clone();
                let spawned =
                    std::thread::Builder::new().name(format!("{}-{index}", self.name)).spawn(move || work(&receiver));
                if let Err(error) = spawned {
                    tracing::error!(%error, pool = self.name, "cannot start a worker thread");
                }
            }
            Mutex::new(sender)
        });
        Ok(queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone())
    }

    /// Runs `job` on one of the pool's threads and waits for its result. A panic in it is a 500,
    /// and the thread goes on with the next job.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            let _ = done.send(outcome);
        });
        self.sender()?.send(job).map_err(|_| ApiError::Internal(format!("the {} threads are gone", self.name)))?;
        match result.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(ApiError::Internal(format!("a {} job panicked", self.name))),
            Err(_) => Err(ApiError::Internal(format!("a {} job was dropped", self.name))),
        }
    }
}

/// A worker thread: lowest priority, then jobs until the pool is gone.
fn work(receiver: &Mutex<Receiver<Job>>) {
    crate::os::lower_this_threads_priority();
    loop {
        let job = match receiver.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        job();
    }
}
