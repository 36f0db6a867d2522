//! SigV4 signing keys: the HMAC chain from the secret, and the per-core cache
//! that makes it a one-per-day cost per access key.
//!
//! ```text
//! kDate    = HMAC("AWS4" + secret, YYYYMMDD)
//! kRegion  = HMAC(kDate, region)
//! kService = HMAC(kRegion, service)
//! kSigning = HMAC(kService, "aws4_request")
//! ```
//!
//! Spec: <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key>.
//!
//! # Security
//! - Derived keys are secret-equivalent for one day and scope. Cache entries
//!   are zeroized when evicted, overwritten or dropped; `Debug` of the cache
//!   prints only its size.
//! - The `"AWS4" + secret` HMAC key is assembled on the stack (or hashed, when
//!   longer than a SHA-256 block, exactly as HMAC does) and zeroized after use.
//!
//! # Invariants
//! - A cache hit requires the same access key, date, region, service *and*
//!   key version: a rotated secret (new version) is re-derived, never served
//!   from the old entry.
//! - Lookups never allocate; the table is allocated once at its full capacity
//!   [`SIGNING_KEY_CACHE_CAPACITY`] and cleared (keeping its memory) when full.
//! - Hash flooding is not a concern: an entry is only inserted after the caller
//!   found the access key's secret and `verify` checked region and date, so
//!   attackers cannot choose the keys; the hash is still checked against the
//!   stored identity, so a collision is only a miss.

use std::collections::{HashMap, hash_map};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
use zeroize::Zeroize;

use super::limits::{DIGEST_LEN, SCOPE_TERMINATOR, SIGNING_KEY_CACHE_CAPACITY};
use crate::secret::Secret;

/// SHA-256 block size: HMAC keys longer than this are hashed first.
const SHA256_BLOCK_LEN: usize = 64;

