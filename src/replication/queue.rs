//! The per-core replication queue: a request core pushes a task into its
//! lock-free queue, the core's writer thread commits queued tasks to LMDB in
//! batches (group commit: one write transaction and one fsync for many tasks)
//! and then wakes the requests waiting on them.
//!
//! ```text
//! request (core k) --push--> crossbeam channel --> sluice-repl-writer-k
//!        ^                                           | recv 1, drain <= max_batch
//!        |                                           | enqueue_batch (1 txn, fsync)
//!        +---- Durable resolves (oneshot wake) <-----+ then on_commit(&tasks)
//! ```
//!
//! No artificial delay: while one batch commits, the next one accumulates, so
//! the batch size follows the load (1 when idle, up to `max_batch` under load).
//!
//! # Durability
//! [`Durability::Sync`] (the default) answers a write only after its task is
//! committed: a crash after the 200 cannot lose the task. [`Durability::Async`]
//! answers without waiting: a crash (process, kernel, power) loses the tasks
//! not yet committed, typically the last few milliseconds of writes, and the
//! replicas of those acknowledged objects stay missing until a repair or scrub
//! finds them; in that mode commit failures are only logged.
//!
//! # Invariants
//! - Every pushed task's [`Durable`] resolves exactly once: `Ok` after the
//!   transaction holding the task committed, or an error; never `Ok` before.
//! - A commit error (or a panic while committing) fails the whole batch and
//!   nothing of it is stored, so an error answer (500) never hides a
//!   half-stored task; the client retries. The writer goes on with the next
//!   batch; if its thread ever dies, what is queued fails with `Closed` and
//!   later pushes are refused: no request waits forever.
//! - On shutdown (the [`Enqueuer`] dropped) the writer commits everything
//!   already queued before it exits.
//! - The queue is bounded ([`QUEUE_CAPACITY`]); a full queue is reported
//!   ([`EnqueueError::Full`]), never waited on, so `push` never blocks the
//!   event loop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use serde::{Deserialize, Serialize};

use super::intent::{Intent, IntentId};
use super::notify;
use super::store::RecordChange;
use super::task::Task;
use crate::meta::{MetaError, MetaStore};

/// Default largest batch one transaction commits. Large enough that one fsync
/// serves every request a core has in flight; small enough that a transaction
/// (~1 KiB per task) stays a few MiB and the first waiter is not held long.
pub const DEFAULT_MAX_BATCH: usize = 1024;

/// Tasks a core may have queued and not yet committed. At 20,000+ commits/s
/// this is seconds of backlog: only a stalled disk fills it, and then writes
/// are refused (`SlowDown`) instead of growing memory without bound.
pub const QUEUE_CAPACITY: usize = 65_536;

/// When a write is answered (config `replication.durability`). See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Answer after the task is committed to LMDB (fsynced).
    #[default]
    Sync,
    /// Answer without waiting; a crash loses tasks not yet committed.
    Async,
}

/// Why a task is not (known to be) durable. Every variant means "the object
/// is on the primary but its replication is not guaranteed": answer an error
/// so the client retries.
#[derive(Debug, Clone)]
pub enum EnqueueError {
    /// The core's queue is full: commits lag behind writes. Retrying later
    /// helps (S3 `SlowDown`, 503).
    Full,
    /// The writer thread is gone (shutdown, or it panicked). Another core or
    /// process may take the retry (`ServiceUnavailable`, 503).
    Closed,
    /// The batch's transaction failed; nothing of it was stored. A retry may
    /// help (`InternalError`, 500).
    Commit(Arc<MetaError>),
    /// Committing the batch panicked (a bug); nothing of it was stored and the
    /// writer goes on with the next batch (`InternalError`, 500).
    Panicked,
}

impl std::fmt::Display for EnqueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnqueueError::Full => f.write_str("replication queue full"),
            EnqueueError::Closed => f.write_str("replication queue closed"),
            EnqueueError::Commit(e) => write!(f, "replication queue commit failed: {e}"),
            EnqueueError::Panicked => f.write_str("replication queue commit panicked"),
        }
    }
}

impl std::error::Error for EnqueueError {}

