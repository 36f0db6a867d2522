//! Changes made through the admin API: tenants, access keys, bucket
//! policies, backends, admin tokens, `/proxy` API keys and JWT issuers.
//!
//! Every call is one LMDB transaction and blocking (run it off the event
//! loop). After a change the caller publishes a new snapshot.
//!
//! # Security
//! - Admin tokens and API keys are stored only as HMAC-SHA256 values under
//!   the server key (sealed by the master key); the value is returned once,
//!   at creation. A lookup is by that hash, so timing reveals nothing of the
//!   token.
//! - Generated secret access keys and JWT HS256 secrets are sealed under the
//!   master key like every other secret.

use heed::types::{SerdeJson, Str};
use heed::{Database, Env, RwTxn};
use serde::{Deserialize, Serialize};

use super::crypto::MasterKey;
use super::model::{BackendRecord, BucketPerm, KeyRecord, TenantRecord};
use super::store::{MetaError, MetaStore};
use super::stored::{StoredBackend, StoredKey, StoredSecret};
use crate::secret::Secret;

/// Random bytes in a generated admin token, API key or secret access key.
pub const TOKEN_BYTES: usize = 32;
/// Prefix of admin tokens (so scanners recognise them).
pub const ADMIN_TOKEN_PREFIX: &str = "sluice_adm_";
/// Prefix of `/proxy` API keys.
pub const API_KEY_PREFIX: &str = "sluice_key_";
/// Length of generated access key ids.
pub const GENERATED_ACCESS_KEY_LEN: usize = 20;

type Db<T> = Database<Str, SerdeJson<T>>;

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Its own tenant's keys and buckets.
    TenantAdmin,
    /// Read only.
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "tenant-admin" => Some(Role::TenantAdmin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::TenantAdmin => "tenant-admin",
            Role::Viewer => "viewer",
        }
    }
}

/// An admin token (stored under the hash of its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokenRecord {
    /// Public id (to list and delete it).
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The tenant of a `tenant-admin` token.
    pub tenant: Option<String>,
    pub created: i64,
}

/// A `/proxy` API key (stored under the hash of its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub tenant: String,
    /// Per-bucket limits; empty = full access to the tenant's buckets.
    #[serde(default)]
    pub perms: Vec<BucketPerm>,
    pub created: i64,
}

/// Records stored under a credential hash, named by a public id.
trait PublicId {
    fn public_id(&self) -> &str;
}

impl PublicId for AdminTokenRecord {
    fn public_id(&self) -> &str {
        &self.id
    }
}

impl PublicId for ApiKeyRecord {
    fn public_id(&self) -> &str {
        &self.id
    }
}

/// A trusted JWT issuer for `/proxy`.
#[derive(Debug, Clone)]
pub struct JwtIssuerRecord {
    pub name: String,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// HS256 shared secret (sealed on disk), or
    pub hs256_secret: Option<Secret>,
    /// EdDSA (Ed25519) public key, PEM.
    pub ed25519_public_pem: Option<String>,
    /// The only tenant its tokens may speak for (None: the `tenant` claim decides).
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredJwtIssuer {
    name: String,
    issuer: String,
    audience: String,
    hs256_secret: Option<StoredSecret>,
    ed25519_public_pem: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
}

fn jwt_aad(name: &str) -> String {
    format!("sluice/jwt/{name}")
}

impl StoredJwtIssuer {
    fn seal(rec: &JwtIssuerRecord, key: &MasterKey) -> Result<Self, MetaError> {
        let hs256_secret = match &rec.hs256_secret {
            Some(s) => Some(StoredSecret::Sealed(key.seal_secret(&jwt_aad(&rec.name), s)?)),
            None => None,
        };
        Ok(StoredJwtIssuer {
            name: rec.name.clone(),
            issuer: rec.issuer.clone(),
            audience: rec.audience.clone(),
            hs256_secret,
            ed25519_public_pem: rec.ed25519_public_pem.clone(),
            tenant: rec.tenant.clone(),
        })
    }

