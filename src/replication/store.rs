//! The replication queue in LMDB: pending tasks, their due order, the current
//! task of each object, dead letters.
//!
//! Databases (created in `MetaStore::open` through [`TaskDbs::create`]):
//! - `tasks`: id (u64 BE) -> [`Task`] (serde JSON), every pending task;
//! - `tasks_due`: (next_attempt_ms u64 BE, id u64 BE) -> `()`, the due order;
//! - `tasks_by_object`: object entry -> id (u64 BE) of the object's newest task
//!   (pending or dead); the entry is `0x00, len(bucket_id) as u8, bucket_id,
//!   key` when that fits LMDB's 511-byte key limit, else `0x01,
//!   sha256(len(bucket_id) u64 BE, bucket_id, key)` (keys reach 1024 bytes);
//! - `tasks_dead`: id -> [`Task`], tasks that exhausted their attempts;
//! - `tasks_seq`: `"next_id"` -> the next id to assign (never reused, even
//!   when every task completed).
//!
//! Every call is one LMDB transaction and blocking (a write transaction
//! fsyncs): call it from the blocking pool or the core's writer thread, never
//! on an event loop.
//!
//! # Superseding
//! A newer task for the same (bucket id, key) replaces the older pending one
//! in the same transaction that inserts it: the older task and its due entry
//! are deleted and the newer task inherits its cleanup obligations
//! ([`Task::inherit_cleanup`]); its `targets` and `done` stay as the caller made
//! them. An older *dead* task stays in `tasks_dead` for operators to see but
//! is dropped, not requeued, by [`TaskStore::requeue_dead`]. A worker still
//! busy with a superseded task learns it from `update`/`complete`/`kill`
//! returning `false`, and then aborts its own multipart copy (if any).
//! Repair and scrub tasks go through [`TaskStore::enqueue_if_idle`], which
//! skips objects with a pending task instead of superseding it.
//!
//! # Invariants
//! - A task leaves `tasks` only through `complete` (or `kill`) for its id, or by
//!   being superseded; `update` never resurrects a task that left.
//! - `tasks` and `tasks_due` hold the same ids: each pending task has exactly
//!   one due entry, keyed by its stored `next_attempt_ms`.
//! - `tasks_by_object` points to the object's newest task; `complete` removes
//!   the entry only while it still points to the completed id.
//! - Ids increase in commit order and are never reused.

use std::ops::Bound;

use heed::byteorder::BE;
use heed::types::{Bytes, SerdeJson, Str, U64, Unit};
use heed::{Database, Env, RwTxn};
use sha2::{Digest, Sha256};

use super::intent::{Intent, IntentId};
use super::task::{ObjectRecord, Task, TaskKind};
use crate::meta::{MetaError, MetaStore};

/// LMDB's key size limit (`MDB_MAXKEYSIZE` of the bundled liblmdb).
const LMDB_MAX_KEY: usize = 511;
/// Tag of an object entry holding bucket id and key verbatim.
const OBJECT_INLINE: u8 = 0;
/// Tag of an object entry holding a SHA-256 of bucket id and key.
const OBJECT_HASHED: u8 = 1;
/// Record of the id sequence in `tasks_seq`.
const NEXT_ID_RECORD: &str = "next_id";
/// The first id ever assigned; 0 means "not committed yet".
const FIRST_ID: u64 = 1;
/// Length of a `tasks_due` key.
const DUE_KEY_LEN: usize = 16;

type IdDb = Database<U64<BE>, SerdeJson<Task>>;

/// Whether inserting a task may replace the object's pending task.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Supersede {
    /// A client's write: always the newest.
    Always,
    /// Repair: only where nothing is pending.
    OnlyDead,
}

/// The replication databases, held by [`MetaStore`].
pub(crate) struct TaskDbs {
    /// A handle on the store's environment (heed's `Env` is a shared handle).
    env: Env,
    tasks: IdDb,
    due: Database<Bytes, Unit>,
    by_object: Database<Bytes, U64<BE>>,
    dead: IdDb,
    seq: Database<Str, U64<BE>>,
    /// Write intents by id (16 bytes, big-endian); see `intent.rs`.
    intents: Database<Bytes, SerdeJson<Intent>>,
    /// What each replicated object's acknowledged version is, keyed like
    /// `tasks_by_object`: written with the write's task, removed with a delete.
    records: Database<Bytes, SerdeJson<ObjectRecord>>,
}

