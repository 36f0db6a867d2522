//! Prometheus metrics, counted per core and summed at scrape time.
//!
//! Each core owns a [`CoreMetrics`] of relaxed atomics that only it writes, so
//! counting never contends across cores; `/metrics` reads every core's counters
//! and renders the sums in the Prometheus text format.
//! Spec: <https://prometheus.io/docs/instrumenting/exposition_formats/>.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::s3::Operation;

/// Status codes counted individually; anything else is counted as "other".
pub const STATUS_CODES: [u16; 15] =
    [200, 204, 206, 304, 400, 403, 404, 405, 409, 411, 412, 416, 500, 501, 503];
const STATUS_SLOTS: usize = STATUS_CODES.len() + 1;
/// Upper bounds (seconds) of the request latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const LATENCY_SLOTS: usize = LATENCY_BUCKETS.len() + 1;
const OPS: usize = Operation::NAMES.len();

/// The counters of one core.
pub struct CoreMetrics {
    requests: [[AtomicU64; STATUS_SLOTS]; OPS],
    latency: [[AtomicU64; LATENCY_SLOTS]; OPS],
    latency_sum_micros: [AtomicU64; OPS],
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    connections: AtomicU64,
    /// Times the accept loop waited at `server.max_connections`.
    accept_paused: AtomicU64,
    /// Backend errors by backend id (rare: a mutex only this core and the
    /// scraper touch).
    backend_errors: Mutex<Vec<(String, u64)>>,
}

fn zeros<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

impl Default for CoreMetrics {
    fn default() -> Self {
        CoreMetrics {
            requests: std::array::from_fn(|_| zeros()),
            latency: std::array::from_fn(|_| zeros()),
            latency_sum_micros: zeros(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            accept_paused: AtomicU64::new(0),
            backend_errors: Mutex::new(Vec::new()),
        }
    }
}

impl CoreMetrics {
    /// Counts one finished request.
    pub fn request(&self, op: Operation, status: u16, elapsed: Duration, bytes_in: u64, bytes_out: u64) {
        let o = op.index();
        let s = STATUS_CODES.iter().position(|&c| c == status).unwrap_or(STATUS_CODES.len());
        self.requests[o][s].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        let b = LATENCY_BUCKETS.iter().position(|&le| secs <= le).unwrap_or(LATENCY_BUCKETS.len());
        self.latency[o][b].fetch_add(1, Relaxed);
        self.latency_sum_micros[o].fetch_add(elapsed.as_micros() as u64, Relaxed);
        self.bytes_in.fetch_add(bytes_in, Relaxed);
        self.bytes_out.fetch_add(bytes_out, Relaxed);
    }

    /// Counts one failed backend operation.
    pub fn backend_error(&self, backend_id: &str) {
        let mut errors = self.backend_errors.lock().unwrap_or_else(|e| e.into_inner());
        match errors.iter_mut().find(|(id, _)| id == backend_id) {
            Some((_, n)) => *n += 1,
            None => errors.push((backend_id.to_string(), 1)),
        }
    }

    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Relaxed);
    }

    /// Counts one wait of the accept loop at `server.max_connections`.
    pub fn accept_paused(&self) {
        self.accept_paused.fetch_add(1, Relaxed);
    }

    /// Open client connections of this core.
    pub fn connections(&self) -> u64 {
        self.connections.load(Relaxed)
    }
}

/// All cores' metrics.
#[derive(Default)]
pub struct Registry {
    cores: Mutex<Vec<Arc<CoreMetrics>>>,
}

impl Registry {
    /// Adds a core's counters (at worker start).
    pub fn register(&self) -> Arc<CoreMetrics> {
        let m = Arc::new(CoreMetrics::default());
        self.cores.lock().unwrap_or_else(|e| e.into_inner()).push(m.clone());
        m
    }

