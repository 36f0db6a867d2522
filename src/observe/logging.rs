//! Structured logging with `tracing`: JSON lines (default) or text, to stderr.
//!
//! Lines are handed to a dedicated writer thread (`tracing-appender`), so a
//! slow stderr never blocks an event loop; when its bounded queue is full,
//! lines are dropped rather than waited for.
//!
//! # Security
//! Log lines name backends by id only; secrets are `Secret`s that print `***`.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `RUST_LOG` overrides `log.level`. Keep the
/// returned guard alive for the life of the process: dropping it flushes the
/// writer thread.
pub fn init(cfg: &LogConfig) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let _ = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    guard
}