impl TaskDbs {
    /// Creates (or opens) the databases inside `MetaStore::open`'s transaction.
    pub(crate) fn create(env: &Env, wtxn: &mut RwTxn<'_>) -> Result<TaskDbs, MetaError> {
        Ok(TaskDbs {
            env: env.clone(),
            tasks: env.create_database(wtxn, Some("tasks"))?,
            due: env.create_database(wtxn, Some("tasks_due"))?,
            by_object: env.create_database(wtxn, Some("tasks_by_object"))?,
            dead: env.create_database(wtxn, Some("tasks_dead"))?,
            seq: env.create_database(wtxn, Some("tasks_seq"))?,
            intents: env.create_database(wtxn, Some("write_intents"))?,
            records: env.create_database(wtxn, Some("object_records"))?,
        })
    }
}

/// An object record to set or remove (a write or delete that left no task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    pub bucket_id: String,
    pub key: String,
    pub record: Option<ObjectRecord>,
}

/// Queue depth and age, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Pending tasks (not dead).
    pub pending: u64,
    /// `created_ms` of the pending task committed first (lowest id): the
    /// replication lag is `now - oldest_created_ms`.
    pub oldest_created_ms: Option<u64>,
}

/// What [`TaskStore::requeue_dead`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requeued {
    /// Dead tasks put back in the queue, due now.
    pub requeued: usize,
    /// Dead tasks removed because a newer task for the object superseded them.
    pub dropped: usize,
}

/// The replication queue's view of the store; see the module docs.
#[derive(Clone, Copy)]
pub struct TaskStore<'a> {
    dbs: &'a TaskDbs,
}

impl MetaStore {
    /// The replication queue.
    pub fn tasks(&self) -> TaskStore<'_> {
        TaskStore { dbs: self.replication_dbs() }
    }
}

fn due_key(next_attempt_ms: u64, id: u64) -> [u8; DUE_KEY_LEN] {
    let mut k = [0u8; DUE_KEY_LEN];
    k[..8].copy_from_slice(&next_attempt_ms.to_be_bytes());
    k[8..].copy_from_slice(&id.to_be_bytes());
    k
}

fn due_id(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(8..DUE_KEY_LEN)?.try_into().ok()?))
}

/// The `tasks_by_object` key of (bucket id, key); see the module docs.
fn object_entry(bucket_id: &str, key: &str) -> Vec<u8> {
    let inline_len = 2 + bucket_id.len() + key.len();
    match u8::try_from(bucket_id.len()) {
        Ok(len) if inline_len <= LMDB_MAX_KEY => {
            let mut e = Vec::with_capacity(inline_len);
            e.push(OBJECT_INLINE);
            e.push(len);
            e.extend_from_slice(bucket_id.as_bytes());
            e.extend_from_slice(key.as_bytes());
            e
        }
        _ => {
            let mut h = Sha256::new();
            h.update((bucket_id.len() as u64).to_be_bytes());
            h.update(bucket_id.as_bytes());
            h.update(key.as_bytes());
            let mut e = Vec::with_capacity(33);
            e.push(OBJECT_HASHED);
            e.extend_from_slice(&h.finalize());
            e
        }
    }
}

