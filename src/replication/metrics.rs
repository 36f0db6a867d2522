//! Replication metrics: tasks done, retried, dead and parked (waiting), bytes and objects
//! copied (process-wide atomics), and the queue gauges read at scrape time.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of the replication workers (all cores).
#[derive(Default)]
pub struct ReplicationMetrics {
    pub done: AtomicU64,
    pub retried: AtomicU64,
    pub dead: AtomicU64,
    /// Times a task was parked because a backend it needs is down.
    pub waiting: AtomicU64,
    /// Copies whose bytes did not match the object's record (not copied).
    pub corrupt: AtomicU64,
    /// Objects a scan found with no copy matching their record.
    pub lost: AtomicU64,
    pub bytes: AtomicU64,
    pub objects: AtomicU64,
}

/// Gauges read from the store and the queues when scraped.
pub struct QueueGauges {
    /// Tasks waiting in each core's in-memory queue.
    pub queued_per_core: Vec<u64>,
    /// Tasks in LMDB not yet completed.
    pub pending: u64,
    /// Age in seconds of the oldest pending task (replication lag).
    pub lag_secs: f64,
    pub dead: u64,
    /// Tasks committed per core since start.
    pub enqueued_per_core: Vec<u64>,
}

impl ReplicationMetrics {
    /// Appends the Prometheus text of the replication metrics.
    pub fn render(&self, gauges: &QueueGauges, backends: &[(String, bool)], out: &mut String) {
        out.push_str("# HELP sluice_replication_queue_depth Tasks waiting to be committed, per core.\n");
        out.push_str("# TYPE sluice_replication_queue_depth gauge\n");
        for (core, n) in gauges.queued_per_core.iter().enumerate() {
            let _ = writeln!(out, "sluice_replication_queue_depth{{core=\"{core}\"}} {n}");
        }
        out.push_str("# HELP sluice_replication_enqueued_total Tasks made durable, per core.\n");
        out.push_str("# TYPE sluice_replication_enqueued_total counter\n");
        for (core, n) in gauges.enqueued_per_core.iter().enumerate() {
            let _ = writeln!(out, "sluice_replication_enqueued_total{{core=\"{core}\"}} {n}");
        }
        out.push_str("# HELP sluice_replication_pending_tasks Durable tasks not yet completed.\n");
        out.push_str("# TYPE sluice_replication_pending_tasks gauge\n");
        let _ = writeln!(out, "sluice_replication_pending_tasks {}", gauges.pending);
        out.push_str("# HELP sluice_replication_lag_seconds Age of the oldest pending task.\n");
        out.push_str("# TYPE sluice_replication_lag_seconds gauge\n");
        let _ = writeln!(out, "sluice_replication_lag_seconds {:.3}", gauges.lag_secs);
        out.push_str("# HELP sluice_replication_dead_tasks Tasks in the dead-letter table.\n");
        out.push_str("# TYPE sluice_replication_dead_tasks gauge\n");
        let _ = writeln!(out, "sluice_replication_dead_tasks {}", gauges.dead);
        out.push_str("# HELP sluice_replication_tasks_total Tasks finished, by outcome.\n");
        out.push_str("# TYPE sluice_replication_tasks_total counter\n");
        for (outcome, v) in [
            ("done", &self.done),
            ("retried", &self.retried),
            ("dead", &self.dead),
            ("waiting", &self.waiting),
        ] {
            let _ =
                writeln!(out, "sluice_replication_tasks_total{{outcome=\"{outcome}\"}} {}", v.load(Relaxed));
        }
        out.push_str("# HELP sluice_replication_corrupt_copies_total Source copies whose bytes did not match the object's record.\n");
        out.push_str("# TYPE sluice_replication_corrupt_copies_total counter\n");
        let _ = writeln!(out, "sluice_replication_corrupt_copies_total {}", self.corrupt.load(Relaxed));
        out.push_str("# HELP sluice_lost_objects_total Objects a scrub or sweep found with no copy matching their record.\n");
        out.push_str("# TYPE sluice_lost_objects_total counter\n");
        let _ = writeln!(out, "sluice_lost_objects_total {}", self.lost.load(Relaxed));
        out.push_str("# HELP sluice_replication_bytes_total Bytes copied to replicas.\n");
        out.push_str("# TYPE sluice_replication_bytes_total counter\n");
        let _ = writeln!(out, "sluice_replication_bytes_total {}", self.bytes.load(Relaxed));
        out.push_str("# HELP sluice_replication_objects_total Objects copied to replicas.\n");
        out.push_str("# TYPE sluice_replication_objects_total counter\n");
        let _ = writeln!(out, "sluice_replication_objects_total {}", self.objects.load(Relaxed));
        out.push_str("# HELP sluice_backend_up Whether a backend is up (1) or down (0).\n");
        out.push_str("# TYPE sluice_backend_up gauge\n");
        for (id, up) in backends {
            let _ = writeln!(out, "sluice_backend_up{{backend=\"{id}\"}} {}", u8::from(*up));
        }
    }
}