/// Per-core counters for metrics (relaxed atomics, summed at scrape time).
#[derive(Debug, Default)]
pub struct QueueStats {
    enqueued: AtomicU64,
    batches: AtomicU64,
    last_batch: AtomicU64,
    failed: AtomicU64,
}

impl QueueStats {
    /// Tasks committed.
    pub fn enqueued(&self) -> u64 {
        self.enqueued.load(Ordering::Relaxed)
    }

    /// Transactions committed.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Size of the last committed batch.
    pub fn last_batch(&self) -> u64 {
        self.last_batch.load(Ordering::Relaxed)
    }

    /// Tasks whose commit failed.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// Called by the writer thread after each committed batch (after its waiters
/// were woken), with the tasks as stored (ids assigned). A panic in it is
/// caught and logged. A task of the slice may already be superseded by a
/// later one of the same slice.
pub type OnCommit = Arc<dyn Fn(&[Task]) + Send + Sync>;

/// Commits one batch in one transaction (the store's `commit_all`, or a
/// stand-in in tests).
pub type Committer = Box<dyn FnMut(&mut Batch) -> Result<(), MetaError> + Send>;

type Outcome = Result<(), EnqueueError>;

/// What a request queues. Tasks dominate and were queued inline before
/// intents existed; boxing them would add an allocation to every write.
#[allow(clippy::large_enum_variant)]
enum Item {
    /// A task, and the intent of its write (cleared in the same transaction).
    Task(Task, Option<IntentId>),
    /// A write starts (see `intent.rs`).
    Intent(IntentId, Intent),
    /// A write failed: its intent goes.
    Clear(IntentId),
    /// A write or delete that left no task sets or removes its record.
    Record(RecordChange),
}

struct Queued {
    item: Item,
    done: notify::Sender<Outcome>,
}

/// Resolves once the pushed task is durable (or failed). In `Async` mode drop it.
#[must_use = "await it (Durability::Sync) or drop it explicitly (Durability::Async)"]
pub struct Durable {
    rx: notify::Receiver<Outcome>,
}

impl Durable {
    /// Blocks the calling thread until the task is durable. For plain threads
    /// (tools, tests, benches), never on an event loop.
    pub fn wait_blocking(self) -> Result<(), EnqueueError> {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = self;
        loop {
            if let Poll::Ready(out) = Pin::new(&mut fut).poll(&mut cx) {
                return out;
            }
            std::thread::park();
        }
    }
}

impl Future for Durable {
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.unwrap_or(Err(EnqueueError::Closed)))
    }
}

/// One core's queue and its writer thread. Dropping it blocks until the
/// writer committed everything queued and exited (shutdown only).
pub struct Enqueuer {
    tx: Option<Sender<Queued>>,
    /// The channel's other end, to fail what a dead writer left queued.
    rx: Receiver<Queued>,
    /// Set by the writer thread when it exits (see [`ExitGuard`]).
    closed: Arc<AtomicBool>,
    stats: Arc<QueueStats>,
    writer: Option<JoinHandle<()>>,
}

impl Enqueuer {
    /// Starts core `core`'s writer thread (`sluice-repl-writer-{core}`),
    /// committing into `store` at most `max_batch` tasks per transaction.
    pub fn new(
        core: usize,
        store: Arc<MetaStore>,
        max_batch: usize,
        on_commit: OnCommit,
    ) -> std::io::Result<Enqueuer> {
        let commit: Committer = Box::new(move |b: &mut Batch| {
            store.tasks().commit_all(&mut b.tasks, &b.intents, &b.cleared, &b.records)
        });
        Enqueuer::with_committer(core, commit, max_batch, on_commit)
    }

    /// [`Enqueuer::new`] with another way to commit a batch.
    pub fn with_committer(
        core: usize,
        commit: Committer,
        max_batch: usize,
        on_commit: OnCommit,
    ) -> std::io::Result<Enqueuer> {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        let stats = Arc::new(QueueStats::default());
        let closed = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            core,
            rx: rx.clone(),
            closed: closed.clone(),
            commit,
            max_batch: max_batch.max(1),
            on_commit,
            stats: stats.clone(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("sluice-repl-writer-{core}"))
            .spawn(move || writer.run())?;
        Ok(Enqueuer { tx: Some(tx), rx, closed, stats, writer: Some(handle) })
    }

