//! The intent sweep: worker 0 looks for left-over write intents (see
//! `replication::intent`) shortly after start and then every
//! [`SWEEP_INTERVAL`], and repairs each one's key from what the backends hold
//! (a repair task when its copies disagree with placement, nothing when the
//! write never landed), then removes the intent. An intent is left over when
//! an earlier process made it, or when it is older than
//! [`INTENT_MAX_AGE_MS`]. A key whose backends cannot all be asked keeps its
//! intent for the next sweep.

use std::rc::Rc;
use std::time::Duration;

use crate::replication::repair::{Mode, Scanner};
use crate::replication::{INTENT_MAX_AGE_MS, now_ms};
use crate::runtime::core::CoreCtx;
use crate::runtime::shutdown::race;

/// Time between sweeps.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// The first sweep, after start (the backends' health is known by then).
pub const FIRST_SWEEP: Duration = Duration::from_secs(1);
/// Intents examined per sweep.
pub const SWEEP_BATCH: usize = 1000;

/// Runs sweeps until the server stops.
pub async fn run(core: Rc<CoreCtx>) {
    let mut wait = FIRST_SWEEP;
    loop {
        let _ = race(core.shutdown.wait(), monoio::time::sleep(wait)).await;
        wait = SWEEP_INTERVAL;
        if core.shared.is_stopping() {
            return;
        }
        let (nonce, before) = (core.shared.nonce, now_ms().saturating_sub(INTENT_MAX_AGE_MS));
        let Ok(leftover) =
            core.meta(move |s| s.store.tasks().leftover_intents(nonce, before, SWEEP_BATCH)).await
        else {
            continue;
        };
        if leftover.is_empty() {
            continue;
        }
        let snap = core.snapshot();
        let scanner = Scanner {
            snap: &snap,
            backends: |i| core.backend(&snap, i),
            store: core.shared.store.clone(),
            mode: Mode::Repair,
            rate: None,
        };
        let (mut repaired, mut queued, mut kept) = (0u64, 0u64, 0u64);
        for (id, intent) in leftover {
            if core.shared.is_stopping() {
                return;
            }
            let bucket = snap.bucket(&intent.bucket).filter(|b| b.id_hex == intent.bucket_id);
            let outcome = match bucket {
                Some(b) => scanner.repair_key(b, &intent.key).await,
                None => Ok(0), // the bucket is gone
            };
            match outcome {
                Ok(n) => {
                    queued += n;
                    repaired += 1;
                    let _ = core.meta(move |s| s.store.tasks().remove_intent(id)).await;
                }
                Err(e) => {
                    kept += 1;
                    tracing::warn!(bucket = %intent.bucket, error = %e, "a left-over write intent could not be examined; kept");
                }
            }
        }
        tracing::info!(examined = repaired, queued, kept, "left-over write intents swept");
        if queued > 0 {
            core.replication_kick.notify();
        }
    }
}
