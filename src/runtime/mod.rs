//! Worker threads: one monoio runtime per core, each with its own SO_REUSEPORT
//! listener, plus shutdown handling.

pub mod core;
pub mod health_check;
pub mod intent_sweep;
pub mod notify;
pub mod read_pool;
pub mod scrub;
pub mod shutdown;
pub mod worker;

pub use worker::Driver;
