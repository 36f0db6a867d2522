//! Observability: Prometheus metrics, health endpoints and logging.

pub mod logging;
pub mod metrics;

pub use metrics::{CoreMetrics, Registry};
