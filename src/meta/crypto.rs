//! Secrets at rest: values sealed with XChaCha20-Poly1305 under the master key.
//!
//! Every sealed value has its own random 192-bit nonce, and the id of the
//! record it belongs to as associated data, so a sealed value moved to another
//! record (or another kind of record) does not open.
//!
//! # Security
//! - [`MasterKey`] never prints and is zeroized on drop.
//! - Opening fails closed: a wrong key or a tampered value is an error, never
//!   garbage plaintext.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// Length of the master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;
/// Length of a nonce in bytes (XChaCha20).
pub const NONCE_LEN: usize = 24;
/// Format version of [`Sealed`] values.
const SEALED_VERSION: u8 = 1;

/// Errors of sealing and opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// The value does not open under this key and record id.
    Open,
    /// The stored value is malformed.
    Format,
    /// The OS random source failed.
    Random,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CryptoError::Open => "a sealed value does not open with this master key",
            CryptoError::Format => "a sealed value is malformed",
            CryptoError::Random => "the OS random source failed",
        })
    }
}

impl std::error::Error for CryptoError {}

/// The key that seals every secret in the metadata store.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> MasterKey {
        MasterKey(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn generate() -> Result<MasterKey, CryptoError> {
        let mut k = [0u8; MASTER_KEY_LEN];
        getrandom::fill(&mut k).map_err(|_| CryptoError::Random)?;
        Ok(MasterKey::from_bytes(k))
    }

    /// Parses the text form: 64 hex digits or standard base64 of 32 bytes,
    /// surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<MasterKey, &'static str> {
        use base64::Engine;
        let t = text.trim();
        let bytes = if t.len() == 2 * MASTER_KEY_LEN && t.bytes().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(t).map_err(|_| "not hex")?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| "expected 64 hex digits or the base64 of 32 bytes")?
        };
        let bytes: [u8; MASTER_KEY_LEN] =
            bytes.try_into().map_err(|_| "expected 64 hex digits or the base64 of 32 bytes")?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The text form written by `sluice admin gen-master-key` (hex).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(*self.0))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }

    /// Seals `plaintext` for the record `aad`.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let ct = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: aad.as_bytes() })
            .map_err(|_| CryptoError::Format)?;
        Ok(Sealed { v: SEALED_VERSION, nonce: hex::encode(nonce), ct: hex::encode(ct) })
    }

    /// Opens a value sealed for the record `aad`.
    pub fn open(&self, aad: &str, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.v != SEALED_VERSION {
            return Err(CryptoError::Format);
        }
        let nonce = hex::decode(&sealed.nonce).map_err(|_| CryptoError::Format)?;
        if nonce.len() != NONCE_LEN {
            return Err(CryptoError::Format);
        }
        let ct = hex::decode(&sealed.ct).map_err(|_| CryptoError::Format)?;
        self.cipher()
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ct, aad: aad.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// Seals a secret string.
    pub fn seal_secret(&self, aad: &str, secret: &Secret) -> Result<Sealed, CryptoError> {
        self.seal(aad, secret.expose().as_bytes())
    }

    /// Opens a sealed secret string.
    pub fn open_secret(&self, aad: &str, sealed: &Sealed) -> Result<Secret, CryptoError> {
        let bytes = self.open(aad, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::Format)?;
        Ok(Secret::new(text))
    }
}

/// A sealed value as stored: format version, nonce and ciphertext (with tag), hex.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub v: u8,
    pub nonce: String,
    pub ct: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() {
        let k = MasterKey::generate().unwrap();
        let a = k.seal("key:AK1", b"s3cret").unwrap();
        let b = k.seal("key:AK1", b"s3cret").unwrap();
        assert_ne!(a.nonce, b.nonce, "a fresh nonce for each value");
        assert_ne!(a.ct, b.ct);
        assert_eq!(&*k.open("key:AK1", &a).unwrap(), b"s3cret");
        assert!(!a.ct.contains(&hex::encode(b"s3cret")));
    }

    #[test]
    fn wrong_key_record_or_tampering_fails_closed() {
        let k = MasterKey::generate().unwrap();
        let other = MasterKey::generate().unwrap();
        let s = k.seal("key:AK1", b"s3cret").unwrap();
        assert_eq!(other.open("key:AK1", &s).unwrap_err(), CryptoError::Open);
        assert_eq!(k.open("key:AK2", &s).unwrap_err(), CryptoError::Open, "bound to its record");
        let mut t = s.clone();
        t.ct.replace_range(0..2, if &t.ct[0..2] == "00" { "01" } else { "00" });
        assert_eq!(k.open("key:AK1", &t).unwrap_err(), CryptoError::Open);
        let mut short = s.clone();
        short.nonce.truncate(10);
        assert_eq!(k.open("key:AK1", &short).unwrap_err(), CryptoError::Format);
    }

    #[test]
    fn parses_hex_and_base64_and_never_prints() {
        let hex_key = "00".repeat(31) + "ff";
        let k = MasterKey::parse(&format!("  {hex_key}\n")).unwrap();
        assert_eq!(*k.to_hex(), hex_key);
        let b64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=";
        assert_eq!(*MasterKey::parse(b64).unwrap().to_hex(), hex_key);
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&"ab".repeat(31)).is_err());
        assert_eq!(format!("{k:?}"), "MasterKey(***)");
    }
}
