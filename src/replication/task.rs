//! A replication task: what must happen to one object key on which backends,
//! and how far it got. Stored as serde JSON in LMDB (`replication::store`).
//!
//! A request core makes one task per successful write (PutObject,
//! CompleteMultipartUpload, CopyObject, DeleteObject, each key of
//! DeleteObjects); a replication worker drives it to completion:
//! a `Put` copies `version` from `source` to every target not yet `done`, a
//! `Delete` deletes the key from every target; when every target is done the
//! key is deleted from the `cleanup` backends and the task is completed.
//!
//! # Invariants
//! - `id` is 0 until the store commits the task, then unique and increasing in
//!   commit order, across restarts.
//! - `done` is a subset of `targets` (the worker only adds verified targets).
//! - Fields added later must be `#[serde(default)]`, so records written by an
//!   older sluice stay readable (a task outlives an upgrade).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The wall clock in Unix milliseconds, the unit of the task's times
/// (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What the task does to the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// Copy `Task::version` from `Task::source` to every target.
    Put,
    /// Delete the key from every target.
    Delete,
}

/// The object version a `Put` task replicates, as the source held it when the
/// task was made. A worker verifies copies against it (and should read the
/// source with `If-Match: etag`, so a newer version is never copied under an
/// older task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// Quoted, as the backend returned it.
    pub etag: String,
    pub size: u64,
    /// (header name, base64 value), e.g. `("x-amz-checksum-crc32", "...")`.
    #[serde(default)]
    pub checksum: Option<(String, String)>,
    /// CRC-64/NVME of the content, computed by sluice as the write streamed
    /// (None for versions written before sluice recorded it, or unknown).
    #[serde(default)]
    pub crc64: Option<u64>,
}

/// What sluice recorded of an object's acknowledged version (see
/// `DESIGN.md`, "Faults"): copies are judged against it, never against
/// whatever one backend holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// The logical ETag, quoted.
    pub etag: String,
    pub size: u64,
    #[serde(default)]
    pub crc64: Option<u64>,
    /// Unix milliseconds of the write.
    pub written_ms: u64,
}

/// A multipart copy to one target in progress, so a restarted worker resumes
/// instead of starting over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyProgress {
    /// Backend id of the target.
    pub target: String,
    /// The target backend's own multipart upload id.
    pub upload_id: String,
    pub part_size: u64,
    /// (part number, quoted ETag) of the parts already uploaded.
    #[serde(default)]
    pub parts: Vec<(u16, String)>,
    /// (part number, CRC-64/NVME of the bytes read from the source for it).
    #[serde(default)]
    pub crcs: Vec<(u16, u64)>,
}

/// One replication task. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Assigned by the store at commit (monotonic, unique across restarts); 0 before.
    #[serde(default)]
    pub id: u64,
    /// Bucket name as clients see it (for logs and the UI).
    pub bucket: String,
    /// The bucket's id (32 hex digits); with `key`, the object's identity.
    pub bucket_id: String,
    /// Physical bucket name on the backends.
    pub physical: String,
    pub key: String,
    pub kind: TaskKind,
    /// Backend id holding the version to copy (`Put`).
    #[serde(default)]
    pub source: String,
    /// What the source held when the task was made (`Put`).
    pub version: ObjectVersion,
    /// Backend ids that must end up with the version (`Put`) or without the key (`Delete`).
    pub targets: Vec<String>,
    /// Targets already verified.
    #[serde(default)]
    pub done: Vec<String>,
    /// Backend ids to delete the key from once every target is done
    /// (hinted-handoff holders, misplaced copies).
    #[serde(default)]
    pub cleanup: Vec<String>,
    /// Part sizes of a multipart source (to reproduce its ETag); empty otherwise.
    #[serde(default)]
    pub part_sizes: Vec<u64>,
    #[serde(default)]
    pub attempts: u32,
    /// Unix milliseconds; the task is due when this is <= now.
    #[serde(default)]
    pub next_attempt_ms: u64,
    /// Unix milliseconds when the write happened.
    #[serde(default)]
    pub created_ms: u64,
    #[serde(default)]
    pub last_error: Option<String>,
    /// A resumable multipart copy in progress.
    #[serde(default)]
    pub copy: Option<CopyProgress>,
    /// Made by repair or scrub, not by a client's write: it never supersedes a
    /// pending task ([`TaskStore::enqueue_if_idle`]), and a worker drops it when
    /// the source changed before it ran (that write has its own task).
    ///
    /// [`TaskStore::enqueue_if_idle`]: super::store::TaskStore::enqueue_if_idle
    #[serde(default)]
    pub repair: bool,
}

