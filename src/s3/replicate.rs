//! The request side of replication: where a write goes (the primary, or a
//! hinted-handoff backend while the primary is down), which replication task
//! it leaves behind, and where a read looks.
//!
//! - Writes go to the primary. When it is down they go to the next healthy
//!   backend in placement order (hinted handoff) and the task moves the object
//!   to the replica set, then removes the handoff copy. A write gets
//!   `503 SlowDown` only when no eligible backend is healthy, or fewer than
//!   the bucket's `min_write_replicas` (default 1) are.
//! - After the write, a task with the other replicas as targets is pushed to
//!   the core's queue; with `replication.durability = "sync"` the client's
//!   answer waits until the task is committed to LMDB.
//! - Reads go to the primary; while pending tasks make it stale (handoff,
//!   unapplied delete) or when it fails, they follow the pending-task index:
//!   the handoff source, then replicas that completed, in placement order.

use smallvec::SmallVec;

use crate::error::{S3Error, S3ErrorCode};
use crate::meta::BucketInfo;
use crate::placement;
use crate::replication::index::PendingEntry;
use crate::replication::{
    Durable, EnqueueError, Intent, IntentId, ObjectVersion, RecordChange, Task, TaskKind, now_ms,
};
use crate::s3::service::Ctx;

/// Where a write goes.
#[derive(Debug, Clone)]
pub struct WritePlan {
    /// Backend index the write goes to.
    pub target: u16,
    /// The replica set, primary first (backend indices).
    pub replicas: SmallVec<[u16; 4]>,
}

impl WritePlan {
    pub fn is_handoff(&self) -> bool {
        self.replicas.first() != Some(&self.target)
    }
}

fn slow_down() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::SlowDown,
        "Too few storage backends are available for this bucket's policy.",
    )
}

/// Chooses where a write of `key` goes (see the module docs).
pub fn plan_write(ctx: &Ctx<'_, '_>, b: &BucketInfo, key: &str) -> Result<WritePlan, S3Error> {
    plan_write_excluding(ctx, b, key, &[])
}

/// [`plan_write`] without the backends in `failed` (a write to one of them
/// failed before any of the body was sent).
pub fn plan_write_excluding(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
    failed: &[u16],
) -> Result<WritePlan, S3Error> {
    if ctx.core.shared.meta_full.load(std::sync::atomic::Ordering::Relaxed) {
        // Logged (with the fix) by the health loop; the client is told to wait.
        return Err(S3Error::with_message(
            S3ErrorCode::ServiceUnavailable,
            "The service cannot record new writes now; please retry later.",
        ));
    }
    let order = placement::placement_order(b.id, key.as_bytes(), &b.candidates);
    let n = usize::from(b.replicas);
    if order.len() < n {
        return Err(S3Error::with_message(
            S3ErrorCode::ServiceUnavailable,
            "The bucket's placement policy cannot be met.",
        ));
    }
    let healthy: SmallVec<[u16; 16]> =
        order.iter().copied().filter(|&i| !failed.contains(&i) && ctx.core.is_up(ctx.snap, i)).collect();
    // The write needs one healthy backend; the bucket may ask for more to be
    // healthy (so that its copies can be made soon). Backends that just
    // failed this write count as unhealthy.
    if healthy.is_empty() || healthy.len() < usize::from(b.min_write_replicas) {
        return Err(slow_down());
    }
    let replicas: SmallVec<[u16; 4]> = order[..n].iter().copied().collect();
    let target = if healthy.contains(&order[0]) { order[0] } else { healthy[0] };
    Ok(WritePlan { target, replicas })
}

fn id_of(ctx: &Ctx<'_, '_>, index: u16) -> String {
    ctx.snap.backends.get(usize::from(index)).map(|b| b.id.clone()).unwrap_or_default()
}

