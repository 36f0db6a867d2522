//! A small pool of threads for quick metadata reads (`/metrics` gauges, the
//! admin API's replication status) that must not wait in the blocking pool's
//! queue behind LMDB write transactions and file I/O.
//!
//! Jobs go through a crossbeam channel; the result comes back through the
//! cross-thread oneshot of `replication::notify`, so awaiting it on an event
//! loop never blocks. The threads end when the pool is dropped.

use crossbeam_channel::{Sender, unbounded};

use crate::replication::notify::{Canceled, oneshot};

/// Threads of the read pool.
pub const READ_THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// Threads that run short, read-only jobs.
pub struct ReadPool {
    jobs: Sender<Job>,
}

impl ReadPool {
    pub fn new(threads: usize) -> std::io::Result<ReadPool> {
        let (jobs, rx) = unbounded::<Job>();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new().name(format!("sluice-read-{i}")).spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            })?;
        }
        Ok(ReadPool { jobs })
    }

    /// Runs `f` on a pool thread and returns its result.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Canceled> {
        let (tx, rx) = oneshot();
        self.jobs.send(Box::new(move || tx.send(f()))).map_err(|_| Canceled)?;
        rx.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_jobs_off_the_event_loop() {
        let pool = ReadPool::new(2).unwrap();
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().unwrap();
        let main = std::thread::current().id();
        let (v, other) = rt.block_on(async {
            pool.run(move || (21 * 2, std::thread::current().id() != main)).await.unwrap()
        });
        assert_eq!((v, other), (42, true));
    }
}
