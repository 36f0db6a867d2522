//! Per-core reusable buffers for SigV4: the canonical request and the sort
//! space of the canonical query.
//!
//! One [`SigV4Scratch`] lives on each worker core and is passed by `&mut` to
//! `verify` and `sign_headers`. Its buffers grow to the largest request seen
//! and are reused, so verifying allocates nothing once they are warm.
//!
//! # Invariants
//! - The buffers never hold secrets: only the canonical request (method,
//!   path, query, signed header values, payload hash) and query parameters.
//! - They are bounded by the head size limit, since every byte in them comes
//!   from one request head (at most 3x, from `%XX` encoding).

use super::canonical::QueryParam;
use super::limits::{CANONICAL_INITIAL_CAPACITY, QUERY_INITIAL_CAPACITY, QUERY_PARAMS_INITIAL_CAPACITY};

/// Reusable buffers of one core. Create once per core with [`SigV4Scratch::new`].
#[derive(Debug)]
pub struct SigV4Scratch {
    /// The last canonical request written.
    pub(crate) canonical: Vec<u8>,
    /// Encoded query names and values, for sorting.
    pub(crate) query: Vec<u8>,
    /// One entry per query parameter, indexing `query`.
    pub(crate) params: Vec<QueryParam>,
}

impl SigV4Scratch {
    pub fn new() -> Self {
        SigV4Scratch {
            canonical: Vec::with_capacity(CANONICAL_INITIAL_CAPACITY),
            query: Vec::with_capacity(QUERY_INITIAL_CAPACITY),
            params: Vec::with_capacity(QUERY_PARAMS_INITIAL_CAPACITY),
        }
    }

    /// The canonical request of the last `verify` / `sign_headers` call, for
    /// debugging a SignatureDoesNotMatch (AWS returns it in the error body).
    /// It holds no secret.
    pub fn canonical_request(&self) -> &[u8] {
        &self.canonical
    }
}

impl Default for SigV4Scratch {
    fn default() -> Self {
        Self::new()
    }
}