    /// Renders the Prometheus text exposition.
    pub fn render(&self, workers: usize) -> String {
        let cores = self.cores.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let sum = |f: &dyn Fn(&CoreMetrics) -> u64| cores.iter().map(|c| f(c)).sum::<u64>();
        let mut out = String::with_capacity(16 * 1024);
        out.push_str("# HELP sluice_requests_total Requests served, by operation and HTTP status.\n");
        out.push_str("# TYPE sluice_requests_total counter\n");
        for (o, op) in Operation::NAMES.iter().enumerate() {
            for s in 0..STATUS_SLOTS {
                let n = sum(&|c| c.requests[o][s].load(Relaxed));
                if n > 0 {
                    let status = STATUS_CODES.get(s).map_or("other".to_string(), |c| c.to_string());
                    let _ = writeln!(out, "sluice_requests_total{{op=\"{op}\",status=\"{status}\"}} {n}");
                }
            }
        }
        out.push_str("# HELP sluice_request_duration_seconds Request latency, by operation.\n");
        out.push_str("# TYPE sluice_request_duration_seconds histogram\n");
        for (o, op) in Operation::NAMES.iter().enumerate() {
            let count: u64 = (0..LATENCY_SLOTS).map(|b| sum(&|c| c.latency[o][b].load(Relaxed))).sum();
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (b, le) in LATENCY_BUCKETS.iter().enumerate() {
                cumulative += sum(&|c| c.latency[o][b].load(Relaxed));
                let _ = writeln!(
                    out,
                    "sluice_request_duration_seconds_bucket{{op=\"{op}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ =
                writeln!(out, "sluice_request_duration_seconds_bucket{{op=\"{op}\",le=\"+Inf\"}} {count}");
            let micros = sum(&|c| c.latency_sum_micros[o].load(Relaxed));
            let _ =
                writeln!(out, "sluice_request_duration_seconds_sum{{op=\"{op}\"}} {}", micros as f64 / 1e6);
            let _ = writeln!(out, "sluice_request_duration_seconds_count{{op=\"{op}\"}} {count}");
        }
        out.push_str("# HELP sluice_received_bytes_total Request body bytes received from clients.\n");
        out.push_str("# TYPE sluice_received_bytes_total counter\n");
        let _ = writeln!(out, "sluice_received_bytes_total {}", sum(&|c| c.bytes_in.load(Relaxed)));
        out.push_str("# HELP sluice_sent_bytes_total Response bytes sent to clients.\n");
        out.push_str("# TYPE sluice_sent_bytes_total counter\n");
        let _ = writeln!(out, "sluice_sent_bytes_total {}", sum(&|c| c.bytes_out.load(Relaxed)));
        out.push_str("# HELP sluice_backend_errors_total Failed backend operations, by backend id.\n");
        out.push_str("# TYPE sluice_backend_errors_total counter\n");
        let mut by_backend: Vec<(String, u64)> = Vec::new();
        for c in &cores {
            for (id, n) in c.backend_errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                match by_backend.iter_mut().find(|(b, _)| b == id) {
                    Some((_, total)) => *total += n,
                    None => by_backend.push((id.clone(), *n)),
                }
            }
        }
        by_backend.sort();
        for (id, n) in by_backend {
            let _ = writeln!(out, "sluice_backend_errors_total{{backend=\"{id}\"}} {n}");
        }
        out.push_str("# HELP sluice_connections Open client connections.\n# TYPE sluice_connections gauge\n");
        let _ = writeln!(out, "sluice_connections {}", sum(&|c| c.connections()));
        out.push_str(
            "# HELP sluice_accept_paused_total Waits of an accept loop at server.max_connections.\n\
             # TYPE sluice_accept_paused_total counter\n",
        );
        let _ = writeln!(out, "sluice_accept_paused_total {}", sum(&|c| c.accept_paused.load(Relaxed)));
        out.push_str("# HELP sluice_workers Worker threads running.\n# TYPE sluice_workers gauge\n");
        let _ = writeln!(out, "sluice_workers {workers}");
        out
    }
}

/// Appends the metadata store gauges: bytes in use, map size, write intents.
pub fn render_metadata(used: u64, map: u64, intents: u64, out: &mut String) {
    out.push_str("# HELP sluice_metadata_used_bytes Bytes of the metadata map in use (high-water mark).\n");
    out.push_str("# TYPE sluice_metadata_used_bytes gauge\n");
    let _ = writeln!(out, "sluice_metadata_used_bytes {used}");
    out.push_str(
        "# HELP sluice_metadata_map_bytes Size of the metadata map (server.metadata_map_size_mb).\n",
    );
    out.push_str("# TYPE sluice_metadata_map_bytes gauge\n");
    let _ = writeln!(out, "sluice_metadata_map_bytes {map}");
    out.push_str("# HELP sluice_write_intents Writes in progress or left over (see DESIGN.md, Faults).\n");
    out.push_str("# TYPE sluice_write_intents gauge\n");
    let _ = writeln!(out, "sluice_write_intents {intents}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_cores() {
        let reg = Registry::default();
        let a = reg.register();
        let b = reg.register();
        a.request(Operation::PutObject, 200, Duration::from_millis(3), 10, 0);
        b.request(Operation::PutObject, 200, Duration::from_millis(30), 5, 0);
        b.request(Operation::GetObject, 404, Duration::from_micros(100), 0, 7);
        a.backend_error("eu1");
        b.backend_error("eu1");
        let text = reg.render(2);
        assert!(text.contains("sluice_requests_total{op=\"PutObject\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("sluice_requests_total{op=\"GetObject\",status=\"404\"} 1"));
        assert!(text.contains("sluice_request_duration_seconds_bucket{op=\"PutObject\",le=\"0.005\"} 1"));
        assert!(text.contains("sluice_request_duration_seconds_bucket{op=\"PutObject\",le=\"0.05\"} 2"));
        assert!(text.contains("sluice_request_duration_seconds_count{op=\"PutObject\"} 2"));
        assert!(text.contains("sluice_received_bytes_total 15"));
        assert!(text.contains("sluice_sent_bytes_total 7"));
        assert!(text.contains("sluice_backend_errors_total{backend=\"eu1\"} 2"));
        assert!(text.contains("sluice_workers 2"));
    }
}