impl TaskStore<'_> {
    fn env(&self) -> &Env {
        &self.dbs.env
    }

    /// Commits `tasks` in one transaction: assigns their ids (in slice order)
    /// and, for each, supersedes the object's older pending task (see the
    /// module docs; a later task of the slice supersedes an earlier one for the
    /// same object). On success the slice holds what was stored. On error
    /// nothing was stored and the slice may be committed again.
    pub fn enqueue_batch(&self, tasks: &mut [Task]) -> Result<(), MetaError> {
        self.commit_batch(tasks, &[], &[])
    }

    /// One group commit: stores `intents`, removes the intents in `cleared`
    /// (their writes' tasks are in `tasks`, or the writes failed), and
    /// enqueues `tasks` as [`TaskStore::enqueue_batch`] does, in one
    /// transaction.
    pub fn commit_batch(
        &self,
        tasks: &mut [Task],
        intents: &[(IntentId, Intent)],
        cleared: &[IntentId],
    ) -> Result<(), MetaError> {
        self.commit_all(tasks, intents, cleared, &[])
    }

    /// [`TaskStore::commit_batch`] that also sets (or, with `None`, removes)
    /// object records of writes and deletes that left no task.
    pub fn commit_all(
        &self,
        tasks: &mut [Task],
        intents: &[(IntentId, Intent)],
        cleared: &[IntentId],
        records: &[RecordChange],
    ) -> Result<(), MetaError> {
        if tasks.is_empty() && intents.is_empty() && cleared.is_empty() && records.is_empty() {
            return Ok(());
        }
        let d = self.dbs;
        let mut wtxn = self.env().write_txn()?;
        for r in records {
            let obj = object_entry(&r.bucket_id, &r.key);
            match &r.record {
                Some(rec) => d.records.put(&mut wtxn, &obj, rec)?,
                None => {
                    d.records.delete(&mut wtxn, &obj)?;
                }
            }
        }
        for (id, intent) in intents {
            d.intents.put(&mut wtxn, &id.to_be_bytes(), intent)?;
        }
        for id in cleared {
            d.intents.delete(&mut wtxn, &id.to_be_bytes())?;
        }
        self.insert_in(&mut wtxn, tasks, Supersede::Always)?;
        wtxn.commit()?;
        Ok(())
    }

    /// Up to `limit` intents that are left over: made by another process
    /// (nonce other than `nonce`), or older than `before_ms`.
    pub fn leftover_intents(
        &self,
        nonce: u64,
        before_ms: u64,
        limit: usize,
    ) -> Result<Vec<(IntentId, Intent)>, MetaError> {
        let rtxn = self.env().read_txn()?;
        let mut out = Vec::new();
        for item in self.dbs.intents.iter(&rtxn)? {
            let (k, intent) = item?;
            let Ok(bytes) = <[u8; 16]>::try_from(k) else { continue };
            let id = IntentId::from_be_bytes(bytes);
            if super::intent::nonce_of(id) != nonce || intent.started_ms < before_ms {
                out.push((id, intent));
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The recorded version of (bucket id, key), if any.
    pub fn record(&self, bucket_id: &str, key: &str) -> Result<Option<ObjectRecord>, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.dbs.records.get(&rtxn, &object_entry(bucket_id, key))?)
    }

    /// Intents stored right now (for tests and metrics).
    pub fn intent_count(&self) -> Result<u64, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.dbs.intents.len(&rtxn)?)
    }

    /// Removes intent `id` (its key was examined).
    pub fn remove_intent(&self, id: IntentId) -> Result<(), MetaError> {
        let mut wtxn = self.env().write_txn()?;
        self.dbs.intents.delete(&mut wtxn, &id.to_be_bytes())?;
        wtxn.commit()?;
        Ok(())
    }

    /// Like [`TaskStore::enqueue_batch`], but a task whose object already has
    /// a pending task is skipped (its `id` stays 0): repair and scrub tasks
    /// never supersede a client's write. A dead task of the object is
    /// superseded as usual. Returns how many tasks were stored.
    pub fn enqueue_if_idle(&self, tasks: &mut [Task]) -> Result<usize, MetaError> {
        self.insert(tasks, Supersede::OnlyDead)
    }

    fn insert(&self, tasks: &mut [Task], mode: Supersede) -> Result<usize, MetaError> {
        if tasks.is_empty() {
            return Ok(0);
        }
        let mut wtxn = self.env().write_txn()?;
        let stored = self.insert_in(&mut wtxn, tasks, mode)?;
        wtxn.commit()?;
        Ok(stored)
    }

    fn insert_in(
        &self,
        wtxn: &mut RwTxn<'_>,
        tasks: &mut [Task],
        mode: Supersede,
    ) -> Result<usize, MetaError> {
        if tasks.is_empty() {
            return Ok(0);
        }
        let d = self.dbs;
        let mut next = d.seq.get(wtxn, NEXT_ID_RECORD)?.unwrap_or(FIRST_ID);
        let mut stored = 0;
        for task in tasks.iter_mut() {
            task.id = 0;
            let obj = object_entry(&task.bucket_id, &task.key);
            if let Some(old_id) = d.by_object.get(wtxn, &obj)? {
                let old = match d.tasks.get(wtxn, &old_id)? {
                    Some(_) if mode == Supersede::OnlyDead => continue,
                    Some(old) => {
                        d.tasks.delete(wtxn, &old_id)?;
                        d.due.delete(wtxn, &due_key(old.next_attempt_ms, old_id))?;
                        Some(old)
                    }
                    None => d.dead.get(wtxn, &old_id)?,
                };
                if let Some(old) = old {
                    task.inherit_cleanup(&old);
                }
            }
            task.id = next;
            next += 1;
            // A client's write or delete sets the object's record; a repair
            // task copies a version that is (or has no) record already.
            if !task.repair {
                match task.kind {
                    TaskKind::Put => d.records.put(
                        wtxn,
                        &obj,
                        &ObjectRecord {
                            etag: task.version.etag.clone(),
                            size: task.version.size,
                            crc64: task.version.crc64,
                            written_ms: task.created_ms,
                        },
                    )?,
                    TaskKind::Delete => {
                        d.records.delete(wtxn, &obj)?;
                    }
                }
            }
            d.tasks.put(wtxn, &task.id, task)?;
            d.due.put(wtxn, &due_key(task.next_attempt_ms, task.id), &())?;
            d.by_object.put(wtxn, &obj, &task.id)?;
            stored += 1;
        }
        d.seq.put(wtxn, NEXT_ID_RECORD, &next)?;
        Ok(stored)
    }

    /// Up to `limit` pending tasks with `next_attempt_ms <= now_ms` that pass
    /// `filter`, earliest due first (ties by id). Cost: the due entries up to
    /// the `limit`-th match are decoded, so a filter rejecting most tasks (one
    /// partition of many) reads the others' due tasks too.
    pub fn due(
        &self,
        now_ms: u64,
        limit: usize,
        filter: impl Fn(&Task) -> bool,
    ) -> Result<Vec<Task>, MetaError> {
        let d = self.dbs;
        let rtxn = self.env().read_txn()?;
        let end = due_key(now_ms, u64::MAX);
        let range = (Bound::Unbounded, Bound::Included(&end[..]));
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for item in d.due.range(&rtxn, &range)? {
            let (key, ()) = item?;
            let Some(id) = due_id(key) else { continue };
            let Some(task) = d.tasks.get(&rtxn, &id)? else { continue };
            if filter(&task) {
                out.push(task);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Stores the progress of `task` (done targets, copy progress, attempts,
    /// error, `next_attempt_ms`, moving its due entry) if it is still pending.
    /// Returns false, writing nothing, when it was completed, killed or
    /// superseded meanwhile. `id`, `bucket_id` and `key` must be unchanged.
    pub fn update(&self, task: &Task) -> Result<bool, MetaError> {
        let d = self.dbs;
        let mut wtxn = self.env().write_txn()?;
        let Some(old) = d.tasks.get(&wtxn, &task.id)? else { return Ok(false) };
        debug_assert!(old.bucket_id == task.bucket_id && old.key == task.key, "update changed the object");
        d.due.delete(&mut wtxn, &due_key(old.next_attempt_ms, task.id))?;
        d.tasks.put(&mut wtxn, &task.id, task)?;
        d.due.put(&mut wtxn, &due_key(task.next_attempt_ms, task.id), &())?;
        wtxn.commit()?;
        Ok(true)
    }

    /// Makes every pending task that is due after `now_ms` due at `now_ms`
    /// (attempts unchanged), in one transaction; returns how many moved.
    /// Called when a backend comes back: the tasks parked while it was down
    /// run at once instead of at the end of their wait.
    pub fn wake_all(&self, now_ms: u64) -> Result<usize, MetaError> {
        let d = self.dbs;
        let mut wtxn = self.env().write_txn()?;
        let start = due_key(now_ms, u64::MAX);
        let range = (Bound::Excluded(&start[..]), Bound::Unbounded);
        let later: Vec<u64> =
            d.due.range(&wtxn, &range)?.filter_map(|item| item.ok().and_then(|(k, ())| due_id(k))).collect();
        let mut moved = 0;
        for id in later {
            let Some(mut task) = d.tasks.get(&wtxn, &id)? else { continue };
            d.due.delete(&mut wtxn, &due_key(task.next_attempt_ms, id))?;
            task.next_attempt_ms = now_ms;
            d.tasks.put(&mut wtxn, &id, &task)?;
            d.due.put(&mut wtxn, &due_key(now_ms, id), &())?;
            moved += 1;
        }
        wtxn.commit()?;
        Ok(moved)
    }

    /// Removes pending task `id` (its due entry, and its object entry while
    /// that still points to `id`). Returns false when it was not pending
    /// (completed, killed or superseded meanwhile).
    pub fn complete(&self, id: u64) -> Result<bool, MetaError> {
        let d = self.dbs;
        let mut wtxn = self.env().write_txn()?;
        let Some(old) = d.tasks.get(&wtxn, &id)? else { return Ok(false) };
        d.tasks.delete(&mut wtxn, &id)?;
        d.due.delete(&mut wtxn, &due_key(old.next_attempt_ms, id))?;
        remove_object_entry_if(d, &mut wtxn, &old, id)?;
        wtxn.commit()?;
        Ok(true)
    }

    /// Moves pending `task` (as given, with `last_error = error`) to the dead
    /// letters. Its object entry stays, so reads still find it through
    /// [`TaskStore::current_for`] and a later write supersedes it. Returns
    /// false when it was not pending.
    pub fn kill(&self, task: &Task, error: &str) -> Result<bool, MetaError> {
        let d = self.dbs;
        let mut wtxn = self.env().write_txn()?;
        let Some(old) = d.tasks.get(&wtxn, &task.id)? else { return Ok(false) };
        d.tasks.delete(&mut wtxn, &task.id)?;
        d.due.delete(&mut wtxn, &due_key(old.next_attempt_ms, task.id))?;
        let mut dead = task.clone();
        dead.last_error = Some(error.to_owned());
        d.dead.put(&mut wtxn, &task.id, &dead)?;
        wtxn.commit()?;
        Ok(true)
    }

    /// Puts dead task `id` (or every dead task) back in the queue with
    /// `attempts = 0`, due at `now_ms`; `last_error` and copy progress are
    /// kept. A dead task superseded by a newer task for its object is removed
    /// instead. One transaction.
    pub fn requeue_dead(&self, id: Option<u64>, now_ms: u64) -> Result<Requeued, MetaError> {
        let d = self.dbs;
        let mut wtxn = self.env().write_txn()?;
        let victims: Vec<Task> = match id {
            Some(id) => d.dead.get(&wtxn, &id)?.into_iter().collect(),
            None => d.dead.iter(&wtxn)?.map(|r| r.map(|(_, t)| t)).collect::<Result<_, _>>()?,
        };
        let mut out = Requeued::default();
        for mut task in victims {
            d.dead.delete(&mut wtxn, &task.id)?;
            let current = d.by_object.get(&wtxn, &object_entry(&task.bucket_id, &task.key))?;
            if current != Some(task.id) {
                out.dropped += 1;
                continue;
            }
            task.attempts = 0;
            task.next_attempt_ms = now_ms;
            d.tasks.put(&mut wtxn, &task.id, &task)?;
            d.due.put(&mut wtxn, &due_key(now_ms, task.id), &())?;
            out.requeued += 1;
        }
        wtxn.commit()?;
        Ok(out)
    }

    /// Dead tasks with ids above `after`, lowest id first, at most `limit`.
    pub fn list_dead(&self, after: u64, limit: usize) -> Result<Vec<Task>, MetaError> {
        let rtxn = self.env().read_txn()?;
        let range = (Bound::Excluded(after), Bound::Unbounded);
        let mut out = Vec::new();
        for item in self.dbs.dead.range(&rtxn, &range)?.take(limit) {
            out.push(item?.1);
        }
        Ok(out)
    }

    /// Number of pending tasks and the creation time of the oldest.
    pub fn pending(&self) -> Result<Backlog, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(Backlog {
            pending: self.dbs.tasks.len(&rtxn)?,
            oldest_created_ms: self.dbs.tasks.first(&rtxn)?.map(|(_, t)| t.created_ms),
        })
    }

    /// Number of dead tasks.
    pub fn dead_count(&self) -> Result<u64, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.dbs.dead.len(&rtxn)?)
    }

    /// The newest task of the object, pending or dead (`attempts`/`last_error`
    /// tell which is likely; [`TaskStore::is_dead`] tells for sure). Reads use
    /// it to find a version that is not on its replicas yet (hinted handoff)
    /// or a delete not yet propagated.
    pub fn current_for(&self, bucket_id: &str, key: &str) -> Result<Option<Task>, MetaError> {
        let d = self.dbs;
        let rtxn = self.env().read_txn()?;
        let Some(id) = d.by_object.get(&rtxn, &object_entry(bucket_id, key))? else { return Ok(None) };
        match d.tasks.get(&rtxn, &id)? {
            Some(t) => Ok(Some(t)),
            None => Ok(d.dead.get(&rtxn, &id)?),
        }
    }

    /// Whether task `id` is a dead letter.
    pub fn is_dead(&self, id: u64) -> Result<bool, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.dbs.dead.get(&rtxn, &id)?.is_some())
    }

    /// Every pending task, lowest id first (to rebuild in-memory indexes at start).
    pub fn all_pending(&self) -> Result<Vec<Task>, MetaError> {
        let rtxn = self.env().read_txn()?;
        let mut out = Vec::new();
        for item in self.dbs.tasks.iter(&rtxn)? {
            out.push(item?.1);
        }
        Ok(out)
    }
}

