//! What the `x-amz-content-sha256` header says about the body: a SHA-256 the
//! body must match, no check at all, or one of the aws-chunked encodings.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
//! (single chunk), <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>.
//!
//! # Invariants
//! - The header value is also the last line of the canonical request, verbatim;
//!   [`PayloadHash`] is only its meaning for the body layer.
//! - SigV4a (`STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]`) is refused
//!   here with `UnsupportedPayload`: sluice verifies HMAC signatures only.

use super::error::SigV4Error;
use super::hex_digest::{decode_hex_digest, decode_hex_digest_into};
use super::limits::{DIGEST_HEX_LEN, DIGEST_LEN};

/// `x-amz-content-sha256` of a body that is not hashed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// aws-chunked, each chunk signed.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// aws-chunked, each chunk signed, then signed trailers.
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// aws-chunked, chunks unsigned, then trailers (a checksum, typically).
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// SigV4a streaming values: recognised only to answer NotImplemented.
const STREAMING_ECDSA: &str = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD";
const STREAMING_ECDSA_TRAILER: &str = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER";

/// SHA-256 of the empty string, hex: the payload hash of a request without body.
pub const EMPTY_SHA256_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The meaning of `x-amz-content-sha256` (or its absence on a presigned URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadHash {
    /// `UNSIGNED-PAYLOAD`, or a presigned URL without the header.
    Unsigned,
    /// The body's SHA-256 (decoded from 64 hex digits).
    Sha256([u8; DIGEST_LEN]),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    StreamingUnsignedTrailer,
}

impl PayloadHash {
    /// Parses a header value (already trimmed).
    pub fn parse(value: &str) -> Result<PayloadHash, SigV4Error> {
        // The common case first: none of the named values is 64 bytes long.
        if value.len() == DIGEST_HEX_LEN {
            let digest = decode_hex_digest(value.as_bytes()).ok_or(SigV4Error::InvalidContentSha256)?;
            return Ok(PayloadHash::Sha256(digest));
        }
        Ok(match value {
            UNSIGNED_PAYLOAD => PayloadHash::Unsigned,
            STREAMING_SIGNED => PayloadHash::StreamingSigned,
            STREAMING_SIGNED_TRAILER => PayloadHash::StreamingSignedTrailer,
            STREAMING_UNSIGNED_TRAILER => PayloadHash::StreamingUnsignedTrailer,
            STREAMING_ECDSA | STREAMING_ECDSA_TRAILER => return Err(SigV4Error::UnsupportedPayload),
            _ => return Err(SigV4Error::InvalidContentSha256),
        })
    }

    /// Parses a header value (already trimmed) into `self`, decoding a
    /// digest in place; on an error `self` is left unspecified.
    #[inline]
    pub fn parse_into(&mut self, value: &str) -> Result<(), SigV4Error> {
        if value.len() != DIGEST_HEX_LEN {
            *self = PayloadHash::parse(value)?;
            return Ok(());
        }
        *self = PayloadHash::Sha256([0; DIGEST_LEN]);
        let decoded = match self {
            PayloadHash::Sha256(digest) => decode_hex_digest_into(value.as_bytes(), digest),
            _ => false,
        };
        if decoded { Ok(()) } else { Err(SigV4Error::InvalidContentSha256) }
    }

    /// Whether the body is aws-chunked (`Content-Encoding: aws-chunked` framing).
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            PayloadHash::StreamingSigned
                | PayloadHash::StreamingSignedTrailer
                | PayloadHash::StreamingUnsignedTrailer
        )
    }

    /// Whether each aws-chunked chunk carries a signature to verify.
    pub fn has_chunk_signatures(&self) -> bool {
        matches!(self, PayloadHash::StreamingSigned | PayloadHash::StreamingSignedTrailer)
    }

    /// Whether trailers follow the last chunk.
    pub fn has_trailer(&self) -> bool {
        matches!(self, PayloadHash::StreamingSignedTrailer | PayloadHash::StreamingUnsignedTrailer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        use sha2::Digest as _;
        assert_eq!(PayloadHash::parse("UNSIGNED-PAYLOAD"), Ok(PayloadHash::Unsigned));
        assert_eq!(PayloadHash::parse(STREAMING_SIGNED), Ok(PayloadHash::StreamingSigned));
        assert_eq!(PayloadHash::parse(STREAMING_SIGNED_TRAILER), Ok(PayloadHash::StreamingSignedTrailer));
        assert_eq!(PayloadHash::parse(STREAMING_UNSIGNED_TRAILER), Ok(PayloadHash::StreamingUnsignedTrailer));
        let empty = PayloadHash::parse(EMPTY_SHA256_HEX).unwrap();
        assert_eq!(empty, PayloadHash::Sha256(sha2::Sha256::digest(b"").into()));
        assert!(PayloadHash::StreamingSignedTrailer.has_trailer());
        assert!(!PayloadHash::Unsigned.is_streaming());
    }

    #[test]
    fn refused_values() {
        for bad in ["", "unsigned-payload", "UNSIGNED-PAYLOAD ", "abc", &"g".repeat(64), &"a".repeat(63)] {
            assert_eq!(PayloadHash::parse(bad), Err(SigV4Error::InvalidContentSha256), "{bad}");
        }
        assert_eq!(PayloadHash::parse(STREAMING_ECDSA), Err(SigV4Error::UnsupportedPayload));
        assert_eq!(PayloadHash::parse(STREAMING_ECDSA_TRAILER), Err(SigV4Error::UnsupportedPayload));
    }
}
