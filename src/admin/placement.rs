//! Placement through the admin API: the rebalance pass a policy or backend
//! change starts, and "explain placement" (a key's replicas and their state).

use std::rc::Rc;

use serde_json::{Value, json};

use super::error::AdminError;
use crate::meta::Snapshot;
use crate::runtime::core::CoreCtx;

type Outcome = Result<(u16, Value), AdminError>;

/// Starts a repair pass (one bucket, or all) on this core: a policy or
/// backend change moves objects through the replication engine.
pub(super) fn rebalance(core: &Rc<CoreCtx>, bucket: Option<String>) {
    let core = core.clone();
    monoio::spawn(async move {
        let snap = core.snapshot();
        let scanner = crate::replication::repair::Scanner {
            snap: &snap,
            backends: |i| core.backend(&snap, i),
            store: core.shared.store.clone(),
            mode: crate::replication::repair::Mode::Repair,
            rate: None,
        };
        let mut names: Vec<&String> =
            snap.buckets.keys().filter(|n| bucket.as_ref().is_none_or(|b| b == *n)).collect();
        names.sort();
        for name in names {
            let r = scanner.scan_bucket(&snap.buckets[name]).await;
            tracing::info!(bucket = %r.bucket, queued = r.queued, misplaced = r.misplaced, "rebalance pass");
            if r.queued > 0 {
                core.replication_kick.notify();
            }
        }
    });
}

/// Where `key` of `bucket` lives: the replica list in placement order with
/// each replica's state.
pub(super) fn explain(core: &Rc<CoreCtx>, snap: &Snapshot, bucket: &str, key: &str) -> Outcome {
    let b = snap.bucket(bucket).ok_or(AdminError::Internal)?;
    let replicas = crate::placement::place(b.id, key.as_bytes(), &b.candidates, usize::from(b.replicas))
        .map_err(|e| AdminError::Conflict(format!("the bucket's policy cannot be placed: {e}")))?;
    let pending = core.shared.pending.get(b.id, key);
    let list: Vec<Value> = replicas
        .iter()
        .enumerate()
        .map(|(i, &idx)| {
            let be = &snap.backends[usize::from(idx)];
            let state = match &pending {
                None => "in sync",
                Some(p) if p.done.contains(&be.id) => "in sync",
                Some(p) if p.source == be.id => "holds the newest version",
                Some(_) => "pending",
            };
            json!({"backend": be.id, "region": be.region, "role": if i == 0 { "primary" } else { "replica" },
                   "up": core.is_up(snap, idx), "state": state})
        })
        .collect();
    Ok((
        200,
        json!({"bucket": bucket, "key": key, "replicas": list, "pending_task": pending.map(|p| p.task_id)}),
    ))
}
