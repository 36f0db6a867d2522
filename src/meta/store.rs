//! The LMDB metadata store (heed): backends, tenants, access keys, buckets.
//!
//! One database per record kind, keyed by the record's name. Every call opens
//! its own transaction and is blocking: on a worker core, call it through
//! `monoio::spawn_blocking`, never directly on the event loop.
//!
//! # Invariants
//! - Seeding from the config is idempotent: running it twice leaves the same
//!   records (bucket ids and creation times are kept).
//! - Bucket names are global: a name belongs to at most one tenant.

use std::path::Path;

use heed::types::{SerdeJson, Str};
use heed::{Database, Env, EnvOpenOptions};

use super::model::{BackendRecord, BucketRecord, KeyRecord, MetaContents, TenantRecord, new_bucket_id};
use crate::config::Config;

/// Size of the LMDB map. Metadata is small (a bucket is ~200 bytes); the map is
/// sparse on disk, so this only bounds growth.
pub const META_MAP_SIZE: usize = 1 << 30;
/// Named databases in the environment (room for the replication queues).
pub const META_MAX_DBS: u32 = 16;

/// Errors of the metadata store.
#[derive(Debug)]
pub enum MetaError {
    Lmdb(heed::Error),
    Io(std::io::Error),
    /// The config names a bucket that another tenant already owns in the store.
    BucketOwnedElsewhere {
        bucket: String,
        owner: String,
    },
}

impl std::fmt::Display for MetaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetaError::Lmdb(e) => write!(f, "metadata store: {e}"),
            MetaError::Io(e) => write!(f, "metadata store: {e}"),
            MetaError::BucketOwnedElsewhere { bucket, owner } => {
                write!(f, "bucket {bucket:?} already belongs to tenant {owner:?} in the metadata store")
            }
        }
    }
}

impl std::error::Error for MetaError {}

impl From<heed::Error> for MetaError {
    fn from(e: heed::Error) -> Self {
        MetaError::Lmdb(e)
    }
}

/// What inserting a bucket found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketInsert {
    Created,
    AlreadyOwnedByYou,
    AlreadyExists,
}

type Db<T> = Database<Str, SerdeJson<T>>;

/// Length of the server key that authenticates upload ids and continuation tokens.
pub const SERVER_KEY_LEN: usize = 32;
/// Record of the server key in the `server` database.
const SERVER_KEY_RECORD: &str = "mac-key";

/// The store. Cheap to share behind an `Arc`; heed's `Env` is thread-safe.
pub struct MetaStore {
    env: Env,
    /// Random key generated on first start; MACs of the tokens sluice hands out.
    server_key: [u8; SERVER_KEY_LEN],
    backends: Db<BackendRecord>,
    tenants: Db<TenantRecord>,
    keys: Db<KeyRecord>,
    buckets: Db<BucketRecord>,
    uploads: super::uploads::UploadDbs,
    /// The replication queue's databases (`crate::replication::store`).
    replication: crate::replication::store::TaskDbs,
}