    /// Queues `task` (its `id` is assigned at commit). Never blocks. `Err`
    /// when the queue is full or closed; otherwise the returned future
    /// resolves when the task's batch committed.
    pub fn push(&self, task: Task) -> Result<Durable, EnqueueError> {
        self.push_item(Item::Task(task, None))
    }

    /// [`Enqueuer::push`] for the task of a write that recorded `intent`: the
    /// intent is removed in the transaction that stores the task.
    pub fn push_clearing(&self, task: Task, intent: Option<IntentId>) -> Result<Durable, EnqueueError> {
        self.push_item(Item::Task(task, intent))
    }

    /// Queues a write intent; the future resolves once it is durable.
    pub fn push_intent(&self, id: IntentId, intent: Intent) -> Result<Durable, EnqueueError> {
        self.push_item(Item::Intent(id, intent))
    }

    /// Queues a record change of a write or delete that left no task.
    pub fn push_record(&self, change: RecordChange) -> Result<Durable, EnqueueError> {
        self.push_item(Item::Record(change))
    }

    /// Queues the removal of a failed write's intent.
    pub fn push_clear(&self, id: IntentId) -> Result<Durable, EnqueueError> {
        self.push_item(Item::Clear(id))
    }

    fn push_item(&self, item: Item) -> Result<Durable, EnqueueError> {
        let Some(tx) = &self.tx else { return Err(EnqueueError::Closed) };
        if self.closed.load(Ordering::SeqCst) {
            return Err(EnqueueError::Closed);
        }
        let (done, rx) = notify::oneshot();
        match tx.try_send(Queued { item, done }) {
            Ok(()) => {
                // The writer may have exited between the check and the send:
                // then nobody would ever take the task. Fail it (and anything
                // else left) here; the writer's exit drains likewise.
                if self.closed.load(Ordering::SeqCst) {
                    fail_queued(&self.rx);
                }
                Ok(Durable { rx })
            }
            Err(TrySendError::Full(_)) => Err(EnqueueError::Full),
            Err(TrySendError::Disconnected(_)) => Err(EnqueueError::Closed),
        }
    }

    /// Tasks queued and not yet taken by the writer.
    pub fn queued(&self) -> usize {
        self.tx.as_ref().map_or(0, Sender::len)
    }

    /// The counters of this core's queue.
    pub fn stats(&self) -> &Arc<QueueStats> {
        &self.stats
    }

    /// A handle that reads this queue's depth from any thread (metrics).
    pub fn depth(&self) -> QueueDepth {
        QueueDepth(self.rx.clone())
    }
}

/// Reads the depth of one core's queue (see [`Enqueuer::depth`]).
#[derive(Clone)]
pub struct QueueDepth(Receiver<Queued>);

impl QueueDepth {
    /// Tasks queued and not yet taken by the writer.
    pub fn get(&self) -> usize {
        self.0.len()
    }
}

impl Drop for Enqueuer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.writer.take()
            && h.join().is_err()
        {
            tracing::error!("replication writer thread panicked");
        }
    }
}

/// Drops every queued task, so its [`Durable`] resolves to `Closed`.
fn fail_queued(rx: &Receiver<Queued>) {
    while rx.try_recv().is_ok() {}
}

/// Runs when the writer thread exits, normally or by a panic: marks the queue
/// closed, then fails what is still queued. With `push` checking the mark
/// after its send, no task is left in a queue nobody reads.
struct ExitGuard {
    closed: Arc<AtomicBool>,
    rx: Receiver<Queued>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        fail_queued(&self.rx);
    }
}

/// What one transaction commits.
#[derive(Default)]
pub struct Batch {
    pub tasks: Vec<Task>,
    pub intents: Vec<(IntentId, Intent)>,
    pub cleared: Vec<IntentId>,
    pub records: Vec<RecordChange>,
}

/// The writer thread's state.
struct Writer {
    core: usize,
    rx: Receiver<Queued>,
    closed: Arc<AtomicBool>,
    commit: Committer,
    max_batch: usize,
    on_commit: OnCommit,
    stats: Arc<QueueStats>,
}

