//! Write intents: a durable note, made while a write's body streams, that a
//! backend may be about to hold a new version of a key.
//!
//! Without it there is a window in which the backend has stored an object
//! and its replication task is not yet durable: a full disk, a full queue or
//! a crash there leaves an object with one copy and no task. With it, every
//! outcome leaves a task or an intent:
//! - the write succeeds: its task is committed and clears the intent in the
//!   same transaction;
//! - the write fails (backend error, bad body): the request clears the
//!   intent (not waited for);
//! - anything else (the process dies, the task's commit fails): the intent
//!   stays, and the intent sweep (`runtime/intent_sweep.rs`) repairs that one
//!   key from what the backends hold: a repair task if its copies disagree
//!   with placement, nothing if the write never landed.
//!
//! An intent is pushed into the core's queue when a write of at least
//! [`INTENT_MIN_BODY`] starts, so its commit (group commit, one fsync for
//! many) overlaps the upload; the write's last bytes go to the backend only
//! once the intent is durable, which by then has nearly always happened (see
//! `DESIGN.md`, "Faults", for smaller writes).
//!
//! # Invariants
//! - An intent's id is unique across restarts: the process's random nonce,
//!   the core and a per-core sequence.
//! - A leftover intent is removed only after its key was examined (or its
//!   bucket is gone).

use std::cell::Cell;

use serde::{Deserialize, Serialize};

/// How old an intent of the running process must be before the sweep treats
/// it as left over: longer than any write can take (a 5 GiB upload at a slow
/// client, or CompleteMultipartUpload's 15-minute backend wait).
pub const INTENT_MAX_AGE_MS: u64 = 60 * 60 * 1000;

/// Smallest write that records an intent. Its upload outlasts a group
/// commit (8 MiB take 8 ms even at 1 GB/s; a group commit is one fsync,
/// 0.3 ms to a few ms), so the intent is durable before the last bytes go
/// and costs no latency. Below it the gate would wait for the fsync on fast
/// links: measured on loopback, 1 MiB PUTs at concurrency 8 took about a
/// third longer (bench-results/2026-12-05-durable-write-latency.md). Smaller
/// writes keep the one-commit window described in `DESIGN.md`.
pub const INTENT_MIN_BODY: u64 = 8 << 20;

/// The id of an intent: 8 bytes of process nonce, 2 of core, 6 of sequence.
pub type IntentId = u128;

/// One write in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// Bucket name and id (a bucket re-created under the same name has a new id).
    pub bucket: String,
    pub bucket_id: String,
    pub key: String,
    /// The backend the write goes to.
    pub backend: String,
    /// Unix milliseconds when the write started.
    pub started_ms: u64,
}

/// Hands out intent ids on one core.
pub struct IntentIds {
    base: u128,
    seq: Cell<u64>,
}

impl IntentIds {
    /// Ids for core `core` of the process whose nonce is `nonce`.
    pub fn new(nonce: u64, core: usize) -> IntentIds {
        IntentIds { base: (u128::from(nonce) << 64) | (((core as u128) & 0xffff) << 48), seq: Cell::new(0) }
    }

    pub fn next(&self) -> IntentId {
        let s = self.seq.get().wrapping_add(1) & 0xffff_ffff_ffff;
        self.seq.set(s);
        self.base | u128::from(s)
    }
}

/// The process nonce part of an intent id.
pub fn nonce_of(id: IntentId) -> u64 {
    (id >> 64) as u64
}

/// A random process nonce (never 0).
pub fn process_nonce() -> u64 {
    let mut b = [0u8; 8];
    // getrandom only fails when the OS has no entropy source at all.
    getrandom::fill(&mut b).expect("the OS random source is available");
    u64::from_be_bytes(b).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_per_core_and_process() {
        let a = IntentIds::new(7, 0);
        let b = IntentIds::new(7, 1);
        let c = IntentIds::new(8, 0);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.next()));
            assert!(seen.insert(b.next()));
            assert!(seen.insert(c.next()));
        }
        assert_eq!(nonce_of(a.next()), 7);
        assert_eq!(nonce_of(c.next()), 8);
    }
}