/// The key prefix of the first HMAC of the chain.
const KEY_PREFIX: &[u8] = b"AWS4";

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `msg` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; DIGEST_LEN] {
    // new_from_slice accepts every key length for HMAC.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// An HMAC-SHA256 keyed with a signing key.
pub(crate) fn keyed_mac(key: &[u8; DIGEST_LEN]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// Derives the signing key of `secret` for one (date, region, service) scope.
pub fn derive_signing_key(secret: &Secret, date: &str, region: &str, service: &str) -> [u8; DIGEST_LEN] {
    let secret = secret.expose().as_bytes();
    let mut key_buf = [0u8; SHA256_BLOCK_LEN];
    let key_len = KEY_PREFIX.len() + secret.len();
    let key: &[u8] = if key_len <= SHA256_BLOCK_LEN {
        key_buf[..KEY_PREFIX.len()].copy_from_slice(KEY_PREFIX);
        key_buf[KEY_PREFIX.len()..key_len].copy_from_slice(secret);
        &key_buf[..key_len]
    } else {
        // HMAC replaces a key longer than the block by its hash; do the same
        // here so the concatenation never needs the heap.
        let digest: [u8; DIGEST_LEN] =
            Sha256::new().chain_update(KEY_PREFIX).chain_update(secret).finalize().into();
        key_buf[..DIGEST_LEN].copy_from_slice(&digest);
        &key_buf[..DIGEST_LEN]
    };
    let mut k = hmac_sha256(key, date.as_bytes());
    key_buf.zeroize();
    for part in [region.as_bytes(), service.as_bytes(), SCOPE_TERMINATOR.as_bytes()] {
        let next = hmac_sha256(&k, part);
        k.zeroize();
        k = next;
    }
    k
}

/// A `Hasher` that passes a precomputed `u64` through (keys are xxh3 hashes).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only write_u64 is used for u64 keys; fold anything else anyway.
        self.0 = xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One cached key and the identity it was derived for.
struct Entry {
    /// access key + date + region + service, concatenated.
    ident: Box<[u8]>,
    /// Lengths of the first three parts of `ident`.
    lens: [usize; 3],
    key_version: u64,
    key: [u8; DIGEST_LEN],
    /// An HMAC keyed with `key`, cloned for every signature.
    mac: HmacSha256,
}

impl Entry {
    /// A new entry for this scope, its key derived from `secret`.
    fn derive(
        access_key: &str,
        date: &str,
        region: &str,
        service: &str,
        key_version: u64,
        secret: &Secret,
    ) -> Entry {
        let key = derive_signing_key(secret, date, region, service);
        let ident = [access_key, date, region, service].concat().into_bytes().into_boxed_slice();
        let lens = [access_key.len(), date.len(), region.len()];
        Entry { ident, lens, key_version, mac: keyed_mac(&key), key }
    }

    fn matches(&self, access_key: &str, date: &str, region: &str, service: &str) -> bool {
        let [a, d, r] = self.lens;
        let id = &self.ident[..];
        id.len() == a + d + r + service.len()
            && &id[..a] == access_key.as_bytes()
            && &id[a..a + d] == date.as_bytes()
            && &id[a + d..a + d + r] == region.as_bytes()
            && &id[a + d + r..] == service.as_bytes()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Per-core cache of derived signing keys, keyed by
/// (access key, date, region, service) and checked against a key version.
pub struct SigningKeyCache {
    map: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    hits: u64,
    misses: u64,
}

impl SigningKeyCache {
    pub fn new() -> Self {
        SigningKeyCache {
            map: HashMap::with_capacity_and_hasher(SIGNING_KEY_CACHE_CAPACITY, Default::default()),
            hits: 0,
            misses: 0,
        }
    }

    /// The signing key for this scope, derived from `secret` on a miss or when
    /// the cached entry has another `key_version`.
    pub fn signing_key(
        &mut self,
        access_key: &str,
        date: &str,
        region: &str,
        service: &str,
        key_version: u64,
        secret: &Secret,
    ) -> [u8; DIGEST_LEN] {
        *self.keyed(access_key, date, region, service, key_version, secret).0
    }

    /// The signing key and an HMAC already keyed with it (its inner and outer
    /// pad blocks absorbed), so signing a string costs two SHA-256 blocks less.
    /// Both are borrowed from the cache entry: nothing is copied on a hit.
    pub(crate) fn keyed(
        &mut self,
        access_key: &str,
        date: &str,
        region: &str,
        service: &str,
        key_version: u64,
        secret: &Secret,
    ) -> (&[u8; DIGEST_LEN], &HmacSha256) {
        let h = scope_hash(access_key, date, region, service);
        if self.map.len() >= SIGNING_KEY_CACHE_CAPACITY && !self.map.contains_key(&h) {
            self.map.clear();
        }
        let e = match self.map.entry(h) {
            hash_map::Entry::Occupied(slot) => slot.into_mut(),
            hash_map::Entry::Vacant(slot) => {
                self.misses += 1;
                let new = Entry::derive(access_key, date, region, service, key_version, secret);
                let e = slot.insert(new);
                return (&e.key, &e.mac);
            }
        };
        if !e.matches(access_key, date, region, service) {
            // Another scope with the same hash: it takes the slot.
            self.misses += 1;
            *e = Entry::derive(access_key, date, region, service, key_version, secret);
        } else if e.key_version != key_version {
            // Secret rotated: re-derive in place.
            self.misses += 1;
            e.key = derive_signing_key(secret, date, region, service);
            e.mac = keyed_mac(&e.key);
            e.key_version = key_version;
        } else {
            self.hits += 1;
        }
        (&e.key, &e.mac)
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// (hits, misses) since creation, for metrics.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// Drops (and zeroizes) every cached key, e.g. when keys are revoked.
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache").field("len", &self.map.len()).finish_non_exhaustive()
    }
}

fn scope_hash(access_key: &str, date: &str, region: &str, service: &str) -> u64 {
    let h = xxh3_64(access_key.as_bytes());
    let h = xxh3_64_with_seed(date.as_bytes(), h);
    let h = xxh3_64_with_seed(region.as_bytes(), h);
    xxh3_64_with_seed(service.as_bytes(), h)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derivation_matches_aws_example() {
        // AWS "Examples of how to derive a signing key for Signature Version 4"
        // (secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam).
        let k = derive_signing_key(
            &Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(hex::encode(k), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    #[test]
    fn long_secrets_are_hashed_like_hmac_does() {
        let long = "x".repeat(200);
        let mut key = b"AWS4".to_vec();
        key.extend_from_slice(long.as_bytes());
        let mut k = hmac_sha256(&key, b"20130524");
        for part in [&b"us-east-1"[..], b"s3", b"aws4_request"] {
            k = hmac_sha256(&k, part);
        }
        assert_eq!(derive_signing_key(&Secret::new(long), "20130524", "us-east-1", "s3"), k);
    }

    #[test]
    fn cache_hits_and_rotates() {
        let mut cache = SigningKeyCache::new();
        let s1 = Secret::new(SECRET);
        let s2 = Secret::new("another-secret");
        let k1 = cache.signing_key("AK", "20130524", "us-east-1", "s3", 1, &s1);
        assert_eq!(k1, derive_signing_key(&s1, "20130524", "us-east-1", "s3"));
        assert_eq!(cache.signing_key("AK", "20130524", "us-east-1", "s3", 1, &s1), k1);
        assert_eq!(cache.stats(), (1, 1));
        // a new key version re-derives from the new secret
        let k2 = cache.signing_key("AK", "20130524", "us-east-1", "s3", 2, &s2);
        assert_eq!(k2, derive_signing_key(&s2, "20130524", "us-east-1", "s3"));
        assert_ne!(k1, k2);
        assert_eq!(cache.len(), 1);
        // other scopes are other entries
        let k3 = cache.signing_key("AK", "20130525", "us-east-1", "s3", 2, &s2);
        assert_ne!(k2, k3);
        assert_eq!(cache.len(), 2);
        // identities that concatenate alike are still told apart
        let a = cache.signing_key("AK2", "0130524", "r", "s3", 1, &s1);
        let b = cache.signing_key("AK", "20130524", "r", "s3", 1, &s1);
        assert_ne!(a, b);
    }

    #[test]
    fn cache_is_bounded() {
        let mut cache = SigningKeyCache::new();
        let s = Secret::new(SECRET);
        for i in 0..SIGNING_KEY_CACHE_CAPACITY + 10 {
            cache.signing_key(&format!("AK{i}"), "20130524", "us-east-1", "s3", 0, &s);
            assert!(cache.len() <= SIGNING_KEY_CACHE_CAPACITY);
        }
        assert!(!cache.is_empty());
        assert!(format!("{cache:?}").starts_with("SigningKeyCache { len:"));
    }
}
