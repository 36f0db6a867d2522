//! The records the metadata store keeps, one LMDB database per kind, JSON-encoded.
//!
//! These are the in-memory forms, secrets in the clear (as [`Secret`]s that
//! never print). On disk the secrets are sealed: see [`super::stored`].

use serde::{Deserialize, Serialize};

use crate::config::Endpoint;
use crate::secret::Secret;

/// A storage backend.
#[derive(Debug, Clone)]
pub struct BackendRecord {
    pub id: String,
    pub endpoint: Endpoint,
    pub region: String,
    pub access_key: String,
    pub secret_key: Secret,
    pub weight: f64,
    pub signing_region: String,
    /// Drained: placement no longer chooses it; repair moves its objects off.
    pub draining: bool,
}

/// A tenant: the owner of keys and buckets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantRecord {
    pub name: String,
    /// Unix seconds.
    pub created: i64,
}

/// An access key of a tenant.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub access_key: String,
    pub tenant: String,
    pub secret_key: Secret,
    pub enabled: bool,
    pub created: i64,
    /// Per-bucket limits; empty = full access to the tenant's buckets.
    pub perms: Vec<BucketPerm>,
}

/// What a key may do in one bucket (a key with any `perms` may only touch
/// the buckets listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketPerm {
    pub bucket: String,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub write: bool,
    #[serde(default)]
    pub list: bool,
}

/// A bucket and its placement policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: String,
    pub tenant: String,
    /// Random 128-bit id, hex; hashed by placement together with the object key.
    pub id: String,
    /// Regions allowed to hold the objects; empty = any backend.
    pub residency: Vec<String>,
    pub replicas: u8,
    /// Writes are accepted while this many eligible backends are healthy.
    #[serde(default = "one")]
    pub min_write_replicas: u8,
    pub created: i64,
}

fn one() -> u8 {
    1
}

impl BucketRecord {
    /// The id as a number (records written by sluice always parse).
    pub fn id_u128(&self) -> u128 {
        u128::from_str_radix(&self.id, 16).unwrap_or(0)
    }
}

/// A fresh random bucket id.
pub fn new_bucket_id() -> String {
    let mut b = [0u8; 16];
    // getrandom only fails when the OS has no entropy source at all.
    getrandom::fill(&mut b).expect("the OS random source is available");
    format!("{:032x}", u128::from_be_bytes(b))
}

/// Everything in the store, read in one transaction.
#[derive(Debug, Default, Clone)]
pub struct MetaContents {
    pub backends: Vec<BackendRecord>,
    pub tenants: Vec<TenantRecord>,
    pub keys: Vec<KeyRecord>,
    pub buckets: Vec<BucketRecord>,
    /// `/proxy` API keys under their stored hash.
    pub api_keys: Vec<(String, super::ApiKeyRecord)>,
    pub jwt_issuers: Vec<super::JwtIssuerRecord>,
}