fn remove_object_entry_if(d: &TaskDbs, wtxn: &mut RwTxn<'_>, task: &Task, id: u64) -> Result<(), MetaError> {
    let obj = object_entry(&task.bucket_id, &task.key);
    if d.by_object.get(wtxn, &obj)? == Some(id) {
        d.by_object.delete(wtxn, &obj)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::task::TaskKind;
    use crate::replication::task::tests::put;

    fn open() -> (tempfile::TempDir, MetaStore) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            MetaStore::open(dir.path(), &crate::meta::crypto::MasterKey::from_bytes([7; 32])).unwrap();
        (dir, store)
    }

    fn enqueue(store: &MetaStore, task: Task) -> Task {
        let mut batch = [task];
        store.tasks().enqueue_batch(&mut batch).unwrap();
        let [t] = batch;
        t
    }

    fn ids(tasks: &[Task]) -> Vec<u64> {
        tasks.iter().map(|t| t.id).collect()
    }

    fn intent(key: &str, started_ms: u64) -> Intent {
        Intent {
            bucket: "b".into(),
            bucket_id: "00ff".into(),
            key: key.into(),
            backend: "eu1".into(),
            started_ms,
        }
    }

    /// Intents go in with the batch that records them and out with the
    /// batch of their write's task (or a clear), in the same transaction as
    /// the tasks; what is left is found by process nonce and age.
    #[test]
    fn intents_commit_with_tasks_and_leftovers_are_found() {
        use crate::replication::intent::IntentIds;
        let (_dir, store) = open();
        let mine = IntentIds::new(42, 0);
        let theirs = IntentIds::new(41, 1);
        let (a, b, c, d) = (mine.next(), mine.next(), theirs.next(), mine.next());
        let t = store.tasks();
        t.commit_batch(
            &mut [],
            &[(a, intent("a", 1_000)), (b, intent("b", 5_000)), (c, intent("c", 9_000))],
            &[],
        )
        .unwrap();
        assert_eq!(t.intent_count().unwrap(), 3);
        // The task of `a`'s write clears it in its own transaction.
        let mut batch = [put("a")];
        t.commit_batch(&mut batch, &[(d, intent("d", 9_000))], &[a]).unwrap();
        assert_ne!(batch[0].id, 0);
        assert_eq!(t.intent_count().unwrap(), 3);
        // Left over: another process's (c), and this process's older than 6000 (b).
        let left: Vec<String> =
            t.leftover_intents(42, 6_000, 10).unwrap().into_iter().map(|(_, i)| i.key).collect();
        assert_eq!(left.len(), 2);
        assert!(left.contains(&"b".to_string()) && left.contains(&"c".to_string()), "{left:?}");
        assert_eq!(t.leftover_intents(42, 6_000, 1).unwrap().len(), 1, "the limit holds");
        t.remove_intent(c).unwrap();
        t.commit_batch(&mut [], &[], &[b, d]).unwrap();
        assert_eq!(t.intent_count().unwrap(), 0);
    }

    /// A small map reports itself nearly full before a write fails.
    #[test]
    fn usage_and_nearly_full() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::meta::crypto::MasterKey::from_bytes([7; 32]);
        let store = MetaStore::open_sized(dir.path(), &key, 1 << 20).unwrap();
        let (used, map) = store.usage();
        assert_eq!(map, 1 << 20);
        assert!(used > 0 && used < map);
        assert!(!store.nearly_full());
        let mut i = 0;
        while !store.nearly_full() {
            let mut batch: Vec<Task> =
                (0..20).map(|j| put(&format!("{i}/{j}/{}", "k".repeat(200)))).collect();
            store.tasks().enqueue_batch(&mut batch).expect("room is left until nearly_full says otherwise");
            i += 1;
            assert!(i < 1000, "the map never filled: {:?}", store.usage());
        }
        let (used, map) = store.usage();
        assert!(used * 100 > map * crate::meta::store::META_FULL_PERCENT, "{used} of {map}");
    }

    #[test]
    fn enqueue_assigns_increasing_ids() {
        let (_dir, store) = open();
        let mut batch = vec![put("a"), put("b"), put("c")];
        store.tasks().enqueue_batch(&mut batch).unwrap();
        assert_eq!(ids(&batch), [1, 2, 3]);
        let t = enqueue(&store, put("d"));
        assert_eq!(t.id, 4);
        assert_eq!(ids(&store.tasks().all_pending().unwrap()), [1, 2, 3, 4]);
        assert_eq!(store.tasks().current_for(&t.bucket_id, "d").unwrap(), Some(t));
        assert_eq!(store.tasks().current_for(&batch[0].bucket_id, "zz").unwrap(), None);
        store.tasks().enqueue_batch(&mut []).unwrap();
    }

    #[test]
    fn due_order_filter_and_backoff() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let mut batch: Vec<Task> = ["a", "b", "c", "d"].iter().map(|k| put(k)).collect();
        batch[0].next_attempt_ms = 30;
        batch[1].next_attempt_ms = 10;
        batch[2].next_attempt_ms = 20;
        batch[3].next_attempt_ms = 10;
        tasks.enqueue_batch(&mut batch).unwrap();
        // (10, id 2), (10, id 4), (20, id 3), (30, id 1)
        assert_eq!(ids(&tasks.due(25, 10, |_| true).unwrap()), [2, 4, 3]);
        assert_eq!(ids(&tasks.due(100, 2, |_| true).unwrap()), [2, 4]);
        assert_eq!(ids(&tasks.due(100, 0, |_| true).unwrap()), Vec::<u64>::new());
        assert_eq!(ids(&tasks.due(9, 10, |_| true).unwrap()), Vec::<u64>::new());
        assert_eq!(ids(&tasks.due(100, 10, |t| t.key != "b").unwrap()), [4, 3, 1]);
        // Backoff: task 2 fails, retried at 50.
        let mut t = tasks.due(100, 1, |_| true).unwrap().remove(0);
        t.attempts += 1;
        t.next_attempt_ms = 50;
        t.last_error = Some("503".into());
        t.done.push("b".into());
        assert!(tasks.update(&t).unwrap());
        assert_eq!(ids(&tasks.due(40, 10, |_| true).unwrap()), [4, 3, 1]);
        let all = tasks.due(100, 10, |_| true).unwrap();
        assert_eq!(ids(&all), [4, 3, 1, 2]);
        assert_eq!(all[3], t);
        assert_eq!(tasks.pending().unwrap(), Backlog { pending: 4, oldest_created_ms: Some(1) });
    }

    #[test]
    fn complete_removes_everything_once() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let t = enqueue(&store, put("k"));
        assert!(tasks.complete(t.id).unwrap());
        assert!(!tasks.complete(t.id).unwrap());
        assert!(!tasks.update(&t).unwrap(), "update must not resurrect a completed task");
        assert!(tasks.due(u64::MAX, 10, |_| true).unwrap().is_empty());
        assert_eq!(tasks.current_for(&t.bucket_id, "k").unwrap(), None);
        assert_eq!(tasks.pending().unwrap(), Backlog { pending: 0, oldest_created_ms: None });
        assert!(!tasks.kill(&t, "late").unwrap());
        assert_eq!(tasks.dead_count().unwrap(), 0);
    }

    #[test]
    fn newer_task_supersedes_older() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let mut first = put("k");
        first.cleanup = vec!["h".into()];
        let first = enqueue(&store, first);
        let other = enqueue(&store, put("other"));
        let second = enqueue(&store, put("k"));
        assert_eq!(second.cleanup, ["h"], "the handoff holder is still to clean");
        assert_eq!(ids(&tasks.all_pending().unwrap()), [other.id, second.id]);
        assert_eq!(ids(&tasks.due(u64::MAX, 10, |_| true).unwrap()), [other.id, second.id]);
        // The worker of the first task finishes late: nothing changes.
        assert!(!tasks.update(&first).unwrap());
        assert!(!tasks.complete(first.id).unwrap());
        assert_eq!(tasks.current_for(&second.bucket_id, "k").unwrap(), Some(second.clone()));
        assert!(tasks.complete(second.id).unwrap());
        assert_eq!(tasks.current_for(&second.bucket_id, "k").unwrap(), None);
        assert_eq!(ids(&tasks.all_pending().unwrap()), [other.id]);
    }

    #[test]
    fn supersede_within_one_batch() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let mut del = put("k");
        del.kind = TaskKind::Delete;
        let mut batch = vec![put("k"), put("j"), del];
        tasks.enqueue_batch(&mut batch).unwrap();
        assert_eq!(ids(&tasks.all_pending().unwrap()), [2, 3]);
        assert_eq!(tasks.current_for(&batch[2].bucket_id, "k").unwrap().unwrap().kind, TaskKind::Delete);
    }

    #[test]
    fn repair_tasks_never_supersede_pending_ones() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let client = enqueue(&store, put("busy"));
        let dead = enqueue(&store, put("dead"));
        assert!(tasks.kill(&dead, "gave up").unwrap());
        let mut repair = vec![put("busy"), put("idle"), put("dead"), put("idle")];
        assert_eq!(tasks.enqueue_if_idle(&mut repair).unwrap(), 2);
        assert_eq!(ids(&repair), [0, 3, 4, 0], "the second idle task finds the first pending");
        assert_eq!(tasks.current_for(&client.bucket_id, "busy").unwrap(), Some(client));
        assert_eq!(tasks.current_for(&dead.bucket_id, "dead").unwrap().unwrap().id, 4);
        assert_eq!(tasks.requeue_dead(None, 0).unwrap(), Requeued { requeued: 0, dropped: 1 });
        assert_eq!(enqueue(&store, put("z")).id, 5);
    }

    #[test]
    fn objects_are_keyed_unambiguously() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let mut a = put("k");
        a.bucket_id = "ab".into();
        a.key = "c".into();
        let mut b = put("k");
        b.bucket_id = "a".into();
        b.key = "bc".into();
        let long = "x".repeat(1024);
        let c = put(&long);
        let mut d = put(&long);
        d.key.push('y');
        let mut batch = vec![a, b, c, d];
        tasks.enqueue_batch(&mut batch).unwrap();
        assert_eq!(tasks.all_pending().unwrap().len(), 4);
        assert_eq!(tasks.current_for(&batch[2].bucket_id, &long).unwrap().unwrap().id, 3);
        let again = enqueue(&store, put(&long));
        assert_eq!(ids(&tasks.all_pending().unwrap()), [1, 2, 4, again.id]);
        assert_ne!(object_entry("ab", "c"), object_entry("a", "bc"));
        assert_eq!(object_entry("b", &long)[0], OBJECT_HASHED);
    }

    #[test]
    fn kill_and_requeue() {
        let (_dir, store) = open();
        let tasks = store.tasks();
        let a = enqueue(&store, put("a"));
        let b = enqueue(&store, put("b"));
        let mut c = enqueue(&store, put("c"));
        c.attempts = 9;
        c.next_attempt_ms = 500;
        assert!(tasks.kill(&c, "gave up").unwrap());
        assert!(!tasks.kill(&c, "twice").unwrap());
        assert!(tasks.kill(&a, "gave up").unwrap());
        assert_eq!(tasks.dead_count().unwrap(), 2);
        assert!(tasks.is_dead(c.id).unwrap());
        assert_eq!(ids(&tasks.all_pending().unwrap()), [b.id]);
        assert_eq!(ids(&tasks.due(u64::MAX, 10, |_| true).unwrap()), [b.id]);
        let dead = tasks.list_dead(0, 10).unwrap();
        assert_eq!(ids(&dead), [a.id, c.id]);
        assert_eq!(dead[1].last_error.as_deref(), Some("gave up"));
        assert_eq!(dead[1].attempts, 9);
        assert_eq!(ids(&tasks.list_dead(a.id, 10).unwrap()), [c.id]);
        assert_eq!(ids(&tasks.list_dead(0, 1).unwrap()), [a.id]);
        // Reads still see a dead task.
        assert_eq!(tasks.current_for(&c.bucket_id, "c").unwrap().unwrap().id, c.id);
        // Requeue one.
        assert_eq!(tasks.requeue_dead(Some(c.id), 77).unwrap(), Requeued { requeued: 1, dropped: 0 });
        assert_eq!(tasks.requeue_dead(Some(c.id), 77).unwrap(), Requeued::default());
        let back = tasks.due(77, 10, |t| t.key == "c").unwrap();
        assert_eq!((back[0].id, back[0].attempts, back[0].next_attempt_ms), (c.id, 0, 77));
        assert!(tasks.due(76, 10, |t| t.key == "c").unwrap().is_empty());
        // A dead task superseded meanwhile is dropped; its cleanup moved on.
        let mut a2 = put("a");
        a2.source = "z".into();
        let a2 = enqueue(&store, a2);
        assert_eq!(a2.cleanup, ["a"], "the dead task's source held its version");
        assert_eq!(tasks.requeue_dead(None, 1).unwrap(), Requeued { requeued: 0, dropped: 1 });
        assert_eq!(tasks.dead_count().unwrap(), 0);
        assert_eq!(tasks.current_for(&a2.bucket_id, "a").unwrap().unwrap().id, a2.id);
        // Requeue all.
        let pending = tasks.all_pending().unwrap();
        for t in &pending {
            assert!(tasks.kill(t, "x").unwrap());
        }
        let r = tasks.requeue_dead(None, 5).unwrap();
        assert_eq!(r, Requeued { requeued: pending.len(), dropped: 0 });
        assert_eq!(tasks.pending().unwrap().pending, pending.len() as u64);
    }

    #[test]
    fn tasks_and_ids_survive_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (first, done) = {
            let store =
                MetaStore::open(dir.path(), &crate::meta::crypto::MasterKey::from_bytes([7; 32])).unwrap();
            let first = enqueue(&store, put("a"));
            let done = enqueue(&store, put("b"));
            assert!(store.tasks().complete(done.id).unwrap());
            (first, done)
        };
        let store =
            MetaStore::open(dir.path(), &crate::meta::crypto::MasterKey::from_bytes([7; 32])).unwrap();
        assert_eq!(store.tasks().all_pending().unwrap(), std::slice::from_ref(&first));
        let next = enqueue(&store, put("c"));
        assert!(next.id > done.id, "ids are never reused");
        // Even when the queue was empty at restart.
        assert!(store.tasks().complete(first.id).unwrap());
        assert!(store.tasks().complete(next.id).unwrap());
        drop(store);
        let store =
            MetaStore::open(dir.path(), &crate::meta::crypto::MasterKey::from_bytes([7; 32])).unwrap();
        assert!(enqueue(&store, put("d")).id > next.id);
    }
}
