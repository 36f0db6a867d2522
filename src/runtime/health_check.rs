//! The active health checker: worker 0 probes every backend every
//! `health.interval_ms` and records the outcome in the shared
//! [`crate::backend::health::HealthRegistry`].

use std::rc::Rc;

use crate::backend::Backend;
use crate::runtime::core::CoreCtx;

/// Probes every backend until the server stops.
pub async fn run(core: Rc<CoreCtx>) {
    let interval = core.shared.config.health.interval;
    while !core.shared.is_stopping() {
        let snap = core.snapshot();
        for b in &snap.backends {
            let (Some(backend), Some(health)) = (core.backend(&snap, b.index), core.health(&snap, b.index))
            else {
                continue;
            };
            match monoio::time::timeout(interval, backend.probe()).await {
                Ok(Ok(())) => {
                    if health.record_success() {
                        tracing::info!(backend = %b.id, "backend is up again");
                    }
                }
                Ok(Err(_)) | Err(_) => {
                    if health.record_failure() {
                        tracing::warn!(backend = %b.id, "backend marked down by the health check");
                    }
                }
            }
        }
        check_metadata_room(&core).await;
        monoio::time::sleep(interval).await;
    }
}

/// Sets `meta_full` from the metadata store's usage, logging each change.
async fn check_metadata_room(core: &CoreCtx) {
    use std::sync::atomic::Ordering;
    let Ok((used, map, full)) =
        core.meta_read(|s| Ok((s.store.usage().0, s.store.usage().1, s.store.nearly_full()))).await
    else {
        return;
    };
    if core.shared.meta_full.swap(full, Ordering::Relaxed) != full {
        if full {
            tracing::error!(
                used_bytes = used,
                map_bytes = map,
                "the metadata store is over 90% full: writes are refused; raise server.metadata_map_size_mb and restart"
            );
        } else {
            tracing::info!(
                used_bytes = used,
                map_bytes = map,
                "the metadata store has room again: writes resume"
            );
        }
    }
}