impl Task {
    /// A new task for `key` of bucket `b`, due now and never tried; callers
    /// set `part_sizes` and `repair` where they apply.
    pub fn new(
        b: &crate::meta::BucketInfo,
        key: &str,
        kind: TaskKind,
        source: String,
        version: ObjectVersion,
        targets: Vec<String>,
        cleanup: Vec<String>,
    ) -> Task {
        let now = now_ms();
        Task {
            id: 0,
            bucket: b.name.clone(),
            bucket_id: b.id_hex.clone(),
            physical: b.physical.clone(),
            key: key.to_string(),
            kind,
            source,
            version,
            targets,
            done: Vec::new(),
            cleanup,
            part_sizes: Vec::new(),
            attempts: 0,
            next_attempt_ms: now,
            created_ms: now,
            last_error: None,
            copy: None,
            repair: false,
        }
    }

    /// Targets not yet verified, in `targets` order.
    pub fn remaining_targets(&self) -> impl Iterator<Item = &str> {
        self.targets.iter().filter(|t| !self.done.contains(t)).map(String::as_str)
    }

    /// Whether every target is done (only `cleanup` may remain).
    pub fn targets_done(&self) -> bool {
        self.remaining_targets().next().is_none()
    }

    /// Takes over the obligations of `old`, an older task for the same object
    /// that this one supersedes: `old`'s cleanup list, and every backend that
    /// may hold `old`'s version (its source and done targets of a `Put`), except
    /// the backends this task writes (`source`, `targets`). `done` is not
    /// inherited: those copies hold the older version.
    pub(crate) fn inherit_cleanup(&mut self, old: &Task) {
        let mut holders: Vec<&String> = old.cleanup.iter().collect();
        if old.kind == TaskKind::Put {
            holders.extend(old.done.iter());
            if !old.source.is_empty() {
                holders.push(&old.source);
            }
        }
        for b in holders {
            let written_by_us = *b == self.source || self.targets.contains(b);
            if !written_by_us && !self.cleanup.contains(b) {
                self.cleanup.push(b.clone());
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `Put` task of `key` in bucket `logs`, source `a`, targets `b` and `c`.
    pub(crate) fn put(key: &str) -> Task {
        Task {
            id: 0,
            bucket: "logs".into(),
            bucket_id: "0123456789abcdef0123456789abcdef".into(),
            physical: "sluice-0123".into(),
            key: key.into(),
            kind: TaskKind::Put,
            source: "a".into(),
            version: ObjectVersion { etag: "\"abc\"".into(), size: 3, checksum: None, crc64: None },
            targets: vec!["b".into(), "c".into()],
            done: vec![],
            cleanup: vec![],
            part_sizes: vec![],
            attempts: 0,
            next_attempt_ms: 0,
            created_ms: 1,
            last_error: None,
            copy: None,
            repair: false,
        }
    }

    #[test]
    fn json_round_trip_and_old_records() {
        let mut t = put("k");
        t.copy = Some(CopyProgress {
            target: "b".into(),
            upload_id: "u".into(),
            part_size: 8 << 20,
            parts: vec![(1, "\"e1\"".into())],
            crcs: Vec::new(),
        });
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"kind\":\"put\""));
        assert_eq!(serde_json::from_str::<Task>(&json).unwrap(), t);
        // A minimal record (fields added later missing) still decodes.
        let minimal = r#"{"bucket":"b","bucket_id":"x","physical":"p","key":"k","kind":"delete",
            "version":{"etag":"","size":0},"targets":["a"]}"#;
        let t: Task = serde_json::from_str(minimal).unwrap();
        assert_eq!(t.kind, TaskKind::Delete);
        assert!(t.done.is_empty() && t.copy.is_none() && t.id == 0);
    }

    #[test]
    fn remaining_targets() {
        let mut t = put("k");
        assert_eq!(t.remaining_targets().collect::<Vec<_>>(), ["b", "c"]);
        t.done.push("c".into());
        assert_eq!(t.remaining_targets().collect::<Vec<_>>(), ["b"]);
        assert!(!t.targets_done());
        t.done.push("b".into());
        assert!(t.targets_done());
    }

    #[test]
    fn inherits_cleanup_of_superseded_task() {
        let mut old = put("k");
        old.source = "h".into(); // hinted handoff holder
        old.cleanup = vec!["h".into(), "x".into()];
        old.targets = vec!["a".into(), "b".into(), "d".into()];
        old.done = vec!["b".into(), "d".into()];
        let mut new = put("k"); // source a, targets b, c
        new.inherit_cleanup(&old);
        // h and x from old.cleanup; d held old's version and is no target now.
        assert_eq!(new.cleanup, ["h", "x", "d"]);
        assert!(new.done.is_empty());
        // Twice is the same (a retried batch).
        new.inherit_cleanup(&old);
        assert_eq!(new.cleanup, ["h", "x", "d"]);
        // A delete's done targets hold nothing.
        let mut del = put("k");
        del.kind = TaskKind::Delete;
        del.source = String::new();
        del.done = vec!["z".into()];
        let mut newer = put("k");
        newer.inherit_cleanup(&del);
        assert!(newer.cleanup.is_empty());
    }
}
