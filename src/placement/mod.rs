//! Placement: which backends hold an object, and under which bucket name.
//!
//! A request for `key` in a tenant's bucket is placed in three steps:
//! 1. [`eligible`]: the backends the bucket's residency allows (all of them
//!    when the policy lists no region);
//! 2. [`place`] / [`placement_order`]: weighted rendezvous (HRW) hashing of
//!    (bucket id, key) over those backends gives the ordered replica list
//!    `[primary, r2, r3, ...]` and, for read failover, every backend in order;
//! 3. [`physical_bucket_name`]: the name of the tenant's bucket on every backend.
//!
//! HRW rather than a hash ring: no ring state to build, share or swap; an even
//! spread without virtual nodes; weights honored in expectation; and minimal
//! movement when backends join or leave, since a backend's score for an object
//! does not depend on the other backends. See `rendezvous.rs` for the hash and
//! `score.rs` for the pinned arithmetic of the score.
//!
//! Callers build one [`Candidate`] per eligible backend when a configuration
//! snapshot is loaded (it hashes the backend id), then call [`place`] per request.
//!
//! # Invariants
//! - Placement is a pure, platform- and version-independent function of the
//!   bucket id, the key and the candidates' (index, backend id, weight):
//!   `golden.rs` pins exact outputs, and changing them moves customer data.
//! - A replica list holds distinct backends, all allowed by the residency,
//!   and is a prefix of the placement order.

mod error;
#[cfg(test)]
mod golden;
mod physical;
mod rendezvous;
mod residency;
mod score;

pub use error::PlacementError;
pub use physical::{
    PHYSICAL_BUCKET_NAME_LEN, PHYSICAL_BUCKET_PREFIX, PHYSICAL_HASH_BYTES, physical_bucket_name,
};
pub use rendezvous::{
    Candidate, INLINE_REPLICAS, MAX_INLINE_BACKENDS, MAX_WEIGHT, MIN_WEIGHT, PlacementOrder, Replicas,
    is_valid_weight, place, placement_order,
};
pub use residency::{Eligible, eligible, is_allowed};
