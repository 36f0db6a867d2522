//! Metadata: the LMDB store (backends, tenants, keys, buckets, admin tokens,
//! API keys, JWT issuers), its secrets sealed under the master key, and the
//! immutable snapshots every core reads from.
//!
//! At start the store is seeded from the config ([`MetaStore::seed`]); runtime
//! changes (CreateBucket, DeleteBucket) write the store off the event loop and
//! publish a new [`Snapshot`] through the [`SnapshotHub`].

pub mod admin_store;
pub mod crypto;
pub mod lock;
pub mod master_key;
pub mod model;
pub mod snapshot;
pub mod store;
pub mod stored;
pub mod uploads;

pub use admin_store::{AdminTokenRecord, ApiKeyRecord, JwtIssuerRecord, Role};
pub use crypto::MasterKey;
pub use model::{BackendRecord, BucketPerm, BucketRecord, KeyRecord, MetaContents, TenantRecord};
pub use snapshot::{
    ApiKeyInfo, BackendInfo, BucketInfo, BucketState, KeyInfo, LocalSnapshot, Snapshot, SnapshotHub,
};
pub use store::{BucketInsert, MetaError, MetaStore};
pub use uploads::{PartRecord, UploadRecord, UploadsPage};
