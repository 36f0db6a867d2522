//! The durable replication queue.
//!
//! After every successful write (PutObject, CompleteMultipartUpload,
//! CopyObject, DeleteObject, each key of DeleteObjects) the request's core
//! pushes a [`Task`] into its own [`Enqueuer`]; the core's writer thread
//! commits queued tasks to LMDB in batches (group commit: one transaction, one
//! fsync for many tasks) and then wakes the requests waiting on them. With
//! [`Durability::Sync`] the client's 200 is sent only after its task is
//! durable. Replication workers then take due tasks from the store
//! ([`TaskStore::due`]), copy or delete, and record the outcome
//! ([`TaskStore::update`] for progress and backoff, [`TaskStore::complete`],
//! [`TaskStore::kill`] for dead letters).
//!
//! Files:
//! - `task.rs`: the [`Task`] record (serde JSON in LMDB);
//! - `store.rs`: the LMDB databases and the queue operations ([`MetaStore::tasks`]);
//! - `queue.rs`: the per-core [`Enqueuer`], its writer thread and [`Durable`];
//! - `notify.rs`: the cross-thread oneshot the writer wakes requests with.
//!
//! # Invariants
//! - A write is answered (`Sync`) only after its task's transaction committed.
//! - A task leaves LMDB only when `complete` (or `kill`, to the dead letters)
//!   is called for its current id, or when a newer task for the same object
//!   supersedes it in the transaction that stores the newer one.
//! - Task ids increase in commit order and are never reused, across restarts.
//!
//! [`MetaStore::tasks`]: crate::meta::MetaStore::tasks

pub mod copy;
pub mod index;
pub mod intent;
pub mod metrics;
pub mod notify;
pub mod queue;
pub mod repair;
pub mod store;
pub mod task;
pub mod worker;

pub use intent::{INTENT_MAX_AGE_MS, INTENT_MIN_BODY, Intent, IntentId, IntentIds};
pub use queue::{
    Committer, DEFAULT_MAX_BATCH, Durability, Durable, EnqueueError, Enqueuer, OnCommit, QUEUE_CAPACITY,
    QueueDepth, QueueStats,
};
pub use store::{Backlog, RecordChange, Requeued, TaskStore};
pub use task::{CopyProgress, ObjectRecord, ObjectVersion, Task, TaskKind, now_ms};