    fn open(&self, key: &MasterKey) -> Result<JwtIssuerRecord, MetaError> {
        let hs256_secret = match &self.hs256_secret {
            Some(s) => Some(s.open(key, &jwt_aad(&self.name))?),
            None => None,
        };
        Ok(JwtIssuerRecord {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            hs256_secret,
            ed25519_public_pem: self.ed25519_public_pem.clone(),
            tenant: self.tenant.clone(),
        })
    }
}

/// The admin databases (created inside `MetaStore::open`'s transaction).
pub struct AdminDbs {
    tokens: Db<AdminTokenRecord>,
    api_keys: Db<ApiKeyRecord>,
    jwt: Db<StoredJwtIssuer>,
}

impl AdminDbs {
    pub fn create(env: &Env, wtxn: &mut RwTxn<'_>) -> heed::Result<AdminDbs> {
        Ok(AdminDbs {
            tokens: env.create_database(wtxn, Some("admin_tokens"))?,
            api_keys: env.create_database(wtxn, Some("api_keys"))?,
            jwt: env.create_database(wtxn, Some("jwt_issuers"))?,
        })
    }
}

/// The stored form of a token or API key: HMAC-SHA256 under the server key
/// (itself sealed by the master key), so even a weak operator-chosen token
/// cannot be brute-forced from a copy of the data directory alone.
fn token_hash(server_key: &[u8], token: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(server_key).expect("HMAC takes any key length");
    mac.update(b"sluice/token/");
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn random_bytes<const N: usize>() -> Result<[u8; N], MetaError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| MetaError::Crypto(super::crypto::CryptoError::Random))?;
    Ok(b)
}

/// A new random token with `prefix`.
fn new_token(prefix: &str) -> Result<Secret, MetaError> {
    use base64::Engine;
    let b = random_bytes::<TOKEN_BYTES>()?;
    Ok(Secret::new(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))))
}

/// A public id derived from a token's hash.
fn public_id(hash: &str) -> String {
    hash[..12].to_string()
}

/// Deletes every record of `db` that `doomed` selects.
fn delete_where<T: serde::de::DeserializeOwned + 'static>(
    wtxn: &mut RwTxn<'_>,
    db: &Db<T>,
    doomed: impl Fn(&T) -> bool,
) -> Result<(), MetaError> {
    let names: Vec<String> = db
        .iter(wtxn)?
        .filter_map(Result::ok)
        .filter(|(_, v)| doomed(v))
        .map(|(k, _)| k.to_string())
        .collect();
    for name in names {
        db.delete(wtxn, &name)?;
    }
    Ok(())
}

/// Re-seals the admin records' secrets under `new` (inside the rotation's transaction).
pub(super) fn reseal(store: &MetaStore, wtxn: &mut RwTxn<'_>, new: &MasterKey) -> Result<usize, MetaError> {
    let dbs = store.admin_dbs();
    let all: Vec<StoredJwtIssuer> =
        dbs.jwt.iter(wtxn)?.map(|i| i.map(|(_, v)| v)).collect::<Result<_, _>>()?;
    let mut n = 0;
    for j in all {
        let rec = j.open(store.master())?;
        n += usize::from(rec.hs256_secret.is_some());
        dbs.jwt.put(wtxn, &rec.name, &StoredJwtIssuer::seal(&rec, new)?)?;
    }
    Ok(n)
}

fn invalid(msg: impl Into<String>) -> MetaError {
    MetaError::Invalid(msg.into())
}

impl MetaStore {
    // ---- admin tokens ----

