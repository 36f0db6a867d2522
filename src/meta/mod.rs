//! Metadata: the LMDB store (backends, tenants, keys, buckets) and the immutable
//! snapshots every core reads from.
//!
//! At start the store is seeded from the config ([`MetaStore::seed`]); runtime
//! changes (CreateBucket, DeleteBucket) write the store off the event loop and
//! publish a new [`Snapshot`] through the [`SnapshotHub`].

pub mod model;
pub mod snapshot;
pub mod store;
pub mod uploads;

pub use model::{BackendRecord, BucketRecord, KeyRecord, MetaContents, TenantRecord};
pub use snapshot::{BackendInfo, BucketInfo, BucketState, KeyInfo, LocalSnapshot, Snapshot, SnapshotHub};
pub use store::{BucketInsert, MetaError, MetaStore};
pub use uploads::{PartRecord, UploadRecord, UploadsPage};
