//! sluice: a thread-per-core S3 proxy.
//!
//! Clients speak S3 to one endpoint with keys that sluice issues per tenant;
//! sluice verifies SigV4, places every object on S3-compatible backends by
//! rendezvous hashing under the bucket's residency and replica policy, and
//! streams bodies straight through. The design is in `docs/ARCHITECTURE.md`.
//!
//! Module map (the request lifecycle runs top to bottom):
//! - [`runtime`]: worker threads, one monoio runtime per core, driver choice, shutdown.
//! - [`http`]: request heads, body framing, responses, the connection loop.
//! - [`sigv4`]: SigV4 verification of client requests and signing of backend requests.
//! - [`s3`]: routing a request to an S3 operation and serving it.
//! - [`placement`]: rendezvous hashing, residency, physical bucket names.
//! - [`backend`]: the `Backend` trait, the S3 and `file://` kinds.
//! - [`meta`]: the LMDB metadata store and the per-core snapshots read from it.
//! - [`replication`]: the durable replication queue (tasks in LMDB, per-core group commit).
//! - [`admin`]: the admin API, RBAC and audit log.
//! - [`observe`]: metrics, health, logging.
//! - [`tls`]: rustls configurations (HTTPS listener, mTLS, HTTPS backends).
//! - [`config`], [`error`], [`secret`]: configuration, S3 errors, secret newtypes.

pub mod admin;
pub mod backend;
pub(crate) mod byte_class;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod meta;
pub mod observe;
pub mod ops;
pub mod placement;
pub mod replication;
pub mod runtime;
pub mod s3;
pub mod secret;
pub mod server;
pub mod sigv4;
pub(crate) mod swar;
pub mod sys;
pub mod time;
pub mod tls;