impl MetaStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<MetaStore, MetaError> {
        std::fs::create_dir_all(dir).map_err(MetaError::Io)?;
        let env = open_env(dir)?;
        let mut wtxn = env.write_txn()?;
        let backends = env.create_database(&mut wtxn, Some("backends"))?;
        let tenants = env.create_database(&mut wtxn, Some("tenants"))?;
        let keys = env.create_database(&mut wtxn, Some("keys"))?;
        let buckets = env.create_database(&mut wtxn, Some("buckets"))?;
        let server: Db<String> = env.create_database(&mut wtxn, Some("server"))?;
        let uploads = super::uploads::UploadDbs::create(&env, &mut wtxn)?;
        let replication = crate::replication::store::TaskDbs::create(&env, &mut wtxn)?;
        let server_key = match server.get(&wtxn, SERVER_KEY_RECORD)?.and_then(|h| hex::decode(h).ok()) {
            Some(k) if k.len() == SERVER_KEY_LEN => k.try_into().unwrap_or([0; SERVER_KEY_LEN]),
            _ => {
                let mut k = [0u8; SERVER_KEY_LEN];
                getrandom::fill(&mut k).map_err(|e| MetaError::Io(std::io::Error::other(e.to_string())))?;
                server.put(&mut wtxn, SERVER_KEY_RECORD, &hex::encode(k))?;
                k
            }
        };
        wtxn.commit()?;
        Ok(MetaStore { env, server_key, backends, tenants, keys, buckets, uploads, replication })
    }

    pub(super) fn env(&self) -> &Env {
        &self.env
    }

    pub(super) fn upload_dbs(&self) -> &super::uploads::UploadDbs {
        &self.uploads
    }

    /// The replication queue's databases; used by `MetaStore::tasks`.
    pub(crate) fn replication_dbs(&self) -> &crate::replication::store::TaskDbs {
        &self.replication
    }

    /// The key that authenticates upload ids and continuation tokens.
    pub fn server_key(&self) -> &[u8; SERVER_KEY_LEN] {
        &self.server_key
    }

    /// Writes the config's backends, tenants, keys and buckets, in one
    /// transaction. Existing buckets keep their id and creation time; records the
    /// config does not name are left alone.
    pub fn seed(&self, cfg: &Config, now: i64) -> Result<(), MetaError> {
        let mut wtxn = self.env.write_txn()?;
        for b in &cfg.backends {
            let rec = BackendRecord {
                id: b.id.clone(),
                endpoint: b.endpoint.clone(),
                region: b.region.clone(),
                access_key: b.access_key.clone(),
                secret_key: b.secret_key.clone(),
                weight: b.weight,
                signing_region: b.signing_region.clone(),
            };
            self.backends.put(&mut wtxn, &rec.id, &rec)?;
        }
        for t in &cfg.tenants {
            let created = self.tenants.get(&wtxn, &t.name)?.map_or(now, |r| r.created);
            self.tenants.put(&mut wtxn, &t.name, &TenantRecord { name: t.name.clone(), created })?;
            for k in &t.keys {
                let created = self.keys.get(&wtxn, &k.access_key)?.map_or(now, |r| r.created);
                let rec = KeyRecord {
                    access_key: k.access_key.clone(),
                    tenant: t.name.clone(),
                    secret_key: k.secret_key.clone(),
                    enabled: true,
                    created,
                };
                self.keys.put(&mut wtxn, &rec.access_key, &rec)?;
            }
        }
        for b in &cfg.buckets {
            let (id, created) = match self.buckets.get(&wtxn, &b.name)? {
                Some(old) if old.tenant != b.tenant => {
                    return Err(MetaError::BucketOwnedElsewhere {
                        bucket: b.name.clone(),
                        owner: old.tenant,
                    });
                }
                Some(old) => (old.id, old.created),
                None => (new_bucket_id(), now),
            };
            let rec = BucketRecord {
                name: b.name.clone(),
                tenant: b.tenant.clone(),
                id,
                residency: b.residency.clone(),
                replicas: b.replicas,
                created,
            };
            self.buckets.put(&mut wtxn, &rec.name, &rec)?;
        }
        wtxn.commit()?;
        Ok(())
    }

    /// Reads every record in one read transaction.
    pub fn load(&self) -> Result<MetaContents, MetaError> {
        let rtxn = self.env.read_txn()?;
        let mut out = MetaContents::default();
        for item in self.backends.iter(&rtxn)? {
            out.backends.push(item?.1);
        }
        for item in self.tenants.iter(&rtxn)? {
            out.tenants.push(item?.1);
        }
        for item in self.keys.iter(&rtxn)? {
            out.keys.push(item?.1);
        }
        for item in self.buckets.iter(&rtxn)? {
            out.buckets.push(item?.1);
        }
        Ok(out)
    }

    /// Inserts `rec` unless the name is taken.
    pub fn insert_bucket(&self, rec: &BucketRecord) -> Result<BucketInsert, MetaError> {
        let mut wtxn = self.env.write_txn()?;
        if let Some(old) = self.buckets.get(&wtxn, &rec.name)? {
            return Ok(if old.tenant == rec.tenant {
                BucketInsert::AlreadyOwnedByYou
            } else {
                BucketInsert::AlreadyExists
            });
        }
        self.buckets.put(&mut wtxn, &rec.name, rec)?;
        wtxn.commit()?;
        Ok(BucketInsert::Created)
    }

    /// Removes bucket `name` if it still has id `id`. Returns whether it did.
    pub fn remove_bucket(&self, name: &str, id: &str) -> Result<bool, MetaError> {
        let mut wtxn = self.env.write_txn()?;
        match self.buckets.get(&wtxn, name)? {
            Some(old) if old.id == id => {
                self.buckets.delete(&mut wtxn, name)?;
                wtxn.commit()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Opening an LMDB environment is `unsafe` in heed because the same file must
/// not be opened twice in one process; sluice opens it exactly once, at start.
#[allow(unsafe_code)]
fn open_env(dir: &Path) -> Result<Env, MetaError> {
    let mut opts = EnvOpenOptions::new();
    opts.map_size(META_MAP_SIZE).max_dbs(META_MAX_DBS);
    // SAFETY: called once per data_dir per process (see `MetaStore::open` callers).
    Ok(unsafe { opts.open(dir) }?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    fn cfg() -> Config {
        RawConfig::from_toml(
            r#"
[[backend]]
id = "a"
endpoint = "file:///tmp/a"
region = "r1"
[[tenant]]
name = "acme"
keys = [{ access_key = "AKACME", secret_key = "s" }]
[[bucket]]
tenant = "acme"
name = "logs"
"#,
        )
        .unwrap()
        .validate()
        .unwrap()
    }

    #[test]
    fn seeding_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path()).unwrap();
        store.seed(&cfg(), 100).unwrap();
        let first = store.load().unwrap();
        store.seed(&cfg(), 200).unwrap();
        let second = store.load().unwrap();
        assert_eq!(first.buckets.len(), 1);
        assert_eq!(first.buckets[0].id, second.buckets[0].id);
        assert_eq!(second.buckets[0].created, 100);
        assert_eq!(second.keys.len(), 1);
        assert_eq!(second.tenants[0].created, 100);
    }

    #[test]
    fn server_key_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = *MetaStore::open(dir.path()).unwrap().server_key();
        let again = *MetaStore::open(dir.path()).unwrap().server_key();
        assert_eq!(first, again);
        assert_ne!(first, [0; SERVER_KEY_LEN]);
    }

    #[test]
    fn bucket_names_are_global() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path()).unwrap();
        store.seed(&cfg(), 1).unwrap();
        let mut rec = store.load().unwrap().buckets[0].clone();
        assert_eq!(store.insert_bucket(&rec).unwrap(), BucketInsert::AlreadyOwnedByYou);
        rec.tenant = "other".into();
        assert_eq!(store.insert_bucket(&rec).unwrap(), BucketInsert::AlreadyExists);
        assert!(!store.remove_bucket("logs", "not-the-id").unwrap());
        assert!(store.remove_bucket("logs", &store.load().unwrap().buckets[0].id).unwrap());
        assert!(store.load().unwrap().buckets.is_empty());
    }
}