    /// On a store with no admin token: stores `given` (or a generated token)
    /// as the bootstrap admin token. Returns the token when one was generated
    /// (to print once).
    pub fn ensure_bootstrap_token(
        &self,
        given: Option<&Secret>,
        now: i64,
    ) -> Result<Option<Secret>, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let dbs = self.admin_dbs();
        if dbs.tokens.len(&wtxn)? > 0 {
            return Ok(None);
        }
        let (token, generated) = match given {
            Some(t) => (t.clone(), false),
            None => (new_token(ADMIN_TOKEN_PREFIX)?, true),
        };
        let hash = token_hash(self.server_key(), token.expose());
        let rec = AdminTokenRecord {
            id: public_id(&hash),
            name: "bootstrap".into(),
            role: Role::Admin,
            tenant: None,
            created: now,
        };
        dbs.tokens.put(&mut wtxn, &hash, &rec)?;
        wtxn.commit()?;
        Ok(generated.then_some(token))
    }

    /// The admin token whose value is `token`, if any.
    pub fn find_admin_token(&self, token: &str) -> Result<Option<AdminTokenRecord>, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.admin_dbs().tokens.get(&rtxn, &token_hash(self.server_key(), token))?)
    }

    /// Creates an admin token; returns its value (shown once) and record.
    pub fn create_admin_token(
        &self,
        name: &str,
        role: Role,
        tenant: Option<&str>,
        now: i64,
    ) -> Result<(Secret, AdminTokenRecord), MetaError> {
        let mut wtxn = self.env().write_txn()?;
        match (role, tenant) {
            (Role::TenantAdmin, None) => return Err(invalid("a tenant-admin token needs a tenant")),
            (Role::TenantAdmin, Some(t)) if self.tenant_db().get(&wtxn, t)?.is_none() => {
                return Err(invalid(format!("no tenant {t:?}")));
            }
            (Role::Admin | Role::Viewer, Some(_)) => {
                return Err(invalid("only tenant-admin tokens belong to a tenant"));
            }
            _ => {}
        }
        let token = new_token(ADMIN_TOKEN_PREFIX)?;
        let hash = token_hash(self.server_key(), token.expose());
        let rec = AdminTokenRecord {
            id: public_id(&hash),
            name: name.to_string(),
            role,
            tenant: tenant.map(str::to_string),
            created: now,
        };
        self.admin_dbs().tokens.put(&mut wtxn, &hash, &rec)?;
        wtxn.commit()?;
        Ok((token, rec))
    }

    pub fn list_admin_tokens(&self) -> Result<Vec<AdminTokenRecord>, MetaError> {
        let rtxn = self.env().read_txn()?;
        let mut out: Vec<AdminTokenRecord> =
            self.admin_dbs().tokens.iter(&rtxn)?.map(|i| i.map(|(_, v)| v)).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Deletes the admin token with public id `id`. Returns whether it existed.
    pub fn delete_admin_token(&self, id: &str) -> Result<bool, MetaError> {
        self.delete_by_public_id(&self.admin_dbs().tokens, id)
    }

    /// Deletes the record (stored under a credential hash) whose public id is
    /// `id`. Returns whether it existed.
    fn delete_by_public_id<T: PublicId + serde::de::DeserializeOwned + 'static>(
        &self,
        db: &Db<T>,
        id: &str,
    ) -> Result<bool, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let hash = db
            .iter(&wtxn)?
            .filter_map(Result::ok)
            .find(|(_, r)| r.public_id() == id)
            .map(|(h, _)| h.to_string());
        let Some(hash) = hash else { return Ok(false) };
        db.delete(&mut wtxn, &hash)?;
        wtxn.commit()?;
        Ok(true)
    }

    // ---- /proxy API keys ----

    pub fn create_api_key(
        &self,
        tenant: &str,
        name: &str,
        perms: Vec<BucketPerm>,
        now: i64,
    ) -> Result<(Secret, ApiKeyRecord), MetaError> {
        let mut wtxn = self.env().write_txn()?;
        if self.tenant_db().get(&wtxn, tenant)?.is_none() {
            return Err(invalid(format!("no tenant {tenant:?}")));
        }
        let key = new_token(API_KEY_PREFIX)?;
        let hash = token_hash(self.server_key(), key.expose());
        let rec = ApiKeyRecord {
            id: public_id(&hash),
            name: name.to_string(),
            tenant: tenant.to_string(),
            perms,
            created: now,
        };
        self.admin_dbs().api_keys.put(&mut wtxn, &hash, &rec)?;
        wtxn.commit()?;
        Ok((key, rec))
    }

    /// Every API key as (hash, record), for the snapshot.
    pub fn api_keys(&self) -> Result<Vec<(String, ApiKeyRecord)>, MetaError> {
        self.api_keys_in(&self.env().read_txn()?)
    }

    pub(super) fn api_keys_in(
        &self,
        txn: &heed::RoTxn<'_, heed::WithTls>,
    ) -> Result<Vec<(String, ApiKeyRecord)>, MetaError> {
        Ok(self
            .admin_dbs()
            .api_keys
            .iter(txn)?
            .map(|i| i.map(|(h, v)| (h.to_string(), v)))
            .collect::<Result<_, _>>()?)
    }

    /// The stored hash of a presented API key or token (to look it up).
    pub fn credential_hash(&self, value: &str) -> String {
        token_hash(self.server_key(), value)
    }

    pub fn delete_api_key(&self, id: &str) -> Result<bool, MetaError> {
        self.delete_by_public_id(&self.admin_dbs().api_keys, id)
    }

    // ---- JWT issuers ----

    pub fn put_jwt_issuer(&self, rec: &JwtIssuerRecord) -> Result<(), MetaError> {
        let mut wtxn = self.env().write_txn()?;
        self.put_jwt_issuer_in(&mut wtxn, rec)?;
        wtxn.commit()?;
        Ok(())
    }

    /// Removes the stored issuers `keep` does not name; returns their names.
    pub(super) fn remove_jwt_issuers_except(
        &self,
        wtxn: &mut RwTxn<'_>,
        keep: &[JwtIssuerRecord],
    ) -> Result<Vec<String>, MetaError> {
        let dbs = self.admin_dbs();
        let gone: Vec<String> = dbs
            .jwt
            .iter(wtxn)?
            .filter_map(Result::ok)
            .map(|(name, _)| name.to_string())
            .filter(|name| !keep.iter().any(|k| k.name == *name))
            .collect();
        for name in &gone {
            dbs.jwt.delete(wtxn, name)?;
        }
        Ok(gone)
    }

    pub(super) fn put_jwt_issuer_in(
        &self,
        wtxn: &mut RwTxn<'_>,
        rec: &JwtIssuerRecord,
    ) -> Result<(), MetaError> {
        self.admin_dbs().jwt.put(wtxn, &rec.name, &StoredJwtIssuer::seal(rec, self.master())?)?;
        Ok(())
    }

    pub fn jwt_issuers(&self) -> Result<Vec<JwtIssuerRecord>, MetaError> {
        self.jwt_issuers_in(&self.env().read_txn()?)
    }

    pub(super) fn jwt_issuers_in(
        &self,
        txn: &heed::RoTxn<'_, heed::WithTls>,
    ) -> Result<Vec<JwtIssuerRecord>, MetaError> {
        let mut out = Vec::new();
        for item in self.admin_dbs().jwt.iter(txn)? {
            out.push(item?.1.open(self.master())?);
        }
        Ok(out)
    }

    // ---- tenants ----

    pub fn create_tenant(&self, name: &str, now: i64) -> Result<TenantRecord, MetaError> {
        crate::config::check_name("name", name).map_err(|e| invalid(e.to_string()))?;
        let mut wtxn = self.env().write_txn()?;
        if self.tenant_db().get(&wtxn, name)?.is_some() {
            return Err(MetaError::Conflict(format!("tenant {name:?} already exists")));
        }
        let rec = TenantRecord { name: name.to_string(), created: now };
        self.tenant_db().put(&mut wtxn, name, &rec)?;
        wtxn.commit()?;
        Ok(rec)
    }

    /// Every tenant (no secret is opened, unlike [`MetaStore::load`]).
    pub fn tenants(&self) -> Result<Vec<TenantRecord>, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.tenant_db().iter(&rtxn)?.map(|i| i.map(|(_, t)| t)).collect::<Result<_, _>>()?)
    }

    pub fn tenant_exists(&self, name: &str) -> Result<bool, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.tenant_db().get(&rtxn, name)?.is_some())
    }

    /// Deletes a tenant with no buckets, with its access keys, API keys and
    /// tenant-admin tokens. Returns whether it existed.
    pub fn delete_tenant(&self, name: &str) -> Result<bool, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        if self.tenant_db().get(&wtxn, name)?.is_none() {
            return Ok(false);
        }
        if self.bucket_db().iter(&wtxn)?.filter_map(Result::ok).any(|(_, b)| b.tenant == name) {
            return Err(MetaError::Conflict(format!(
                "tenant {name:?} still owns buckets; delete them first"
            )));
        }
        let dbs = self.admin_dbs();
        delete_where(&mut wtxn, self.key_db(), |k| k.tenant == name)?;
        delete_where(&mut wtxn, &dbs.api_keys, |k| k.tenant == name)?;
        delete_where(&mut wtxn, &dbs.tokens, |t| t.tenant.as_deref() == Some(name))?;
        self.tenant_db().delete(&mut wtxn, name)?;
        wtxn.commit()?;
        Ok(true)
    }

    // ---- access keys ----

    /// Creates an access key for `tenant` with a generated id and secret.
    pub fn create_key(&self, tenant: &str, perms: Vec<BucketPerm>, now: i64) -> Result<KeyRecord, MetaError> {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut wtxn = self.env().write_txn()?;
        if self.tenant_db().get(&wtxn, tenant)?.is_none() {
            return Err(invalid(format!("no tenant {tenant:?}")));
        }
        let raw = random_bytes::<GENERATED_ACCESS_KEY_LEN>()?;
        let access_key: String = "SK"
            .chars()
            .chain(raw[2..].iter().map(|b| ALNUM[usize::from(*b) % ALNUM.len()] as char))
            .collect();
        let secret = {
            use base64::Engine;
            let b = random_bytes::<30>()?;
            base64::engine::general_purpose::STANDARD.encode(b)
        };
        let rec = KeyRecord {
            access_key,
            tenant: tenant.to_string(),
            secret_key: Secret::new(secret),
            enabled: true,
            created: now,
            perms,
        };
        self.key_db().put(&mut wtxn, &rec.access_key, &StoredKey::seal(&rec, self.master())?)?;
        wtxn.commit()?;
        Ok(rec)
    }

    /// Applies `f` to access key `access_key`; returns the updated record, or
    /// None when there is no such key.
    pub fn update_key(
        &self,
        access_key: &str,
        f: impl FnOnce(&mut KeyRecord),
    ) -> Result<Option<KeyRecord>, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let Some(stored) = self.key_db().get(&wtxn, access_key)? else { return Ok(None) };
        let mut rec = stored.open(self.master())?;
        f(&mut rec);
        self.key_db().put(&mut wtxn, access_key, &StoredKey::seal(&rec, self.master())?)?;
        wtxn.commit()?;
        Ok(Some(rec))
    }

    pub fn delete_key(&self, access_key: &str) -> Result<bool, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let existed = self.key_db().delete(&mut wtxn, access_key)?;
        wtxn.commit()?;
        Ok(existed)
    }

    // ---- buckets ----

    /// Sets a bucket's residency and replica count. Returns None when there
    /// is no such bucket.
    pub fn update_bucket_policy(
        &self,
        name: &str,
        residency: Option<Vec<String>>,
        replicas: Option<u8>,
        min_write_replicas: Option<u8>,
    ) -> Result<Option<super::BucketRecord>, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let Some(mut rec) = self.bucket_db().get(&wtxn, name)? else { return Ok(None) };
        if let Some(r) = residency {
            rec.residency = r;
        }
        if let Some(n) = replicas {
            rec.replicas = n;
        }
        if let Some(n) = min_write_replicas {
            rec.min_write_replicas = n;
        }
        rec.min_write_replicas = rec.min_write_replicas.clamp(1, rec.replicas.max(1));
        self.bucket_db().put(&mut wtxn, name, &rec)?;
        wtxn.commit()?;
        Ok(Some(rec))
    }

    // ---- backends ----

    /// Adds or replaces a backend.
    pub fn put_backend(&self, rec: &BackendRecord) -> Result<(), MetaError> {
        let mut wtxn = self.env().write_txn()?;
        self.backend_db().put(&mut wtxn, &rec.id, &StoredBackend::seal(rec, self.master())?)?;
        wtxn.commit()?;
        Ok(())
    }

    pub fn backend(&self, id: &str) -> Result<Option<BackendRecord>, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(match self.backend_db().get(&rtxn, id)? {
            Some(s) => Some(s.open(self.master())?),
            None => None,
        })
    }

    pub fn delete_backend(&self, id: &str) -> Result<bool, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let existed = self.backend_db().delete(&mut wtxn, id)?;
        wtxn.commit()?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, MetaStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = MetaStore::open(dir.path(), &MasterKey::from_bytes([7; 32])).unwrap();
        (dir, s)
    }

    #[test]
    fn bootstrap_token_once_and_only_hashes_stored() {
        let (_d, s) = store();
        let t = s.ensure_bootstrap_token(None, 1).unwrap().expect("generated");
        assert!(t.expose().starts_with(ADMIN_TOKEN_PREFIX));
        assert!(s.ensure_bootstrap_token(None, 2).unwrap().is_none(), "only on an empty store");
        let rec = s.find_admin_token(t.expose()).unwrap().unwrap();
        assert_eq!(rec.role, Role::Admin);
        assert!(s.find_admin_token("sluice_adm_guess").unwrap().is_none());
        s.create_tenant("acme", 1).unwrap();
        let (tt, trec) = s.create_admin_token("ops", Role::TenantAdmin, Some("acme"), 3).unwrap();
        assert_eq!(s.find_admin_token(tt.expose()).unwrap().unwrap(), trec);
        assert!(s.create_admin_token("x", Role::TenantAdmin, None, 3).is_err());
        assert!(s.create_admin_token("x", Role::Viewer, Some("acme"), 3).is_err());
        assert_eq!(s.list_admin_tokens().unwrap().len(), 2);
        assert!(s.delete_admin_token(&trec.id).unwrap());
        assert!(s.find_admin_token(tt.expose()).unwrap().is_none());
    }

    #[test]
    fn tenant_key_lifecycle() {
        let (_d, s) = store();
        s.create_tenant("acme", 1).unwrap();
        assert!(s.create_tenant("acme", 1).is_err());
        assert!(s.create_tenant("bad name!", 1).is_err());
        let k = s.create_key("acme", vec![], 2).unwrap();
        assert!(s.create_key("nobody", vec![], 2).is_err());
        let off = s.update_key(&k.access_key, |r| r.enabled = false).unwrap().unwrap();
        assert!(!off.enabled);
        assert_eq!(off.secret_key.expose(), k.secret_key.expose());
        let (_, api) = s.create_api_key("acme", "app", vec![], 3).unwrap();
        assert_eq!(s.api_keys().unwrap().len(), 1);
        assert!(s.delete_tenant("acme").unwrap());
        assert!(s.load().unwrap().keys.is_empty(), "its keys went with it");
        assert!(s.api_keys().unwrap().is_empty());
        assert!(!s.delete_api_key(&api.id).unwrap());
    }

    #[test]
    fn jwt_secrets_are_sealed_and_rotate() {
        let (dir, s) = store();
        let rec = JwtIssuerRecord {
            name: "idp".into(),
            issuer: "https://idp".into(),
            audience: "sluice".into(),
            hs256_secret: Some(Secret::new("jwt-shared-secret-value")),
            ed25519_public_pem: None,
            tenant: None,
        };
        s.put_jwt_issuer(&rec).unwrap();
        let new = MasterKey::from_bytes([9; 32]);
        assert!(s.rotate_master_key(&new).unwrap() >= 2);
        drop(s);
        assert!(matches!(
            MetaStore::open(dir.path(), &MasterKey::from_bytes([7; 32])),
            Err(MetaError::WrongMasterKey)
        ));
        let s = MetaStore::open(dir.path(), &new).unwrap();
        assert_eq!(
            s.jwt_issuers().unwrap()[0].hs256_secret.as_ref().unwrap().expose(),
            "jwt-shared-secret-value"
        );
    }
}