impl Writer {
    fn run(mut self) {
        let _exit = ExitGuard { closed: self.closed.clone(), rx: self.rx.clone() };
        let mut batch = Batch::default();
        let mut waiters = Vec::with_capacity(self.max_batch);
        // `recv` keeps returning queued items after the last sender is gone.
        while let Ok(first) = self.rx.recv() {
            let mut next = Some(first);
            while let Some(q) = next {
                match q.item {
                    Item::Task(task, intent) => {
                        batch.tasks.push(task);
                        batch.cleared.extend(intent);
                    }
                    Item::Intent(id, intent) => batch.intents.push((id, intent)),
                    Item::Clear(id) => batch.cleared.push(id),
                    Item::Record(change) => batch.records.push(change),
                }
                waiters.push(q.done);
                next = if waiters.len() < self.max_batch { self.rx.try_recv().ok() } else { None };
            }
            self.commit_batch(&mut batch, &mut waiters);
            batch.tasks.clear();
            batch.intents.clear();
            batch.cleared.clear();
            batch.records.clear();
        }
    }

    fn commit_batch(&mut self, batch: &mut Batch, waiters: &mut Vec<notify::Sender<Outcome>>) {
        let n = batch.tasks.len() as u64;
        let commit = &mut self.commit;
        let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(batch))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(EnqueueError::Commit(Arc::new(e))),
            Err(_) => Err(EnqueueError::Panicked),
        };
        match result {
            Ok(()) => {
                self.stats.enqueued.fetch_add(n, Ordering::Relaxed);
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                self.stats.last_batch.store(n, Ordering::Relaxed);
                for w in waiters.drain(..) {
                    w.send(Ok(()));
                }
                let on_commit = &self.on_commit;
                let call = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_commit(&batch.tasks)));
                if call.is_err() {
                    tracing::error!(core = self.core, "replication on_commit callback panicked");
                }
            }
            Err(err) => {
                tracing::error!(core = self.core, tasks = n, error = %err, "replication queue commit failed");
                self.stats.failed.fetch_add(n, Ordering::Relaxed);
                for w in waiters.drain(..) {
                    w.send(Err(err.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::task::tests::put;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn store() -> (tempfile::TempDir, Arc<MetaStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            MetaStore::open(dir.path(), &crate::meta::crypto::MasterKey::from_bytes([7; 32])).unwrap(),
        );
        (dir, store)
    }

    /// An `on_commit` counting the tasks it saw.
    fn counter() -> (Arc<AtomicUsize>, OnCommit) {
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        (
            seen,
            Arc::new(move |tasks: &[Task]| {
                assert!(tasks.iter().all(|t| t.id != 0));
                s.fetch_add(tasks.len(), Ordering::Relaxed);
            }),
        )
    }

    /// An intent is durable on its own; the task that clears it removes it
    /// in its own commit; a clear alone removes it too.
    #[test]
    fn intents_go_through_the_queue() {
        use crate::replication::intent::{Intent, IntentIds};
        let (_dir, store) = store();
        let (_seen, on_commit) = counter();
        let q = Enqueuer::new(0, store.clone(), DEFAULT_MAX_BATCH, on_commit).unwrap();
        let ids = IntentIds::new(9, 0);
        let intent = |k: &str| Intent {
            bucket: "b".into(),
            bucket_id: "00ff".into(),
            key: k.into(),
            backend: "eu1".into(),
            started_ms: 1,
        };
        let (a, b) = (ids.next(), ids.next());
        q.push_intent(a, intent("a")).unwrap().wait_blocking().unwrap();
        q.push_intent(b, intent("b")).unwrap().wait_blocking().unwrap();
        assert_eq!(store.tasks().intent_count().unwrap(), 2);
        q.push_clearing(put("a"), Some(a)).unwrap().wait_blocking().unwrap();
        assert_eq!(store.tasks().intent_count().unwrap(), 1);
        assert_eq!(store.tasks().all_pending().unwrap().len(), 1);
        q.push_clear(b).unwrap().wait_blocking().unwrap();
        assert_eq!(store.tasks().intent_count().unwrap(), 0);
    }

    #[test]
    fn many_producers_every_task_durable() {
        const THREADS: usize = 8;
        const PER_THREAD: usize = 200;
        const WINDOW: usize = 25;
        let (_dir, store) = store();
        let (seen, on_commit) = counter();
        let q = Enqueuer::new(0, store.clone(), DEFAULT_MAX_BATCH, on_commit).unwrap();
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let q = &q;
                s.spawn(move || {
                    for w in 0..PER_THREAD / WINDOW {
                        let durables: Vec<Durable> = (0..WINDOW)
                            .map(|i| q.push(put(&format!("t{t}/{}", w * WINDOW + i))).unwrap())
                            .collect();
                        for d in durables {
                            d.wait_blocking().unwrap();
                        }
                    }
                });
            }
        });
        let total = THREADS * PER_THREAD;
        let pending = store.tasks().all_pending().unwrap();
        assert_eq!(pending.len(), total);
        let mut ids: Vec<u64> = pending.iter().map(|t| t.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), total);
        assert_eq!(q.stats().enqueued(), total as u64);
        assert!(q.stats().batches() < total as u64 / 2, "group commit: {} batches", q.stats().batches());
        assert_eq!(q.stats().failed(), 0);
        assert_eq!(q.queued(), 0);
        drop(q);
        assert_eq!(seen.load(Ordering::Relaxed), total);
    }

    #[test]
    fn wakes_requests_on_a_monoio_runtime() {
        const REQUESTS: usize = 300;
        let (_dir, store) = store();
        let (seen, on_commit) = counter();
        let q = std::rc::Rc::new(Enqueuer::new(3, store.clone(), 64, on_commit).unwrap());
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().unwrap();
        let results = rt.block_on(async {
            let handles: Vec<_> = (0..REQUESTS)
                .map(|i| {
                    let q = q.clone();
                    monoio::spawn(async move {
                        let d = q.push(put(&format!("k{i}")))?;
                        d.await
                    })
                })
                .collect();
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await);
            }
            out
        });
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(store.tasks().pending().unwrap().pending, REQUESTS as u64);
        assert!(q.stats().batches() < REQUESTS as u64);
        assert!(q.stats().last_batch() <= 64);
        drop(q);
        assert_eq!(seen.load(Ordering::Relaxed), REQUESTS);
    }

    #[test]
    fn commit_error_fails_the_batch_only() {
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let f = fail.clone();
        let commit: Committer = Box::new(move |b: &mut Batch| {
            let tasks = &mut b.tasks[..];
            if f.load(Ordering::Relaxed) {
                return Err(MetaError::Io(std::io::Error::other("disk full")));
            }
            for t in tasks.iter_mut() {
                t.id = 1;
            }
            Ok(())
        });
        let (seen, on_commit) = counter();
        let q = Enqueuer::with_committer(1, commit, 8, on_commit).unwrap();
        let err = q.push(put("a")).unwrap().wait_blocking().unwrap_err();
        assert!(matches!(err, EnqueueError::Commit(_)), "{err}");
        assert!(err.to_string().contains("disk full"));
        fail.store(false, Ordering::Relaxed);
        q.push(put("b")).unwrap().wait_blocking().unwrap();
        assert_eq!((q.stats().failed(), q.stats().enqueued()), (1, 1));
        drop(q); // on_commit runs after the waiters are woken: join the writer first
        assert_eq!(seen.load(Ordering::Relaxed), 1, "on_commit only for committed batches");
    }

    #[test]
    fn shutdown_commits_what_is_queued() {
        let committed = Arc::new(Mutex::new(Vec::new()));
        let c = committed.clone();
        let commit: Committer = Box::new(move |b: &mut Batch| {
            let tasks = &mut b.tasks[..];
            std::thread::sleep(Duration::from_millis(5));
            c.lock().unwrap().extend(tasks.iter().map(|t| t.key.clone()));
            Ok(())
        });
        let (_, on_commit) = counter();
        let q = Enqueuer::with_committer(2, commit, 4, on_commit).unwrap();
        let durables: Vec<Durable> = (0..40).map(|i| q.push(put(&format!("k{i}"))).unwrap()).collect();
        drop(q);
        assert_eq!(committed.lock().unwrap().len(), 40);
        for d in durables {
            d.wait_blocking().unwrap();
        }
    }

    #[test]
    fn full_queue_is_refused_not_waited_on() {
        let (entered_tx, entered_rx) = crossbeam_channel::bounded::<()>(1);
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(1);
        let commit: Committer = Box::new(move |b: &mut Batch| {
            let tasks = &mut b.tasks[..];
            let _ = entered_tx.try_send(());
            let _ = release_rx.recv();
            tasks.iter_mut().for_each(|t| t.id = 1);
            Ok(())
        });
        let (seen, on_commit) = counter();
        let q = Enqueuer::with_committer(4, commit, DEFAULT_MAX_BATCH, on_commit).unwrap();
        let first = q.push(put("first")).unwrap();
        entered_rx.recv().unwrap(); // the writer holds `first` and is stuck committing
        let task = put("k");
        let queued: Vec<Durable> = (0..QUEUE_CAPACITY).map(|_| q.push(task.clone()).unwrap()).collect();
        assert!(matches!(q.push(task), Err(EnqueueError::Full)));
        assert_eq!(q.queued(), QUEUE_CAPACITY);
        drop(release_tx); // every later commit returns at once
        first.wait_blocking().unwrap();
        for d in queued {
            d.wait_blocking().unwrap();
        }
        drop(q);
        assert_eq!(seen.load(Ordering::Relaxed), QUEUE_CAPACITY + 1);
    }

    #[test]
    fn commit_panic_fails_the_batch_only() {
        let calls = AtomicUsize::new(0);
        let commit: Committer = Box::new(move |b: &mut Batch| {
            let tasks = &mut b.tasks[..];
            if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                panic!("writer bug");
            }
            tasks.iter_mut().for_each(|t| t.id = 1);
            Ok(())
        });
        let (_, on_commit) = counter();
        let q = Enqueuer::with_committer(5, commit, 8, on_commit).unwrap();
        let err = q.push(put("a")).unwrap().wait_blocking().unwrap_err();
        assert!(matches!(err, EnqueueError::Panicked), "{err}");
        q.push(put("b")).unwrap().wait_blocking().unwrap();
    }

    #[test]
    fn writer_exit_fails_what_is_left() {
        let (tx, rx) = crossbeam_channel::bounded(4);
        let (done, durable) = notify::oneshot();
        tx.send(Queued { item: Item::Task(put("a"), None), done }).unwrap();
        let closed = Arc::new(AtomicBool::new(false));
        drop(ExitGuard { closed: closed.clone(), rx });
        assert!(closed.load(Ordering::SeqCst));
        assert!(matches!(Durable { rx: durable }.wait_blocking(), Err(EnqueueError::Closed)));
        // A push after the writer exited is refused.
        let commit: Committer = Box::new(|_: &mut Batch| Ok(()));
        let (_, on_commit) = counter();
        let q = Enqueuer::with_committer(7, commit, 8, on_commit).unwrap();
        q.closed.store(true, Ordering::SeqCst);
        assert!(matches!(q.push(put("b")), Err(EnqueueError::Closed)));
    }

    #[test]
    fn on_commit_panic_does_not_stop_the_writer() {
        let (_dir, store) = store();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let on_commit: OnCommit = Arc::new(move |_: &[Task]| {
            if c.fetch_add(1, Ordering::Relaxed) == 0 {
                panic!("callback bug");
            }
        });
        let q = Enqueuer::new(6, store.clone(), 8, on_commit).unwrap();
        q.push(put("a")).unwrap().wait_blocking().unwrap();
        q.push(put("b")).unwrap().wait_blocking().unwrap();
        drop(q);
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        assert_eq!(store.tasks().pending().unwrap().pending, 2);
    }

    #[test]
    fn durability_config_values() {
        assert_eq!(Durability::default(), Durability::Sync);
        let d: Durability = serde_json::from_str("\"async\"").unwrap();
        assert_eq!(d, Durability::Async);
        assert!(serde_json::from_str::<Durability>("\"fast\"").is_err());
    }
}
