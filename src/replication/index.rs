//! In-memory index of the pending replication tasks that reads must know about.
//!
//! Reads go to the primary first. That is right unless a pending task says the
//! primary is not (yet) the newest copy: a write that went to a hinted-handoff
//! backend while the primary was down, or a delete the primary has not seen.
//! Those tasks are "read-relevant": while any exists, reads look their key up
//! here before choosing a backend. Every pending task is indexed, so that a
//! read failing over from a dead primary only uses replicas that have
//! completed.
//!
//! The index is rebuilt from LMDB at start and refreshed by the schedulers, so
//! tasks queued by `sluice repair` from another process show up too.
//!
//! # Invariants
//! - An entry is removed only by the task that created it (same task id), so
//!   a newer task for the same key is never dropped by an older one finishing.
//! - The read path takes a shard lock only when `relevant_count() > 0` or the
//!   primary could not answer: the common path is one atomic load.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::task::{Task, TaskKind};
use crate::meta::Snapshot;

/// Shards of the index (a key's shard is a hash of it).
const SHARDS: usize = 32;

/// What a read needs to know about a key with a pending task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    pub task_id: u64,
    pub kind: TaskKind,
    /// The backend holding the version to copy (Put).
    pub source: String,
    /// Targets already verified: they hold the version (Put) or not the key (Delete).
    pub done: Vec<String>,
    /// The primary is not up to date (handoff write, or delete not applied on it).
    pub relevant: bool,
}

type Shard = Mutex<HashMap<(u128, String), PendingEntry>>;

/// The index (see the module docs).
pub struct PendingIndex {
    shards: Vec<Shard>,
    relevant: AtomicUsize,
    /// Entries in all shards (listings skip the lookups when it is 0).
    entries: AtomicUsize,
}

impl Default for PendingIndex {
    fn default() -> Self {
        PendingIndex {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            relevant: AtomicUsize::new(0),
            entries: AtomicUsize::new(0),
        }
    }
}

impl PendingIndex {
    fn shard(&self, bucket_id: u128, key: &str) -> &Shard {
        let h =
            xxhash_rust::xxh3::xxh3_64_with_seed(key.as_bytes(), bucket_id as u64 ^ (bucket_id >> 64) as u64);
        &self.shards[(h % SHARDS as u64) as usize]
    }

    /// Whether no entry exists right now (one atomic load).
    pub fn is_empty_now(&self) -> bool {
        self.entries.load(Ordering::Acquire) == 0
    }

