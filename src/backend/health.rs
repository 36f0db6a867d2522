//! Backend health: up or down, from passive error counts and active checks.
//!
//! Every core shares one [`BackendHealth`] per backend id (atomics, no lock on
//! the request path). A backend is marked down after
//! `health.failures_to_mark_down` consecutive failures (requests that could not
//! reach it, timed out or got 5xx, or failed active checks) and up again on the
//! first success. Worker 0 probes every backend every `health.interval_ms`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The health of one backend.
#[derive(Debug)]
pub struct BackendHealth {
    up: AtomicBool,
    failures: AtomicU32,
    /// Unix milliseconds of the last up/down change.
    changed_ms: AtomicU64,
    threshold: u32,
}

impl BackendHealth {
    fn new(threshold: u32) -> Self {
        BackendHealth {
            up: AtomicBool::new(true),
            failures: AtomicU32::new(0),
            changed_ms: AtomicU64::new(0),
            threshold,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Counts a failure; returns true when this marked the backend down.
    pub fn record_failure(&self) -> bool {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= self.threshold && self.up.swap(false, Ordering::Relaxed) {
            self.changed_ms.store(now_ms(), Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Counts a success; returns true when this marked the backend up again.
    /// Writes nothing when the backend was healthy already (the common case).
    pub fn record_success(&self) -> bool {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
        if !self.up.load(Ordering::Relaxed) && !self.up.swap(true, Ordering::Relaxed) {
            self.changed_ms.store(now_ms(), Ordering::Relaxed);
            return true;
        }
        false
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The health of every backend, by id.
#[derive(Debug)]
pub struct HealthRegistry {
    map: Mutex<HashMap<String, Arc<BackendHealth>>>,
    threshold: u32,
}

impl HealthRegistry {
    pub fn new(failures_to_mark_down: u32) -> Self {
        HealthRegistry { map: Mutex::new(HashMap::new()), threshold: failures_to_mark_down.max(1) }
    }

    /// The health of backend `id` (created healthy on first use).
    pub fn get(&self, id: &str) -> Arc<BackendHealth> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.to_string()).or_insert_with(|| Arc::new(BackendHealth::new(self.threshold))).clone()
    }

    /// (id, up) of every known backend, sorted by id (for metrics).
    pub fn states(&self) -> Vec<(String, bool)> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = map.iter().map(|(id, h)| (id.clone(), h.is_up())).collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_after_threshold_up_on_success() {
        let reg = HealthRegistry::new(3);
        let h = reg.get("eu1");
        assert!(h.is_up());
        assert!(!h.record_failure());
        assert!(!h.record_failure());
        assert!(h.record_failure(), "third failure marks it down");
        assert!(!h.is_up());
        assert!(!h.record_failure());
        assert!(h.record_success());
        assert!(h.is_up());
        assert!(!h.record_success());
        assert!(Arc::ptr_eq(&h, &reg.get("eu1")));
        assert_eq!(reg.states(), vec![("eu1".to_string(), true)]);
    }
}
