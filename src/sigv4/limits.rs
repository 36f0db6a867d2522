//! Every constant and limit of the SigV4 layer, in one place, with the reason
//! for its value.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.

/// The only signing algorithm sluice verifies and signs with (HMAC-SHA256 SigV4).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// The service name S3 requests are signed for.
pub const S3_SERVICE: &str = "s3";

/// Largest accepted difference between the request time and the server clock,
/// in seconds. AWS allows 15 minutes; clients retry with a corrected clock on
/// `RequestTimeTooSkewed`.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Largest `X-Amz-Expires` of a presigned URL, in seconds: 7 days, as in AWS.
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 7 * 24 * 60 * 60;

/// Entries of one core's signing-key cache before it is cleared. A signing key
/// is per (access key, day, region, service), so this is the number of access
/// keys one core can serve in one day without re-deriving (4 HMACs, ~1 µs);
/// 1024 entries take ~150 KiB per core.
pub const SIGNING_KEY_CACHE_CAPACITY: usize = 1024;

/// Initial capacity of the scratch buffer the canonical request is written to.
/// A typical S3 canonical request is 300-600 bytes; long keys and presigned
/// queries fit in 4 KiB; the buffer grows (once) for larger heads, which are
/// bounded by `http::limits::MAX_HEAD_BYTES` anyway.
pub const CANONICAL_INITIAL_CAPACITY: usize = 4 * 1024;

/// Initial capacity of the scratch buffer the encoded query parameters are
/// sorted in, and of the parameter index (entries).
pub const QUERY_INITIAL_CAPACITY: usize = 2 * 1024;
pub const QUERY_PARAMS_INITIAL_CAPACITY: usize = 64;

/// SignedHeaders names whose positions a parsed list records (2 bytes each),
/// so they are found without scanning the list again. S3 clients sign 3-10
/// headers; a longer list still works, split each time it is walked.
pub const SIGNED_HEADERS_INLINE: usize = 16;

/// Longest region name an error message quotes; longer names are cut there.
/// AWS region names are at most ~20 bytes.
pub const ERROR_REGION_MAX: usize = 48;

/// Length of a SHA-256 digest / HMAC-SHA256 tag, and of its hex form.
pub const DIGEST_LEN: usize = 32;
pub const DIGEST_HEX_LEN: usize = 64;

/// Length of an `X-Amz-Date` value (`YYYYMMDD'T'HHMMSS'Z'`) and of its date part.
pub const AMZ_DATE_LEN: usize = 16;
pub const SCOPE_DATE_LEN: usize = 8;
