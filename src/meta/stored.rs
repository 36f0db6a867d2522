//! The on-disk form of records that carry secrets: the secret sealed under
//! the master key, bound to its record by the associated data.
//!
//! Stores written before secrets were encrypted hold plain strings; they are
//! read as [`StoredSecret::Plain`] and sealed by the first keyed open
//! (`MetaStore::open`), in the same transaction that records the key check.

use serde::{Deserialize, Serialize};

use super::crypto::{CryptoError, MasterKey, Sealed};
use super::model::{BackendRecord, KeyRecord};
use crate::config::Endpoint;
use crate::secret::Secret;

/// Associated data of an access key's secret: binds it to the key and its tenant.
pub fn key_aad(tenant: &str, access_key: &str) -> String {
    format!("sluice/key/{tenant}/{access_key}")
}

/// Associated data of a backend's secret key.
pub fn backend_aad(id: &str) -> String {
    format!("sluice/backend/{id}")
}

/// A secret as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredSecret {
    Sealed(Sealed),
    /// Written by versions before encryption at rest; never written now.
    Plain(Secret),
}

impl StoredSecret {
    /// Opens a sealed secret; a plain one is refused (outside the one-time
    /// migration, a plain value can only be tampering).
    pub fn open(&self, key: &MasterKey, aad: &str) -> Result<Secret, CryptoError> {
        match self {
            StoredSecret::Sealed(s) => key.open_secret(aad, s),
            StoredSecret::Plain(_) => Err(CryptoError::Format),
        }
    }

    /// Opens a sealed or a plain secret: only for the migration of a store
    /// written before encryption at rest.
    pub fn open_legacy(&self, key: &MasterKey, aad: &str) -> Result<Secret, CryptoError> {
        match self {
            StoredSecret::Plain(p) => Ok(p.clone()),
            sealed => sealed.open(key, aad),
        }
    }

    pub fn is_plain(&self) -> bool {
        matches!(self, StoredSecret::Plain(_))
    }
}

/// An access key as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub access_key: String,
    pub tenant: String,
    pub secret_key: StoredSecret,
    pub enabled: bool,
    pub created: i64,
    #[serde(default)]
    pub perms: Vec<super::model::BucketPerm>,
}

impl StoredKey {
    pub fn seal(rec: &KeyRecord, key: &MasterKey) -> Result<StoredKey, CryptoError> {
        Ok(StoredKey {
            access_key: rec.access_key.clone(),
            tenant: rec.tenant.clone(),
            secret_key: StoredSecret::Sealed(
                key.seal_secret(&key_aad(&rec.tenant, &rec.access_key), &rec.secret_key)?,
            ),
            enabled: rec.enabled,
            created: rec.created,
            perms: rec.perms.clone(),
        })
    }

    pub fn open(&self, key: &MasterKey) -> Result<KeyRecord, CryptoError> {
        self.open_with(self.secret_key.open(key, &key_aad(&self.tenant, &self.access_key))?)
    }

    /// For the migration only (see [`StoredSecret::open_legacy`]).
    pub fn open_legacy(&self, key: &MasterKey) -> Result<KeyRecord, CryptoError> {
        self.open_with(self.secret_key.open_legacy(key, &key_aad(&self.tenant, &self.access_key))?)
    }

    fn open_with(&self, secret_key: Secret) -> Result<KeyRecord, CryptoError> {
        Ok(KeyRecord {
            access_key: self.access_key.clone(),
            tenant: self.tenant.clone(),
            secret_key,
            enabled: self.enabled,
            created: self.created,
            perms: self.perms.clone(),
        })
    }
}

/// A backend as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBackend {
    pub id: String,
    pub endpoint: Endpoint,
    pub region: String,
    pub access_key: String,
    pub secret_key: StoredSecret,
    pub weight: f64,
    pub signing_region: String,
    #[serde(default)]
    pub draining: bool,
}

impl StoredBackend {
    pub fn seal(rec: &BackendRecord, key: &MasterKey) -> Result<StoredBackend, CryptoError> {
        Ok(StoredBackend {
            id: rec.id.clone(),
            endpoint: rec.endpoint.clone(),
            region: rec.region.clone(),
            access_key: rec.access_key.clone(),
            secret_key: StoredSecret::Sealed(key.seal_secret(&backend_aad(&rec.id), &rec.secret_key)?),
            weight: rec.weight,
            signing_region: rec.signing_region.clone(),
            draining: rec.draining,
        })
    }

    pub fn open(&self, key: &MasterKey) -> Result<BackendRecord, CryptoError> {
        self.open_with(self.secret_key.open(key, &backend_aad(&self.id))?)
    }

    /// For the migration only (see [`StoredSecret::open_legacy`]).
    pub fn open_legacy(&self, key: &MasterKey) -> Result<BackendRecord, CryptoError> {
        self.open_with(self.secret_key.open_legacy(key, &backend_aad(&self.id))?)
    }

    fn open_with(&self, secret_key: Secret) -> Result<BackendRecord, CryptoError> {
        Ok(BackendRecord {
            id: self.id.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            access_key: self.access_key.clone(),
            secret_key,
            weight: self.weight,
            signing_region: self.signing_region.clone(),
            draining: self.draining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_plain_secrets_still_read_and_sealed_ones_hide_the_value() {
        let key = MasterKey::generate().unwrap();
        let legacy =
            r#"{"access_key":"AK1","tenant":"t","secret_key":"plain-secret","enabled":true,"created":1}"#;
        let old: StoredKey = serde_json::from_str(legacy).unwrap();
        assert!(old.secret_key.is_plain());
        assert_eq!(old.open(&key).unwrap_err(), CryptoError::Format, "plain only through the migration");
        let rec = old.open_legacy(&key).unwrap();
        assert_eq!(rec.secret_key.expose(), "plain-secret");
        let sealed = serde_json::to_string(&StoredKey::seal(&rec, &key).unwrap()).unwrap();
        assert!(!sealed.contains("plain-secret"), "{sealed}");
        let back: StoredKey = serde_json::from_str(&sealed).unwrap();
        assert!(!back.secret_key.is_plain());
        assert_eq!(back.open(&key).unwrap().secret_key.expose(), "plain-secret");
        // A sealed secret moved to another key's record, or its key moved to
        // another tenant, does not open.
        let mut moved = back.clone();
        moved.access_key = "AK2".into();
        assert!(moved.open(&key).is_err());
        let mut other_tenant = back.clone();
        other_tenant.tenant = "u".into();
        assert!(other_tenant.open(&key).is_err());
    }
}
