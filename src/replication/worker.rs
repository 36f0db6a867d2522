//! Replication workers: each core's scheduler takes the due tasks of its
//! partition from LMDB and drives them to completion.
//!
//! Where they run: on the worker cores' own event loops, as
//! `replication.workers_per_core` concurrent tasks per core. Copying is
//! streaming I/O, like serving requests, so it uses the same runtime, the
//! same connection pools and the same bounded buffers; there is nothing
//! CPU-heavy to isolate. LMDB reads and writes go to the blocking pool.
//!
//! A task belongs to the core `hash(bucket id, key) % workers`, so all tasks
//! of one key run on one core, one at a time: an older task can never finish
//! after a newer one and leave a stale copy.
//!
//! # Invariants
//! - A task leaves LMDB only through `complete` (every target verified) or
//!   `kill` (dead letter after `replication.max_attempts`), and only while it
//!   is still the current task of its key.
//! - Failures on a healthy backend retry with exponential backoff and
//!   jitter, and spend an attempt; after `replication.max_attempts` the task
//!   is a dead letter.
//! - A task whose target or source is down spends no attempt: the other
//!   targets get their copies, and the task is parked (due again after
//!   [`PARK`], or at once when core 0 sees a backend come back up).
//!   An outage of any length never dead-letters a task.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;

use crate::backend::{Backend, BackendError};
use crate::meta::Snapshot;
use crate::runtime::core::CoreCtx;
use crate::runtime::shutdown::race;

use super::copy::{CopyError, CopyLimits, copy_version, holds_version, lacks_key};
use super::task::{Task, TaskKind, now_ms};

/// How often a scheduler looks for due tasks when nothing woke it.
const POLL: Duration = Duration::from_millis(100);
/// How long a task waiting for a backend that is down stays parked. Core 0
/// makes every parked task due as soon as a backend comes back, so this is
/// only a safety net; each park is an LMDB commit, and parking for
/// `backoff_max` (60 s) cost 42,561 commits over a 5-minute outage with
/// 11,000 tasks (bench-results/2026-12-05-outage-catch-up.md).
const PARK: Duration = Duration::from_secs(10 * 60);

/// The core a task belongs to.
pub fn partition(bucket_id: &str, key: &str, cores: usize) -> usize {
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(
        key.as_bytes(),
        xxhash_rust::xxh3::xxh3_64(bucket_id.as_bytes()),
    );
    (h % cores.max(1) as u64) as usize
}

/// The delay before attempt `attempts + 1`: base * 2^(attempts-1), capped,
/// times a jitter in [0.5, 1.5).
pub fn backoff(base: Duration, max: Duration, attempts: u32, seed: u64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20)).min(max);
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    let jitter = 0.5 + (x >> 11) as f64 / (1u64 << 53) as f64;
    exp.mul_f64(jitter)
}

/// Runs this core's scheduler until the server stops.
pub async fn run(core: Rc<CoreCtx>) {
    let cfg = core.shared.config.replication.clone();
    let cores = core.shared.workers;
    let me = core.id;
    let running = Rc::new(Cell::new(0usize));
    let busy: Rc<RefCell<HashSet<(String, String)>>> = Rc::default();
    // Which backends were up at the last look (core 0 wakes parked tasks
    // when one comes back).
    let mut up_before: Vec<(String, bool)> = Vec::new();
    while !core.shared.is_stopping() {
        let _ = race(core.replication_kick.wait(), monoio::time::sleep(POLL)).await;
        if me == 0 {
            let up_now = core.shared.health.states();
            let returned =
                up_now.iter().any(|(id, up)| *up && up_before.iter().any(|(b, was)| b == id && !was));
            up_before = up_now;
            if returned {
                let now = now_ms();
                match core.meta(move |s| s.store.tasks().wake_all(now)).await {
                    Ok(n) => {
                        tracing::info!(tasks = n, "a backend is back: parked replication tasks are due now")
                    }
                    Err(e) => tracing::warn!(error = %e, "waking parked replication tasks failed"),
                }
            }
        }
        let free = cfg.workers_per_core.saturating_sub(running.get());
        if free == 0 {
            continue;
        }
        let now = now_ms();
        let limit = free * 4;
        let due = core
            .meta(move |s| s.store.tasks().due(now, limit, |t| partition(&t.bucket_id, &t.key, cores) == me))
            .await;
        let Ok(due) = due else { continue };
        for task in due {
            if running.get() >= cfg.workers_per_core {
                break;
            }
            let object = (task.bucket_id.clone(), task.key.clone());
            if !busy.borrow_mut().insert(object.clone()) {
                continue; // an older task of this key is still running
            }
            running.set(running.get() + 1);
            let (core, running, busy) = (core.clone(), running.clone(), busy.clone());
            monoio::spawn(async move {
                let _ = crate::runtime::shutdown::catch_panic(process(&core, task)).await;
                busy.borrow_mut().remove(&object);
                running.set(running.get() - 1);
                core.replication_kick.notify();
            });
        }
    }
}

