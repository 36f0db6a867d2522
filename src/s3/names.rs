//! Validation of bucket names and object keys, with the rules AWS applies.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>.
//! Path-style paths that sluice serves itself (`/health`, `/ready`, `/metrics`,
//! `/admin`, `/proxy`, `/ui`) are reserved and cannot be bucket names.
//!
//! # Security: object keys are never paths
//! Backends that store objects as files (s3s-fs, MinIO in FS mode, many
//! gateways) join the key to the bucket's directory and resolve `.` and `..`
//! segments, so a key such as `../sl-<other bucket>/k` would reach another
//! tenant's physical bucket, and `/abs` a path outside it. sluice refuses,
//! with `400 InvalidArgument`, every key (after percent-decoding) that:
//! - has a `.` or `..` segment between slashes (`..`, `./x`, `a/../b`, `a/.`);
//! - starts with `/`;
//! - has an empty segment before its end (`a//b`): a path-mapping backend
//!   would store it as `a/b`, aliasing another key (a trailing `/`, the
//!   "folder" marker consoles create, is accepted);
//! - contains a NUL byte (no file system or XML listing can hold it).
//!
//! This is MinIO's rule. Applied to every key sluice forwards (path keys,
//! copy sources, DeleteObjects entries, multipart keys, `/proxy`), it leaves
//! no key that a backend can read as a path out of the physical bucket,
//! whatever the encoding the client used: the check runs on the decoded key.

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

/// Why an object key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// Longer than `MAX_KEY_BYTES` (`KeyTooLongError`).
    TooLong,
    /// A `.` or `..` segment.
    DotSegment,
    /// Starts with `/`.
    LeadingSlash,
    /// An empty segment before the end (`a//b`).
    EmptySegment,
    /// A NUL byte.
    Nul,
}

impl KeyError {
    /// The message of the S3 error that refuses the key.
    pub const fn message(self) -> &'static str {
        match self {
            KeyError::TooLong => "Your key is too long",
            KeyError::DotSegment => "Object keys must not contain '.' or '..' path segments",
            KeyError::LeadingSlash => "Object keys must not start with '/'",
            KeyError::EmptySegment => "Object keys must not contain an empty path segment ('//')",
            KeyError::Nul => "Object keys must not contain a NUL character",
        }
    }
}

/// Whether `key` is longer than S3 allows (1024 bytes).
pub fn key_too_long(key: &str) -> bool {
    key.len() > MAX_KEY_BYTES
}

/// Checks an object key (already percent-decoded) against sluice's key rules.
pub fn check_object_key(key: &str) -> Result<(), KeyError> {
    if key_too_long(key) {
        return Err(KeyError::TooLong);
    }
    let b = key.as_bytes();
    if b.first() == Some(&b'/') {
        return Err(KeyError::LeadingSlash);
    }
    if memchr::memchr(0, b).is_some() {
        return Err(KeyError::Nul);
    }
    let last = key.rsplit('/').count() - 1;
    for (i, seg) in key.split('/').enumerate() {
        match seg {
            "." | ".." => return Err(KeyError::DotSegment),
            "" if i != last => return Err(KeyError::EmptySegment),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys() {
        for ok in [
            "k", "a/b", "dir/", "a/b/", ".hidden", "a/.b", "a/..b", "..a", "a..", "a/b.", "...", "a/.../b",
            "\\..\\x", "%2e%2e",
        ] {
            assert_eq!(check_object_key(ok), Ok(()), "{ok:?}");
        }
        for (bad, why) in [
            ("..", KeyError::DotSegment),
            (".", KeyError::DotSegment),
            ("../x", KeyError::DotSegment),
            ("../../x", KeyError::DotSegment),
            ("./../x", KeyError::DotSegment),
            ("a/../../x", KeyError::DotSegment),
            ("a/./b", KeyError::DotSegment),
            ("a/..", KeyError::DotSegment),
            ("a/.", KeyError::DotSegment),
            ("../sl-0123/k", KeyError::DotSegment),
            ("../.bucket-abc.object-def.metadata.json", KeyError::DotSegment),
            ("./", KeyError::DotSegment),
            ("/abs", KeyError::LeadingSlash),
            ("/", KeyError::LeadingSlash),
            ("a//b", KeyError::EmptySegment),
            ("a//", KeyError::EmptySegment),
            ("a\0b", KeyError::Nul),
        ] {
            assert_eq!(check_object_key(bad), Err(why), "{bad:?}");
        }
        assert_eq!(check_object_key(&"a".repeat(MAX_KEY_BYTES)), Ok(()));
        assert_eq!(check_object_key(&"a".repeat(MAX_KEY_BYTES + 1)), Err(KeyError::TooLong));
    }

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