/// Whether a write of `size` bytes to `plan` records an intent first (see
/// `replication::intent`): with sync durability, from `INTENT_MIN_BODY` on,
/// when the write will leave a task (more than one replica, or a handoff).
pub fn needs_intent(ctx: &Ctx<'_, '_>, b: &BucketInfo, plan: &WritePlan, size: u64) -> bool {
    size >= crate::replication::INTENT_MIN_BODY
        && ctx.core.shared.config.replication.sync
        && (b.replicas > 1 || plan.is_handoff())
}

/// Queues the intent of a write of `key` to `plan.target`; the future
/// resolves when it is durable.
pub fn begin_intent(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
    plan: &WritePlan,
) -> Result<(IntentId, Durable), S3Error> {
    let id = ctx.core.intent_ids.next();
    let intent = Intent {
        bucket: b.name.clone(),
        bucket_id: b.id_hex.clone(),
        key: key.to_string(),
        backend: id_of(ctx, plan.target),
        started_ms: now_ms(),
    };
    let durable = ctx.core.enqueuer.push_intent(id, intent).map_err(|e| match e {
        EnqueueError::Full => slow_down(),
        _ => S3Error::new(S3ErrorCode::InternalError),
    })?;
    Ok((id, durable))
}

/// The write of intent `id` failed: its intent goes (not waited for; if
/// this is lost, the intent sweep examines the key, finds nothing to do and
/// removes it).
pub fn abandon_intent(ctx: &Ctx<'_, '_>, id: Option<IntentId>) {
    if let Some(id) = id {
        let _ = ctx.core.enqueuer.push_clear(id);
    }
}

/// Pushes `task` to the core's queue, indexes it, and (sync durability) waits
/// until it is committed; `intent` is cleared in the same transaction.
async fn enqueue(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    task: Task,
    relevant: bool,
    intent: Option<IntentId>,
) -> Result<(), S3Error> {
    let key = task.key.clone();
    // Provisional entry (task id 0) before the push, so that no worker can
    // finish the task before reads know of it; the commit hook replaces it
    // with the committed task.
    let entry =
        PendingEntry { task_id: 0, kind: task.kind, source: task.source.clone(), done: Vec::new(), relevant };
    let pending = &ctx.core.shared.pending;
    pending.insert(b.id, &key, entry);
    let durable = ctx.core.enqueuer.push_clearing(task, intent).map_err(|e| {
        pending.remove(b.id, &key, 0);
        match e {
            EnqueueError::Full => slow_down(),
            _ => S3Error::new(S3ErrorCode::InternalError),
        }
    })?;
    ctx.core.replication_kick.notify();
    if ctx.core.shared.config.replication.sync {
        durable.await.map_err(|e| {
            tracing::error!(error = %e, "a replication task could not be made durable");
            pending.remove(b.id, &key, 0);
            S3Error::new(S3ErrorCode::InternalError)
        })?;
    } else {
        // Async durability: the client does not wait; a failed commit only
        // drops the provisional entry (the documented risk of async).
        let shared = ctx.core.shared.clone();
        let bucket_id = b.id;
        monoio::spawn(async move {
            if let Err(e) = durable.await {
                tracing::error!(error = %e, "a replication task could not be made durable");
                shared.pending.remove(bucket_id, &key, 0);
            }
        });
    }
    Ok(())
}

/// The task a successful write leaves behind (none when the object already is
/// everywhere it must be).
pub async fn after_write(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
    plan: &WritePlan,
    version: ObjectVersion,
    part_sizes: Vec<u64>,
    intent: Option<IntentId>,
) -> Result<(), S3Error> {
    let targets: Vec<String> =
        plan.replicas.iter().filter(|&&i| i != plan.target).map(|&i| id_of(ctx, i)).collect();
    let handoff = plan.is_handoff() && !plan.replicas.contains(&plan.target);
    let cleanup = if handoff { vec![id_of(ctx, plan.target)] } else { Vec::new() };
    if targets.is_empty() && cleanup.is_empty() {
        abandon_intent(ctx, intent);
        return Ok(());
    }
    let source = id_of(ctx, plan.target);
    let task = Task { part_sizes, ..Task::new(b, key, TaskKind::Put, source, version, targets, cleanup) };
    enqueue(ctx, b, task, plan.is_handoff(), intent).await
}

