//! `[replication]` and `[health]`: how replication and backend health checks run.
//!
//! Every field has a default; the validated forms are [`ReplicationConfig`]
//! and [`HealthConfig`].

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// Most replication workers per core (each copies one object at a time).
pub const MAX_WORKERS_PER_CORE: usize = 64;

/// `[replication]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawReplication {
    /// `sync` (default): a write is acknowledged only once its replication task
    /// is committed to LMDB. `async`: acknowledged as soon as the task is
    /// queued; a crash can lose queued tasks, leaving replicas of acknowledged
    /// objects missing until a repair or scrub finds them.
    pub durability: String,
    /// Replication workers per core (concurrent object copies per core).
    pub workers_per_core: usize,
    /// Attempts before a task moves to the dead-letter table.
    pub max_attempts: u32,
    /// First retry delay; each retry doubles it (with jitter) up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Objects larger than this are copied as resumable multipart uploads.
    pub multipart_threshold_mb: u64,
    /// Part size of those copies.
    pub part_size_mb: u64,
    /// Seconds between background scrubs (repair passes); 0 disables them.
    pub scrub_interval_secs: u64,
    /// Objects per second a scrub examines at most.
    pub scrub_rate: u64,
}

impl Default for RawReplication {
    fn default() -> Self {
        RawReplication {
            durability: "sync".to_string(),
            workers_per_core: 4,
            max_attempts: 10,
            backoff_base_ms: 500,
            backoff_max_ms: 60_000,
            multipart_threshold_mb: 64,
            part_size_mb: 16,
            scrub_interval_secs: 0,
            scrub_rate: 1000,
        }
    }
}

/// `[health]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHealth {
    /// Milliseconds between active health checks of every backend.
    pub interval_ms: u64,
    /// Consecutive failed requests or checks that mark a backend down.
    pub failures_to_mark_down: u32,
}

impl Default for RawHealth {
    fn default() -> Self {
        RawHealth { interval_ms: 2000, failures_to_mark_down: 3 }
    }
}

/// Validated `[replication]`.
#[derive(Debug, Clone)]
pub struct ReplicationConfig {
    /// Wait for the task to be durable before acknowledging a write.
    pub sync: bool,
    pub workers_per_core: usize,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub multipart_threshold: u64,
    pub part_size: u64,
    pub scrub_interval: Option<Duration>,
    pub scrub_rate: u64,
}

/// Validated `[health]`.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub interval: Duration,
    pub failures_to_mark_down: u32,
}

impl RawReplication {
    pub fn validate(self) -> anyhow::Result<ReplicationConfig> {
        let sync = match self.durability.as_str() {
            "sync" => true,
            "async" => false,
            other => bail!("replication.durability: expected \"sync\" or \"async\", got {other:?}"),
        };
        if !(1..=MAX_WORKERS_PER_CORE).contains(&self.workers_per_core) {
            bail!("replication.workers_per_core: must be 1..={MAX_WORKERS_PER_CORE}");
        }
        if self.max_attempts == 0 {
            bail!("replication.max_attempts: must be at least 1");
        }
        if self.backoff_base_ms == 0 || self.backoff_max_ms < self.backoff_base_ms {
            bail!("replication.backoff_base_ms / backoff_max_ms: need 0 < base <= max");
        }
        // S3 parts are 5 MiB at least (but the last) and 5 GiB at most.
        if !(5..=5 * 1024).contains(&self.part_size_mb) {
            bail!("replication.part_size_mb: must be 5..=5120 (S3 part size limits)");
        }
        if self.multipart_threshold_mb < self.part_size_mb {
            bail!("replication.multipart_threshold_mb: must be at least part_size_mb");
        }
        if self.scrub_rate == 0 {
            bail!("replication.scrub_rate: must be at least 1");
        }
        Ok(ReplicationConfig {
            sync,
            workers_per_core: self.workers_per_core,
            max_attempts: self.max_attempts,
            backoff_base: Duration::from_millis(self.backoff_base_ms),
            backoff_max: Duration::from_millis(self.backoff_max_ms),
            multipart_threshold: self.multipart_threshold_mb * 1024 * 1024,
            part_size: self.part_size_mb * 1024 * 1024,
            scrub_interval: (self.scrub_interval_secs > 0)
                .then(|| Duration::from_secs(self.scrub_interval_secs)),
            scrub_rate: self.scrub_rate,
        })
    }
}

impl RawHealth {
    pub fn validate(self) -> anyhow::Result<HealthConfig> {
        if self.interval_ms < 100 {
            bail!("health.interval_ms: must be at least 100");
        }
        if self.failures_to_mark_down == 0 {
            bail!("health.failures_to_mark_down: must be at least 1");
        }
        Ok(HealthConfig {
            interval: Duration::from_millis(self.interval_ms),
            failures_to_mark_down: self.failures_to_mark_down,
        })
    }
}
