//! A few threads of low priority for heavy CPU work (image decoding and encoding), so that it
//! takes the cores only when requests leave them idle: on a small machine, four large uploads at
//! once must not starve the readers. The threads end with the pool.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::ApiError;
use crate::turns::Turns;

type Job = Box<dyn FnOnce() + Send>;

/// The pool; as many jobs run at once as it has threads, the others wait for a turn (at most
/// `wait`, then 503 `busy`).
pub struct LowPriorityPool {
    name: &'static str,
    turns: Turns,
    queue: Mutex<Sender<Job>>,
}

impl LowPriorityPool {
    /// Starts `threads` threads (at least one); an error when none could be started. `what` names
    /// a turn in the 503 when none came free within `wait`.
    pub fn new(threads: usize, wait: Duration, name: &'static str, what: &'static str) -> Result<Self, String> {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            match std::thread::Builder::new().name(format!("{name}-{index}")).spawn(move || work(&receiver)) {
                Ok(_) => started += 1,
                Err(error) => tracing::error!(%error, pool = name, "cannot start a worker thread"),
            }
        }
        if started == 0 {
            return Err(format!("no {name} thread could be started"));
        }
        Ok(Self { name, turns: Turns::new(started, wait, what), queue: Mutex::new(sender) })
    }

    /// Jobs running now, and jobs waiting for a turn.
    pub fn load(&self) -> (usize, usize) {
        self.turns.load()
    }

    /// Waits for a turn, then runs `job` on one of the pool's threads and waits for its result.
    /// The job holds its turn until it ends, even if the caller stops waiting (its client left).
    /// A panic in it is a 500, and the thread goes on with the next job.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let turn = self.turns.take().await?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _turn = turn;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            let _ = done.send(outcome);
        });
        let queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        queue.send(job).map_err(|_| ApiError::Internal(format!("the {} threads are gone", self.name)))?;
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