/// Index of backend `id` in `snap`.
fn backend_index(snap: &Snapshot, id: &str) -> Option<u16> {
    snap.backends.iter().find(|b| b.id == id).map(|b| b.index)
}

/// Persists `task` (progress or backoff); false when it was superseded.
async fn save(core: &CoreCtx, task: Task) -> bool {
    core.meta(move |s| s.store.tasks().update(&task)).await.unwrap_or(false)
}

/// Drives one task as far as it goes now.
async fn process(core: &CoreCtx, mut task: Task) {
    let snap = core.snapshot();
    let metrics = &core.shared.replication_metrics;
    let bucket_id = u128::from_str_radix(&task.bucket_id, 16).unwrap_or(0);
    let Some(bucket) = snap.bucket(&task.bucket).filter(|b| b.id_hex == task.bucket_id) else {
        // The bucket is gone: nothing left to replicate.
        let id = task.id;
        let _ = core.meta(move |s| s.store.tasks().complete(id)).await;
        core.shared.pending.remove(bucket_id, &task.key, task.id);
        return;
    };
    // Reads must know about the task before it changes any backend (it may
    // come from `sluice repair`, or its commit hook may not have run yet).
    core.shared.pending.index_tasks(&snap, std::iter::once(&task), true);
    let primary = crate::placement::place(bucket.id, task.key.as_bytes(), &bucket.candidates, 1)
        .ok()
        .and_then(|r| snap.backends.get(usize::from(r[0])).map(|b| b.id.clone()));
    let limits = CopyLimits {
        threshold: core.shared.config.replication.multipart_threshold,
        part_size: core.shared.config.replication.part_size,
    };
    let mut error: Option<String> = None;
    // A target or the source is down: the task waits without spending attempts.
    let mut waiting = false;
    let targets: Vec<String> = task.remaining_targets().map(str::to_string).collect();
    for target_id in targets {
        let Some(t_idx) = backend_index(&snap, &target_id) else {
            // The backend was removed from the configuration: nothing to do there.
            task.done.push(target_id);
            continue;
        };
        if !core.is_up(&snap, t_idx) {
            // Not a failure of the task: it waits for the target, and the
            // other targets get their copies meanwhile.
            waiting = true;
            continue;
        }
        let Some(target) = core.backend(&snap, t_idx) else { break };
        let outcome: Result<u64, CopyError> = match task.kind {
            TaskKind::Put => {
                let Some(s_idx) = backend_index(&snap, &task.source) else {
                    error = Some(format!("source {} is not configured", task.source));
                    break;
                };
                if !core.is_up(&snap, s_idx) {
                    waiting = true;
                    break;
                }
                let Some(source) = core.backend(&snap, s_idx) else { break };
                match holds_version(&target, &task).await {
                    Ok(true) => Ok(0),
                    Ok(false) => {
                        let r =
                            copy_version(&source, &target, &target_id, &mut task, limits, |t| save(core, t))
                                .await;
                        match r {
                            Ok(n) => match holds_version(&target, &task).await {
                                Ok(true) => Ok(n),
                                Ok(false) => Err(CopyError::Verify),
                                Err(e) => Err(e.into()),
                            },
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e.into()),
                }
            }
            TaskKind::Delete => match target.delete_object(&task.physical, &task.key).await {
                Ok(()) => match lacks_key(&target, &task).await {
                    Ok(true) => Ok(0),
                    Ok(false) => Err(CopyError::Verify),
                    Err(e) => Err(e.into()),
                },
                Err(e) => Err(e.into()),
            },
        };
        match outcome {
            Ok(bytes) => {
                metrics.bytes.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
                if bytes > 0 {
                    metrics.objects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                task.done.push(target_id.clone());
                let is_primary = primary.as_deref() == Some(target_id.as_str());
                core.shared.pending.mark_done(bucket_id, &task.key, task.id, &target_id, is_primary);
                // Progress is saved while targets remain (a restart skips the
                // done ones); after the last one `complete` follows, which
                // saves an fsync per task.
                if !task.targets_done() && !save(core, task.clone()).await {
                    return; // superseded: the newer task takes over
                }
            }
            Err(CopyError::Superseded) => return,
            Err(CopyError::SourceChanged) if task.repair => {
                // The object changed after the scan that queued this task; the
                // write that changed it has its own task, and the next scan
                // sees the new state.
                let id = task.id;
                let _ = core.meta(move |s| s.store.tasks().complete(id)).await;
                core.shared.pending.remove(bucket_id, &task.key, task.id);
                return;
            }
            Err(CopyError::SourceChanged) => {
                // A newer write replaced the version: the newer task copies it.
                let (bid, key, id) = (task.bucket_id.clone(), task.key.clone(), task.id);
                let current =
                    core.meta(move |s| s.store.tasks().current_for(&bid, &key)).await.ok().flatten();
                if current.is_some_and(|c| c.id != id) {
                    return;
                }
                error = Some(CopyError::SourceChanged.to_string());
                break;
            }
            Err(CopyError::Source(be)) => {
                // The source failed, not the target: count it against the
                // source. Unreachable, it is an outage to wait out; no other
                // target can be served from it either.
                if be.is_connection_failure() {
                    if let Some(s_idx) = backend_index(&snap, &task.source) {
                        core.health(&snap, s_idx).map(|h| h.record_failure());
                    }
                    waiting = true;
                } else {
                    error = Some(format!("source {}: {}", task.source, CopyError::Source(be)));
                }
                break;
            }
            Err(CopyError::SourceCorrupt) => {
                // Never copy bytes the record does not vouch for: look for
                // another copy of the version to copy from next time.
                metrics.corrupt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let bad = task.source.clone();
                let other = other_source(core, &snap, &task).await;
                tracing::error!(
                    bucket = %task.bucket,
                    key = %task.key,
                    source = %bad,
                    next_source = other.as_deref().unwrap_or("none"),
                    "a copy's bytes do not match the object's record; it is not copied"
                );
                error = Some(format!("source {bad}: {}", CopyError::SourceCorrupt));
                if let Some(id) = other {
                    task.source = id;
                }
                break;
            }
            Err(CopyError::Backend(be)) if be.is_connection_failure() => {
                // The target went away mid-task: wait for it, go on with the others.
                core.health(&snap, t_idx).map(|h| h.record_failure());
                waiting = true;
            }
            Err(e) => {
                // A failure on a healthy target: it costs an attempt, but the
                // remaining targets still get their copies.
                error = Some(format!("target {target_id}: {e}"));
            }
        }
    }
    if task.targets_done() && error.is_none() && !waiting {
        for holder in task.cleanup.clone() {
            if let Some(idx) = backend_index(&snap, &holder)
                && let Some(b) = core.backend(&snap, idx)
                && !is_target(&task, &holder)
                && let Err(e) = b.delete_object(&task.physical, &task.key).await
                && !matches!(e, BackendError::Status { status: 404, .. })
            {
                error = Some(format!("cleanup {holder}: {e:?}"));
                break;
            }
        }
    }
    if error.is_none() && !waiting && task.targets_done() {
        let id = task.id;
        let _ = core.meta(move |s| s.store.tasks().complete(id)).await;
        core.shared.pending.remove(bucket_id, &task.key, task.id);
        metrics.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    let cfg = &core.shared.config.replication;
    if error.is_none() && waiting {
        // Parked until a backend comes back (the scheduler then makes every
        // task due at once), or `backoff_max` as a safety net. No attempt is
        // spent: an outage of any length never dead-letters a task.
        task.last_error = Some("waiting for a backend that is down".to_string());
        task.next_attempt_ms = now_ms() + backoff(PARK, PARK, 1, task.id ^ now_ms()).as_millis() as u64;
        metrics.waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        save(core, task).await;
        return;
    }
    let error = error.unwrap_or_else(|| "interrupted".to_string());
    task.attempts += 1;
    task.last_error = Some(error.clone());
    if task.attempts >= cfg.max_attempts {
        tracing::warn!(bucket = %task.bucket, task = task.id, error = %error, "replication task moved to dead letters");
        let killed = core.meta(move |s| s.store.tasks().kill(&task, &error)).await.unwrap_or(false);
        if killed {
            metrics.dead.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        return;
    }
    let delay = backoff(cfg.backoff_base, cfg.backoff_max, task.attempts, task.id ^ now_ms());
    task.next_attempt_ms = now_ms() + delay.as_millis() as u64;
    metrics.retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::debug!(bucket = %task.bucket, task = task.id, attempts = task.attempts, error = %error, "replication retry");
    save(core, task).await;
}

/// Another backend that says it holds the task's version (targets already
/// done first): the next source to try when the current one's bytes did not
/// match the record. The copy from it is verified the same way.
async fn other_source(core: &CoreCtx, snap: &Snapshot, task: &Task) -> Option<String> {
    let mut candidates: Vec<&crate::meta::BackendInfo> =
        snap.backends.iter().filter(|b| b.id != task.source).collect();
    candidates.sort_by_key(|b| !task.done.contains(&b.id));
    for b in candidates {
        if !core.is_up(snap, b.index) {
            continue;
        }
        let Some(backend) = core.backend(snap, b.index) else { continue };
        if holds_version(&backend, task).await.unwrap_or(false) {
            return Some(b.id.clone());
        }
    }
    None
}

/// Whether `backend` is one of the task's targets (never cleaned up).
fn is_target(task: &Task, backend: &str) -> bool {
    task.targets.iter().any(|t| t == backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        for a in 1..30 {
            let d = backoff(base, max, a, a as u64);
            let nominal = base.saturating_mul(1 << (a - 1).min(20)).min(max);
            assert!(d >= nominal.mul_f64(0.5) && d < nominal.mul_f64(1.5), "{a}: {d:?}");
        }
    }

    #[test]
    fn partitions_spread_and_are_stable() {
        let mut counts = [0usize; 2];
        for i in 0..1000 {
            counts[partition("ab", &format!("k{i}"), 2)] += 1;
        }
        assert!(counts[0] > 400 && counts[1] > 400, "{counts:?}");
        assert_eq!(partition("ab", "k", 2), partition("ab", "k", 2));
    }
}