    /// Whether some pending write of bucket `bucket_id` has its only copies
    /// on the backends `down`: its source is down and no target that is up
    /// has completed. A listing without those backends would miss the key
    /// (or show an older version of it).
    pub fn has_stranded_write(&self, bucket_id: u128, down: &[&str]) -> bool {
        if self.is_empty_now() || down.is_empty() {
            return false;
        }
        self.shards.iter().any(|s| {
            s.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|((b, _), e)| {
                *b == bucket_id
                    && e.kind == TaskKind::Put
                    && down.contains(&e.source.as_str())
                    && e.done.iter().all(|d| down.contains(&d.as_str()))
            })
        })
    }

    /// Read-relevant entries right now.
    pub fn relevant_count(&self) -> usize {
        self.relevant.load(Ordering::Acquire)
    }

    /// Records the pending task of a key, replacing an older one.
    pub fn insert(&self, bucket_id: u128, key: &str, entry: PendingEntry) {
        let relevant = entry.relevant;
        let old = self
            .shard(bucket_id, key)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((bucket_id, key.to_string()), entry);
        if relevant {
            self.relevant.fetch_add(1, Ordering::AcqRel);
        }
        if old.is_none() {
            self.entries.fetch_add(1, Ordering::AcqRel);
        }
        if old.is_some_and(|o| o.relevant) {
            self.relevant.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Removes the entry of `key` if it still belongs to task `task_id`.
    pub fn remove(&self, bucket_id: u128, key: &str, task_id: u64) {
        let mut shard = self.shard(bucket_id, key).lock().unwrap_or_else(|e| e.into_inner());
        let k = (bucket_id, key.to_string());
        if shard.get(&k).is_some_and(|e| e.task_id == task_id)
            && let Some(e) = shard.remove(&k)
        {
            self.entries.fetch_sub(1, Ordering::AcqRel);
            if e.relevant {
                self.relevant.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Marks `target` done for task `task_id`; `primary_done`: it was the primary,
    /// so reads no longer need the entry to find the newest copy.
    pub fn mark_done(&self, bucket_id: u128, key: &str, task_id: u64, target: &str, primary_done: bool) {
        let mut shard = self.shard(bucket_id, key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = shard.get_mut(&(bucket_id, key.to_string()))
            && e.task_id == task_id
        {
            if !e.done.iter().any(|d| d == target) {
                e.done.push(target.to_string());
            }
            if primary_done && e.relevant {
                e.relevant = false;
                self.relevant.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// The pending entry of `key`.
    pub fn get(&self, bucket_id: u128, key: &str) -> Option<PendingEntry> {
        self.shard(bucket_id, key)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(bucket_id, key.to_string()))
            .cloned()
    }

    /// Entries in total (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indexes stored tasks (ids assigned). An entry is replaced only by a
    /// newer task; a provisional entry (id 0) by any.
    ///
    /// `insert_missing`: also index keys without an entry (at start, and when
    /// a scheduler picks up a task, which covers tasks queued by `sluice
    /// repair`). The commit hook passes false: the request side put a
    /// provisional entry in before pushing, so a missing entry means a worker
    /// already finished the task, and re-adding it would leave it stale.
    pub fn index_tasks<'a>(
        &self,
        snap: &Snapshot,
        tasks: impl IntoIterator<Item = &'a Task>,
        insert_missing: bool,
    ) {
        for t in tasks {
            let Some(bucket) = snap.bucket(&t.bucket).filter(|b| b.id_hex == t.bucket_id) else { continue };
            let primary = crate::placement::place(bucket.id, t.key.as_bytes(), &bucket.candidates, 1)
                .ok()
                .and_then(|r| snap.backends.get(usize::from(r[0])).map(|b| b.id.as_str()));
            let relevant =
                primary.is_some_and(|p| t.targets.iter().any(|x| x == p) && !t.done.iter().any(|x| x == p));
            let entry = PendingEntry {
                task_id: t.id,
                kind: t.kind,
                source: t.source.clone(),
                done: t.done.clone(),
                relevant,
            };
            self.insert_if_newer(bucket.id, &t.key, entry, insert_missing);
        }
    }

    /// Inserts `entry` unless the key has an entry of the same or a newer
    /// task (or none, unless `insert_missing`).
    fn insert_if_newer(&self, bucket_id: u128, key: &str, entry: PendingEntry, insert_missing: bool) {
        let mut shard = self.shard(bucket_id, key).lock().unwrap_or_else(|e| e.into_inner());
        let k = (bucket_id, key.to_string());
        // A provisional entry (id 0) is older than any committed task.
        match shard.get(&k) {
            Some(e) if e.task_id >= entry.task_id => return,
            None if !insert_missing => return,
            _ => {}
        }
        let relevant = entry.relevant;
        let old = shard.insert(k, entry);
        drop(shard);
        if relevant {
            self.relevant.fetch_add(1, Ordering::AcqRel);
        }
        if old.is_none() {
            self.entries.fetch_add(1, Ordering::AcqRel);
        }
        if old.is_some_and(|o| o.relevant) {
            self.relevant.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, relevant: bool) -> PendingEntry {
        PendingEntry { task_id: id, kind: TaskKind::Put, source: "eu2".into(), done: vec![], relevant }
    }

    #[test]
    fn newer_tasks_win_and_relevance_is_counted() {
        let idx = PendingIndex::default();
        idx.insert(1, "k", entry(1, true));
        assert_eq!(idx.relevant_count(), 1);
        idx.insert(1, "k", entry(2, false));
        assert_eq!(idx.relevant_count(), 0, "the replaced entry was relevant");
        idx.remove(1, "k", 1);
        assert_eq!(idx.get(1, "k").unwrap().task_id, 2, "an older task cannot remove a newer entry");
        idx.insert(1, "j", entry(3, true));
        idx.mark_done(1, "j", 3, "eu1", true);
        assert_eq!(idx.relevant_count(), 0);
        assert_eq!(idx.get(1, "j").unwrap().done, vec!["eu1".to_string()]);
        assert!(!idx.is_empty_now());
        assert!(idx.has_stranded_write(1, &["eu2"]), "k: its source eu2 is down, no target done");
        assert!(!idx.has_stranded_write(1, &["eu1"]), "the sources are up");
        assert!(!idx.has_stranded_write(2, &["eu2"]), "another bucket");
        idx.remove(1, "k", 2);
        idx.remove(1, "j", 3);
        assert!(idx.is_empty());
        assert!(idx.is_empty_now());
    }
}
