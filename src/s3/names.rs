//! Validation of bucket names and object keys, with the rules AWS applies.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>.
//! Path-style paths that sluice serves itself (`/health`, `/ready`, `/metrics`,
//! `/admin`, `/proxy`, `/ui`) are reserved and cannot be bucket names.

use crate::http::limits::MAX_KEY_BYTES;

/// Shortest and longest bucket names AWS allows.
pub const MIN_BUCKET_LEN: usize = 3;
pub const MAX_BUCKET_LEN: usize = 63;

/// Names sluice serves itself on path-style URLs.
pub const RESERVED_BUCKET_NAMES: &[&str] = &["health", "ready", "metrics", "admin", "proxy", "ui"];

/// Why a bucket name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketNameError {
    Length,
    Characters,
    Edges,
    LooksLikeIp,
    Reserved,
}

impl std::fmt::Display for BucketNameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BucketNameError::Length => "bucket names are 3 to 63 characters long",
            BucketNameError::Characters => "bucket names use lowercase letters, digits, '.' and '-' only",
            BucketNameError::Edges => {
                "bucket names start and end with a letter or digit and have no '..', '.-' or '-.'"
            }
            BucketNameError::LooksLikeIp => "bucket names must not look like an IP address",
            BucketNameError::Reserved => "this name is reserved by sluice",
        })
    }
}

/// Checks `name` against the S3 bucket naming rules.
pub fn check_bucket_name(name: &str) -> Result<(), BucketNameError> {
    let b = name.as_bytes();
    if !(MIN_BUCKET_LEN..=MAX_BUCKET_LEN).contains(&b.len()) {
        return Err(BucketNameError::Length);
    }
    if !b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-') {
        return Err(BucketNameError::Characters);
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0])
        || !alnum(b[b.len() - 1])
        || name.contains("..")
        || name.contains(".-")
        || name.contains("-.")
    {
        return Err(BucketNameError::Edges);
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(BucketNameError::LooksLikeIp);
    }
    if RESERVED_BUCKET_NAMES.contains(&name) {
        return Err(BucketNameError::Reserved);
    }
    Ok(())
}

/// Whether `key` is an acceptable object key (1..=1024 bytes).
pub fn key_too_long(key: &str) -> bool {
    key.len() > MAX_KEY_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.logs", "a1b2", &"a".repeat(63)] {
            assert_eq!(check_bucket_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_bucket_name("ab"), Err(BucketNameError::Length));
        assert_eq!(check_bucket_name(&"a".repeat(64)), Err(BucketNameError::Length));
        assert_eq!(check_bucket_name("Abc"), Err(BucketNameError::Characters));
        assert_eq!(check_bucket_name("a_b"), Err(BucketNameError::Characters));
        assert_eq!(check_bucket_name("-ab"), Err(BucketNameError::Edges));
        assert_eq!(check_bucket_name("a..b"), Err(BucketNameError::Edges));
        assert_eq!(check_bucket_name("192.168.1.1"), Err(BucketNameError::LooksLikeIp));
        assert_eq!(check_bucket_name("metrics"), Err(BucketNameError::Reserved));
    }
}
