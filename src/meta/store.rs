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
//! - Every secret on disk is sealed under the master key ([`super::crypto`]).
//!   A key check record, sealed too, tells a wrong master key at open, before
//!   anything is written.

use std::path::Path;

use heed::types::{SerdeJson, Str};
use heed::{Database, Env, EnvOpenOptions};
use serde_json::json;

use super::crypto::{CryptoError, MasterKey, Sealed};
use super::model::{BackendRecord, BucketRecord, KeyRecord, MetaContents, TenantRecord, new_bucket_id};
use super::stored::{StoredBackend, StoredKey};
use crate::config::Config;

/// Default size of the LMDB map (`server.metadata_map_size_mb`): 32 GiB. The
/// map is address space, not disk (the file grows with its data), so a large
/// bound costs nothing; pending replication tasks (~1 KiB each) and write
/// intents are what fill it during a long outage.
pub const META_MAP_SIZE: usize = 32 << 30;
/// Share of the map in use above which writes are refused (with a clear
/// log line and a metric) so that the store never fills up mid-transaction.
pub const META_FULL_PERCENT: u64 = 90;
/// Named databases in the environment (room for the replication queues).
pub const META_MAX_DBS: u32 = 32;

/// Errors of the metadata store.
#[derive(Debug)]
pub enum MetaError {
    Lmdb(heed::Error),
    Io(std::io::Error),
    /// The master key does not open this store's secrets.
    WrongMasterKey,
    /// Sealing or opening a secret failed (a damaged record).
    Crypto(CryptoError),
    /// A request the store refuses (bad name, missing record it refers to).
    Invalid(String),
    /// The change conflicts with what exists (a name taken, a tenant with buckets).
    Conflict(String),
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
            MetaError::WrongMasterKey => f.write_str(
                "the master key does not open this metadata store (wrong key?); nothing was changed",
            ),
            MetaError::Crypto(e) => write!(f, "metadata store: {e}"),
            MetaError::Invalid(m) | MetaError::Conflict(m) => f.write_str(m),
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

impl From<CryptoError> for MetaError {
    fn from(e: CryptoError) -> Self {
        MetaError::Crypto(e)
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
/// Record of the server key in the `server` database (sealed).
const SERVER_KEY_RECORD: &str = "mac-key";
/// The compacted copy written by [`MetaStore::compact`] before it replaces `data.mdb`.
const COMPACT_FILE: &str = "data.mdb.compact";
/// Prefix of the fingerprints of applied config entries in the `server` database.
const SEEDED_PREFIX: &str = "seeded/";
/// Record of the master key check in the `server` database.
const KEY_CHECK_RECORD: &str = "master-key-check";
/// What the key check record seals.
const KEY_CHECK_PLAINTEXT: &[u8] = b"sluice master key check v1";

/// The store. Cheap to share behind an `Arc`; heed's `Env` is thread-safe.
pub struct MetaStore {
    env: Env,
    master: MasterKey,
    /// Random key generated on first start; MACs of the tokens sluice hands out.
    server_key: zeroize::Zeroizing<[u8; SERVER_KEY_LEN]>,
    server: Db<String>,
    backends: Db<StoredBackend>,
    tenants: Db<TenantRecord>,
    keys: Db<StoredKey>,
    buckets: Db<BucketRecord>,
    uploads: super::uploads::UploadDbs,
    admin: super::admin_store::AdminDbs,
    /// The replication queue's databases (`crate::replication::store`).
    replication: crate::replication::store::TaskDbs,
    /// This open sealed secrets that were plain (see [`MetaStore::compact`]).
    migrated: bool,
}

impl MetaStore {
    /// Opens (creating if needed) the store in `dir` with the master key.
    /// A wrong key fails with [`MetaError::WrongMasterKey`] before anything
    /// is written. The first keyed open of a store written before encryption
    /// at rest seals its plain secrets.
    pub fn open(dir: &Path, master: &MasterKey) -> Result<MetaStore, MetaError> {
        Self::open_sized(dir, master, META_MAP_SIZE)
    }

    /// [`MetaStore::open`] with a map of `map_size` bytes (LMDB keeps a
    /// larger one if the file already needs it).
    pub fn open_sized(dir: &Path, master: &MasterKey, map_size: usize) -> Result<MetaStore, MetaError> {
        std::fs::create_dir_all(dir).map_err(MetaError::Io)?;
        let env = open_env(dir, map_size)?;
        check_master_key(&env, master)?;
        let mut wtxn = env.write_txn()?;
        let backends: Db<StoredBackend> = env.create_database(&mut wtxn, Some("backends"))?;
        let tenants = env.create_database(&mut wtxn, Some("tenants"))?;
        let keys: Db<StoredKey> = env.create_database(&mut wtxn, Some("keys"))?;
        let buckets = env.create_database(&mut wtxn, Some("buckets"))?;
        let server: Db<String> = env.create_database(&mut wtxn, Some("server"))?;
        let uploads = super::uploads::UploadDbs::create(&env, &mut wtxn)?;
        let replication = crate::replication::store::TaskDbs::create(&env, &mut wtxn)?;
        let admin = super::admin_store::AdminDbs::create(&env, &mut wtxn)?;
        // Without a key check record the store is new, or from before
        // encryption at rest: that one time, plain secrets are read and sealed.
        let migrating = server.get(&wtxn, KEY_CHECK_RECORD)?.is_none();
        let mut migrated = false;
        if migrating {
            migrated = seal_plain_secrets(&mut wtxn, &backends, &keys, master)?;
            let check = master.seal(KEY_CHECK_RECORD, KEY_CHECK_PLAINTEXT)?;
            server.put(&mut wtxn, KEY_CHECK_RECORD, &to_json(&check))?;
        }
        let server_key = match server.get(&wtxn, SERVER_KEY_RECORD)? {
            Some(text) => {
                let key = open_server_key(&text, master, migrating)?;
                if serde_json::from_str::<Sealed>(&text).is_err() {
                    migrated = true;
                    // Kept as hex before encryption at rest: seal it now.
                    server.put(
                        &mut wtxn,
                        SERVER_KEY_RECORD,
                        &to_json(&master.seal(SERVER_KEY_RECORD, &*key)?),
                    )?;
                }
                key
            }
            None => {
                let mut k = zeroize::Zeroizing::new([0u8; SERVER_KEY_LEN]);
                getrandom::fill(&mut *k).map_err(|_| CryptoError::Random)?;
                server.put(&mut wtxn, SERVER_KEY_RECORD, &to_json(&master.seal(SERVER_KEY_RECORD, &*k)?))?;
                k
            }
        };
        wtxn.commit()?;
        Ok(MetaStore {
            env,
            master: master.clone(),
            server_key,
            server,
            backends,
            tenants,
            keys,
            buckets,
            uploads,
            admin,
            replication,
            migrated,
        })
    }

    /// Re-seals every secret under `new` and replaces the key check, in one
    /// transaction. Run it with the server stopped (see `ops::rotate_master_key`).
    /// Returns the number of secrets re-sealed.
    pub fn rotate_master_key(&self, new: &MasterKey) -> Result<usize, MetaError> {
        let mut wtxn = self.env.write_txn()?;
        let mut n = 0;
        let keys: Vec<StoredKey> =
            self.keys.iter(&wtxn)?.map(|i| i.map(|(_, v)| v)).collect::<Result<_, _>>()?;
        for k in keys {
            let rec = k.open(&self.master)?;
            self.keys.put(&mut wtxn, &rec.access_key, &StoredKey::seal(&rec, new)?)?;
            n += 1;
        }
        let backends: Vec<StoredBackend> =
            self.backends.iter(&wtxn)?.map(|i| i.map(|(_, v)| v)).collect::<Result<_, _>>()?;
        for b in backends {
            let rec = b.open(&self.master)?;
            self.backends.put(&mut wtxn, &rec.id, &StoredBackend::seal(&rec, new)?)?;
            n += 1;
        }
        n += super::admin_store::reseal(self, &mut wtxn, new)?;
        self.server.put(
            &mut wtxn,
            SERVER_KEY_RECORD,
            &to_json(&new.seal(SERVER_KEY_RECORD, &*self.server_key)?),
        )?;
        let check = new.seal(KEY_CHECK_RECORD, KEY_CHECK_PLAINTEXT)?;
        self.server.put(&mut wtxn, KEY_CHECK_RECORD, &to_json(&check))?;
        wtxn.commit()?;
        Ok(n + 1)
    }

    /// Whether this open sealed secrets that an older version kept plain.
    pub fn migrated(&self) -> bool {
        self.migrated
    }

    /// Rewrites the environment in `dir` without its free pages, and closes
    /// it. LMDB does not wipe freed pages: after sealing plain secrets or
    /// rotating the master key, the old values would stay in `data.mdb` until
    /// their pages are reused. Only with no other user of the environment
    /// (the data directory lock held). Reopen the store afterwards.
    pub fn compact(self, dir: &Path) -> Result<(), MetaError> {
        let tmp = dir.join(COMPACT_FILE);
        let _ = std::fs::remove_file(&tmp);
        let file = self.env.copy_to_path(&tmp, heed::CompactionOption::Enabled)?;
        file.sync_all().map_err(MetaError::Io)?;
        drop(file);
        let env = self.env.clone();
        drop(self);
        env.prepare_for_closing().wait();
        std::fs::rename(&tmp, dir.join("data.mdb")).map_err(MetaError::Io)?;
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(MetaError::Io)?;
        Ok(())
    }

    /// The master key this store was opened with.
    pub(super) fn master(&self) -> &MasterKey {
        &self.master
    }

    pub(super) fn admin_dbs(&self) -> &super::admin_store::AdminDbs {
        &self.admin
    }

    pub(super) fn key_db(&self) -> &Db<StoredKey> {
        &self.keys
    }

    pub(super) fn tenant_db(&self) -> &Db<TenantRecord> {
        &self.tenants
    }

    pub(super) fn bucket_db(&self) -> &Db<BucketRecord> {
        &self.buckets
    }

    pub(super) fn backend_db(&self) -> &Db<StoredBackend> {
        &self.backends
    }

    /// (bytes in use, map size): the in-use figure is the high-water mark of
    /// pages (freed pages are reused before the file grows), an upper bound.
    pub fn usage(&self) -> (u64, u64) {
        let env = self.env();
        let info = env.info();
        let page = u64::from(env.stat().page_size);
        ((info.last_page_number as u64 + 1) * page, info.map_size as u64)
    }

    /// Whether more than [`META_FULL_PERCENT`] of the map is in use.
    pub fn nearly_full(&self) -> bool {
        let (used, map) = self.usage();
        used.saturating_mul(100) > map.saturating_mul(META_FULL_PERCENT)
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
    /// transaction. The config bootstraps: an entry is applied when it is new
    /// or has changed since it was last applied (a keyed fingerprint of each
    /// entry is kept); an unchanged entry leaves the store's record alone, so
    /// what the admin API changed or deleted stays so across restarts.
    /// Existing buckets keep their id and creation time; records the config
    /// does not name are left alone.
    pub fn seed(&self, cfg: &Config, now: i64) -> Result<(), MetaError> {
        let mut wtxn = self.env.write_txn()?;
        for b in &cfg.backends {
            let print = json!({"endpoint": b.endpoint, "region": b.region, "access_key": b.access_key,
                               "secret_key": b.secret_key.expose(), "weight": b.weight,
                               "signing_region": b.signing_region});
            if !self.changed_since_seeded(&mut wtxn, "backend", &b.id, &print)? {
                continue;
            }
            let rec = BackendRecord {
                id: b.id.clone(),
                endpoint: b.endpoint.clone(),
                region: b.region.clone(),
                access_key: b.access_key.clone(),
                secret_key: b.secret_key.clone(),
                weight: b.weight,
                signing_region: b.signing_region.clone(),
                draining: self.backends.get(&wtxn, &b.id)?.is_some_and(|old| old.draining),
            };
            self.backends.put(&mut wtxn, &rec.id, &StoredBackend::seal(&rec, &self.master)?)?;
        }
        for t in &cfg.tenants {
            if self.changed_since_seeded(&mut wtxn, "tenant", &t.name, &json!({}))? {
                let created = self.tenants.get(&wtxn, &t.name)?.map_or(now, |r| r.created);
                self.tenants.put(&mut wtxn, &t.name, &TenantRecord { name: t.name.clone(), created })?;
            }
            for k in &t.keys {
                let print = json!({"tenant": t.name, "secret_key": k.secret_key.expose()});
                if !self.changed_since_seeded(&mut wtxn, "key", &k.access_key, &print)? {
                    continue;
                }
                let old = self.keys.get(&wtxn, &k.access_key)?;
                if old.as_ref().is_some_and(|o| o.tenant != t.name) {
                    return Err(MetaError::Invalid(format!(
                        "access key {:?} already belongs to another tenant in the metadata store",
                        k.access_key
                    )));
                }
                let rec = KeyRecord {
                    access_key: k.access_key.clone(),
                    tenant: t.name.clone(),
                    secret_key: k.secret_key.clone(),
                    enabled: old.as_ref().is_none_or(|o| o.enabled),
                    created: old.as_ref().map_or(now, |o| o.created),
                    perms: old.map(|o| o.perms).unwrap_or_default(),
                };
                self.keys.put(&mut wtxn, &rec.access_key, &StoredKey::seal(&rec, &self.master)?)?;
            }
        }
        // JWT issuers are managed in the config only: one it no longer names
        // is removed, so a compromised issuer is revoked by deleting it there.
        for gone in self.remove_jwt_issuers_except(&mut wtxn, &cfg.jwt)? {
            self.server.delete(&mut wtxn, &format!("{SEEDED_PREFIX}jwt/{gone}"))?;
        }
        for j in &cfg.jwt {
            let print = json!({"issuer": j.issuer, "audience": j.audience, "tenant": j.tenant,
                               "hs256_secret": j.hs256_secret.as_ref().map(|s| s.expose()),
                               "ed25519_public_pem": j.ed25519_public_pem});
            if self.changed_since_seeded(&mut wtxn, "jwt", &j.name, &print)? {
                self.put_jwt_issuer_in(&mut wtxn, j)?;
            }
        }
        for b in &cfg.buckets {
            let mut print = json!({"tenant": b.tenant, "residency": b.residency, "replicas": b.replicas});
            // Only when set: entries applied before the setting existed keep
            // their fingerprint, so an upgrade re-applies nothing.
            if b.min_write_replicas != 1 {
                print["min_write_replicas"] = json!(b.min_write_replicas);
            }
            if !self.changed_since_seeded(&mut wtxn, "bucket", &b.name, &print)? {
                continue;
            }
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
                min_write_replicas: b.min_write_replicas,
                created,
            };
            self.buckets.put(&mut wtxn, &rec.name, &rec)?;
        }
        wtxn.commit()?;
        Ok(())
    }

    /// Whether the config entry `kind`/`id` with content `print` differs from
    /// what was last applied; records the new fingerprint when it does. The
    /// fingerprint is keyed (HMAC under the server key): it carries secrets.
    fn changed_since_seeded(
        &self,
        wtxn: &mut heed::RwTxn<'_>,
        kind: &str,
        id: &str,
        print: &serde_json::Value,
    ) -> Result<bool, MetaError> {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&*self.server_key)
            .expect("HMAC takes any key length");
        mac.update(print.to_string().as_bytes());
        let fingerprint = hex::encode(mac.finalize().into_bytes());
        let record = format!("{SEEDED_PREFIX}{kind}/{id}");
        if self.server.get(wtxn, &record)?.as_deref() == Some(fingerprint.as_str()) {
            return Ok(false);
        }
        self.server.put(wtxn, &record, &fingerprint)?;
        Ok(true)
    }

    /// Reads every record in one read transaction.
    pub fn load(&self) -> Result<MetaContents, MetaError> {
        let rtxn = self.env.read_txn()?;
        let mut out = MetaContents::default();
        for item in self.backends.iter(&rtxn)? {
            out.backends.push(item?.1.open(&self.master)?);
        }
        for item in self.tenants.iter(&rtxn)? {
            out.tenants.push(item?.1);
        }
        for item in self.keys.iter(&rtxn)? {
            out.keys.push(item?.1.open(&self.master)?);
        }
        out.api_keys = self.api_keys_in(&rtxn)?;
        out.jwt_issuers = self.jwt_issuers_in(&rtxn)?;
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
fn open_env(dir: &Path, map_size: usize) -> Result<Env, MetaError> {
    let mut opts = EnvOpenOptions::new();
    opts.map_size(map_size).max_dbs(META_MAX_DBS);
    // SAFETY: called once per data_dir per process (see `MetaStore::open` callers).
    Ok(unsafe { opts.open(dir) }?)
}

/// Fails with [`MetaError::WrongMasterKey`] when the store has a key check
/// record that `master` does not open. Reads only.
fn check_master_key(env: &Env, master: &MasterKey) -> Result<(), MetaError> {
    let rtxn = env.read_txn()?;
    let server: Option<Db<String>> = env.open_database(&rtxn, Some("server"))?;
    let Some(server) = server else { return Ok(()) };
    let Some(text) = server.get(&rtxn, KEY_CHECK_RECORD)? else { return Ok(()) };
    let sealed: Sealed = serde_json::from_str(&text).map_err(|_| MetaError::Crypto(CryptoError::Format))?;
    match master.open(KEY_CHECK_RECORD, &sealed) {
        Ok(p) if &p[..] == KEY_CHECK_PLAINTEXT => Ok(()),
        _ => Err(MetaError::WrongMasterKey),
    }
}

/// Seals the secrets that a store from before encryption at rest kept
/// plain. Returns whether there were any.
fn seal_plain_secrets(
    wtxn: &mut heed::RwTxn<'_>,
    backends: &Db<StoredBackend>,
    keys: &Db<StoredKey>,
    master: &MasterKey,
) -> Result<bool, MetaError> {
    let plain_keys: Vec<StoredKey> =
        keys.iter(wtxn)?.filter_map(|i| i.map(|(_, v)| v).ok()).filter(|k| k.secret_key.is_plain()).collect();
    let sealed_keys = plain_keys.len();
    for k in plain_keys {
        keys.put(wtxn, &k.access_key.clone(), &StoredKey::seal(&k.open_legacy(master)?, master)?)?;
    }
    let plain_backends: Vec<StoredBackend> = backends
        .iter(wtxn)?
        .filter_map(|i| i.map(|(_, v)| v).ok())
        .filter(|b| b.secret_key.is_plain())
        .collect();
    let any = !plain_backends.is_empty();
    for b in plain_backends {
        backends.put(wtxn, &b.id.clone(), &StoredBackend::seal(&b.open_legacy(master)?, master)?)?;
    }
    Ok(any || sealed_keys > 0)
}

/// Opens the sealed server key; a store from before encryption at rest kept
/// it as hex, which is accepted only while `migrating`.
fn open_server_key(
    text: &str,
    master: &MasterKey,
    migrating: bool,
) -> Result<zeroize::Zeroizing<[u8; SERVER_KEY_LEN]>, MetaError> {
    let bytes = match serde_json::from_str::<Sealed>(text) {
        Ok(sealed) => master.open(SERVER_KEY_RECORD, &sealed)?.to_vec(),
        Err(_) if migrating => hex::decode(text).map_err(|_| MetaError::Crypto(CryptoError::Format))?,
        Err(_) => return Err(MetaError::Crypto(CryptoError::Format)),
    };
    let arr: [u8; SERVER_KEY_LEN] = bytes.try_into().map_err(|_| MetaError::Crypto(CryptoError::Format))?;
    Ok(zeroize::Zeroizing::new(arr))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    /// One key for every store a test opens.
    pub fn test_key() -> MasterKey {
        MasterKey::from_bytes([7; 32])
    }

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
        let store = MetaStore::open(dir.path(), &test_key()).unwrap();
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
    fn the_config_bootstraps_and_api_changes_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path(), &test_key()).unwrap();
        store.seed(&cfg(), 1).unwrap();
        assert!(store.delete_key("AKACME").unwrap());
        store.update_bucket_policy("logs", None, Some(3), None).unwrap();
        store.seed(&cfg(), 2).unwrap();
        let c = store.load().unwrap();
        assert!(c.keys.is_empty(), "a key deleted through the API is not brought back");
        assert_eq!(c.buckets[0].replicas, 3, "an API policy change is kept");
        // An edited config entry is applied again.
        let mut edited = cfg();
        edited.buckets[0].replicas = 2;
        store.seed(&edited, 3).unwrap();
        assert_eq!(store.load().unwrap().buckets[0].replicas, 2);
        // JWT issuers follow the config exactly: removed there, revoked here.
        let mut with_jwt = edited.clone();
        with_jwt.jwt.push(crate::meta::JwtIssuerRecord {
            name: "idp".into(),
            issuer: "i".into(),
            audience: "a".into(),
            hs256_secret: Some(crate::secret::Secret::new("0123456789abcdef0123456789abcdef")),
            ed25519_public_pem: None,
            tenant: None,
        });
        store.seed(&with_jwt, 4).unwrap();
        assert_eq!(store.load().unwrap().jwt_issuers.len(), 1);
        store.seed(&edited, 5).unwrap();
        assert!(store.load().unwrap().jwt_issuers.is_empty(), "a removed issuer is revoked");
        store.seed(&with_jwt, 6).unwrap();
        assert_eq!(store.load().unwrap().jwt_issuers.len(), 1, "and comes back when configured again");
    }

    #[test]
    fn a_store_from_before_encryption_is_sealed_and_compacted() {
        use heed::types::Str as S;
        let dir = tempfile::tempdir().unwrap();
        {
            let env = open_env(dir.path(), META_MAP_SIZE).unwrap();
            let mut w = env.write_txn().unwrap();
            let keys: Database<S, S> = env.create_database(&mut w, Some("keys")).unwrap();
            let server: Db<String> = env.create_database(&mut w, Some("server")).unwrap();
            let legacy = r#"{"access_key":"AKOLD","tenant":"t","secret_key":"very-old-plain-secret","enabled":true,"created":1}"#;
            keys.put(&mut w, "AKOLD", legacy).unwrap();
            server.put(&mut w, SERVER_KEY_RECORD, &"ab".repeat(SERVER_KEY_LEN)).unwrap();
            w.commit().unwrap();
            env.prepare_for_closing().wait();
        }
        let store = MetaStore::open(dir.path(), &test_key()).unwrap();
        assert!(store.migrated());
        assert_eq!(store.server_key(), &[0xab; SERVER_KEY_LEN], "the old server key is kept");
        assert_eq!(store.load().unwrap().keys[0].secret_key.expose(), "very-old-plain-secret");
        store.compact(dir.path()).unwrap();
        let raw = std::fs::read(dir.path().join("data.mdb")).unwrap();
        assert!(memchr::memmem::find(&raw, b"very-old-plain-secret").is_none(), "no plain copy is left");
        let store = MetaStore::open(dir.path(), &test_key()).unwrap();
        assert!(!store.migrated());
        assert_eq!(store.load().unwrap().keys[0].secret_key.expose(), "very-old-plain-secret");
        // After the migration a plain value is tampering: refused.
        drop(store);
        {
            let env = open_env(dir.path(), META_MAP_SIZE).unwrap();
            let mut w = env.write_txn().unwrap();
            let keys: Database<S, S> = env.create_database(&mut w, Some("keys")).unwrap();
            let planted =
                r#"{"access_key":"AKOLD","tenant":"t","secret_key":"planted","enabled":true,"created":1}"#;
            keys.put(&mut w, "AKOLD", planted).unwrap();
            w.commit().unwrap();
            env.prepare_for_closing().wait();
        }
        let store = MetaStore::open(dir.path(), &test_key()).unwrap();
        assert!(store.load().is_err());
    }

    #[test]
    fn server_key_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = *MetaStore::open(dir.path(), &test_key()).unwrap().server_key();
        let again = *MetaStore::open(dir.path(), &test_key()).unwrap().server_key();
        assert_eq!(first, again);
        assert_ne!(first, [0; SERVER_KEY_LEN]);
    }

    #[test]
    fn bucket_names_are_global() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path(), &test_key()).unwrap();
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
