//! Physical bucket names: the bucket a tenant's bucket is stored as on a backend.
//!
//! Tenants name their buckets freely and two tenants may pick the same name,
//! so on the backends every (tenant, bucket) pair gets its own bucket named
//! `sl-` + the first 128 bits of SHA-256, in hex, of a versioned, length-prefixed
//! encoding of the pair:
//!
//! ```text
//! "sluice/physical-bucket/v1\0" || u64be(len tenant) || tenant || u64be(len bucket) || bucket
//! ```
//!
//! The result (35 characters of `[a-z0-9-]`) is a valid bucket name under the
//! S3 naming rules
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>):
//! 3 to 63 characters, lowercase letters, digits and hyphens, starting and
//! ending with a letter or digit, not an IP address, and none of the reserved
//! prefixes (`xn--`, `sthree-`) or suffixes (`-s3alias`, `--ol-s3`).
//!
//! # Invariants
//! - Stable forever for a given (tenant, bucket): changing the domain string,
//!   the encoding or the prefix orphans every stored object (pinned by `golden.rs`).
//!   Pass the tenant's immutable id, not a display name that can be renamed.
//! - Unambiguous: the lengths are encoded, so no two distinct pairs share an
//!   input (`("a", "bc")` and `("ab", "c")` differ, NUL bytes included).
//!   Distinct pairs then collide only with probability 2^-128 per pair.
//!
//! # Security
//! The name reveals neither tenant nor bucket to someone listing the backend.

use sha2::{Digest, Sha256};

/// Prefix of every physical bucket name: marks sluice's buckets on a shared
/// backend and guarantees the name starts with a letter.
pub const PHYSICAL_BUCKET_PREFIX: &str = "sl-";

/// Bytes of the SHA-256 digest kept: 128 bits make collisions negligible and
/// keep names short.
pub const PHYSICAL_HASH_BYTES: usize = 16;

/// Length of every physical bucket name (within S3's 3 to 63).
pub const PHYSICAL_BUCKET_NAME_LEN: usize = PHYSICAL_BUCKET_PREFIX.len() + 2 * PHYSICAL_HASH_BYTES;

/// Domain separator and version of the encoding; a new scheme gets a new version.
const DOMAIN: &[u8] = b"sluice/physical-bucket/v1\0";

/// The backend bucket that stores bucket `bucket` of tenant `tenant`.
pub fn physical_bucket_name(tenant: &str, bucket: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    for field in [tenant, bucket] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    let digest = hasher.finalize();
    let mut name = String::with_capacity(PHYSICAL_BUCKET_NAME_LEN);
    name.push_str(PHYSICAL_BUCKET_PREFIX);
    name.push_str(&hex::encode(&digest[..PHYSICAL_HASH_BYTES]));
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The S3 bucket naming rules that a generated name could plausibly break.
    fn is_valid_s3_bucket_name(name: &str) -> bool {
        let b = name.as_bytes();
        (3..=63).contains(&b.len())
            && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && !name.starts_with("xn--")
            && !name.starts_with("sthree-")
            && !name.ends_with("-s3alias")
            && !name.ends_with("--ol-s3")
    }

    #[test]
    fn names_are_valid_s3_bucket_names() {
        for (t, b) in [("", ""), ("t", "b"), ("tenant-1", "photos"), ("ü", "日本"), ("a\0b", "c")] {
            let name = physical_bucket_name(t, b);
            assert_eq!(name.len(), PHYSICAL_BUCKET_NAME_LEN);
            assert!(is_valid_s3_bucket_name(&name), "{name}");
        }
    }

    #[test]
    fn pairs_never_share_an_encoding() {
        let pairs = [("a", "bc"), ("ab", "c"), ("abc", ""), ("", "abc"), ("a\0", "bc"), ("a", "\0bc")];
        let mut names: Vec<String> = pairs.iter().map(|(t, b)| physical_bucket_name(t, b)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), pairs.len());
        assert_ne!(physical_bucket_name("t1", "b"), physical_bucket_name("t2", "b"));
        assert_eq!(physical_bucket_name("t1", "b"), physical_bucket_name("t1", "b"));
    }
}
