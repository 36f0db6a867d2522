//! The periodic scrub: worker 0 runs a repair pass over every bucket each
//! `replication.scrub_interval_secs`, examining at most
//! `replication.scrub_rate` keys per second so it never competes with client
//! traffic for the backends. Off by default (interval 0); `sluice repair`
//! runs the same pass on demand.

use std::rc::Rc;

use crate::replication::repair::{Mode, Scanner};
use crate::runtime::core::CoreCtx;
use crate::runtime::shutdown::race;

/// Runs scrubs until the server stops.
pub async fn run(core: Rc<CoreCtx>) {
    let cfg = &core.shared.config.replication;
    let Some(interval) = cfg.scrub_interval else { return };
    let rate = cfg.scrub_rate;
    loop {
        let _ = race(core.shutdown.wait(), monoio::time::sleep(interval)).await;
        if core.shared.is_stopping() {
            return;
        }
        let snap = core.snapshot();
        let mut names: Vec<&String> = snap.buckets.keys().collect();
        names.sort();
        let scanner = Scanner {
            snap: &snap,
            backends: |i| core.backend(&snap, i),
            store: core.shared.store.clone(),
            mode: Mode::Repair,
            rate: Some(rate),
        };
        for name in names {
            if core.shared.is_stopping() {
                return;
            }
            let r = scanner.scan_bucket(&snap.buckets[name]).await;
            tracing::info!(
                bucket = %r.bucket,
                objects = r.objects,
                under_replicated = r.under_replicated,
                misplaced = r.misplaced,
                queued = r.queued,
                "scrub pass"
            );
            core.shared.replication_metrics.lost.fetch_add(r.lost, std::sync::atomic::Ordering::Relaxed);
            if r.queued > 0 {
                core.replication_kick.notify();
            }
        }
    }
}