/// The task a delete leaves behind: every other eligible backend must lose
/// the key (replicas, handoff copies, misplaced copies). `deleted_on`: the
/// backends the key was deleted from synchronously.
///
/// When every holder deleted it and no task of the key is pending, nothing
/// is queued. When a task is pending (a copy may be on its way to a replica
/// right now), a delete task follows it even so: it supersedes the copy and
/// removes whatever the copy left behind.
pub async fn after_delete(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
    deleted_on: &[u16],
) -> Result<(), S3Error> {
    let mut targets: Vec<String> =
        b.holders().filter(|i| !deleted_on.contains(i)).map(|i| id_of(ctx, i)).collect();
    if targets.is_empty() {
        if ctx.core.shared.pending.get(b.id, key).is_none() {
            // No task carries the delete into the record table: drop the
            // record now (not waited for; a record left by a crash names a
            // key no backend lists, and the next write replaces it).
            let change = RecordChange { bucket_id: b.id_hex.clone(), key: key.to_string(), record: None };
            let _ = ctx.core.enqueuer.push_record(change);
            return Ok(());
        }
        targets = b.holders().map(|i| id_of(ctx, i)).collect();
    }
    let primary = placement::place(b.id, key.as_bytes(), &b.candidates, 1).ok().map(|r| r[0]);
    let no_version = ObjectVersion { etag: String::new(), size: 0, checksum: None, crc64: None };
    let task = Task::new(b, key, TaskKind::Delete, String::new(), no_version, targets, Vec::new());
    // Until the task runs, other backends still hold the key. Reads that reach
    // the primary see it gone when the primary deleted it; otherwise every
    // read must consult the index.
    let relevant = !primary.is_some_and(|p| deleted_on.contains(&p));
    enqueue(ctx, b, task, relevant, None).await
}

/// Where a read of `key` looks, in order, and whether a not-found answer from
/// the first one is final.
pub struct ReadPlan {
    pub order: SmallVec<[u16; 16]>,
    /// The key has a pending delete: it does not exist, whatever backends say.
    pub deleted: bool,
}

/// Chooses where a read goes (see the module docs). `primary_failed`: the
/// primary could not answer, so the pending index is consulted.
pub fn plan_read(ctx: &Ctx<'_, '_>, b: &BucketInfo, key: &str, primary_failed: bool) -> ReadPlan {
    let replicas =
        placement::place(b.id, key.as_bytes(), &b.candidates, usize::from(b.replicas)).unwrap_or_default();
    let pending = ctx.core.shared.pending.relevant_count() > 0 || primary_failed;
    let entry = if pending { ctx.core.shared.pending.get(b.id, key) } else { None };
    let mut order: SmallVec<[u16; 16]> = SmallVec::new();
    let index_of = |id: &str| ctx.snap.backends.iter().find(|x| x.id == id).map(|x| x.index);
    match &entry {
        Some(e) if e.kind == TaskKind::Delete => return ReadPlan { order, deleted: true },
        Some(e) => {
            // The source holds the newest version; then replicas that completed.
            if let Some(i) = index_of(&e.source) {
                order.push(i);
            }
            for &r in &replicas {
                let id = &ctx.snap.backends[usize::from(r)].id;
                let complete =
                    e.done.iter().any(|d| d == id) || (!e.relevant && Some(r) == replicas.first().copied());
                if complete && !order.contains(&r) {
                    order.push(r);
                }
            }
        }
        None => order.extend(replicas.iter().copied()),
    }
    ReadPlan { order, deleted: false }
}
