//! The chain of chunk signatures of an aws-chunked body
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD` and `...-PAYLOAD-TRAILER`).
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>.
//!
//! The request's own signature (the *seed*) starts the chain; every chunk,
//! the final empty one included, is signed over the previous signature:
//!
//! ```text
//! chunk   = HMAC(signing-key, "AWS4-HMAC-SHA256-PAYLOAD" \n amz-date \n scope \n
//!                             hex(previous) \n hex(sha256("")) \n hex(sha256(chunk-data)))
//! trailer = HMAC(signing-key, "AWS4-HMAC-SHA256-TRAILER" \n amz-date \n scope \n
//!                             hex(previous) \n hex(sha256(canonical-trailers)))
//! scope   = date/region/s3/aws4_request
//! ```
//!
//! The canonical trailers are `name:value\n` per trailing header (lowercase
//! name, trimmed value, sorted by name); the AWS example hashes exactly
//! `x-amz-checksum-crc32c:sOO8/Q==\n`. The decoder builds that string
//! (`http::aws_chunked`); this file only chains the signatures.
//!
//! # Security
//! - Provided signatures are decoded from hex and compared with
//!   `subtle::ConstantTimeEq` on the 32 bytes.
//! - Once a verification fails the signer is poisoned: every later
//!   verification fails too, so a broken chain can never be resumed.
//! - The signer holds HMAC states keyed with the signing key (secret for one
//!   day and scope). `Debug` prints nothing of them. Like the keyed HMACs of
//!   the signing-key cache they cannot be zeroized (the `hmac` crate does not
//!   expose its state).
//!
//! # Invariants
//! - Signing or verifying a chunk allocates nothing: the constant part of the
//!   string to sign (algorithm, date, scope) is absorbed once into an HMAC
//!   state that is cloned (a stack copy) per chunk.

use std::fmt;

use hmac::Mac;
use subtle::ConstantTimeEq;

use super::hex_digest::{decode_hex_digest, encode_hex_digest};
use super::limits::{AMZ_DATE_LEN, DIGEST_HEX_LEN, DIGEST_LEN, S3_SERVICE, SCOPE_TERMINATOR};
use super::payload::EMPTY_SHA256_HEX;
use super::signing_key::{HmacSha256, keyed_mac};
use super::verify::Verified;

/// First line of the string to sign of a data chunk.
pub const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";

/// First line of the string to sign of the trailing headers.
pub const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";

/// SHA-256 of the empty string: the data hash of the final, empty chunk.
pub const EMPTY_SHA256: [u8; DIGEST_LEN] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27,
    0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// A chunk or trailer signature did not match (or was not 64 hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureMismatch;

/// The running chain of chunk signatures of one request.
#[derive(Clone)]
pub struct ChunkSigner {
    /// Keyed HMAC that has absorbed `"AWS4-HMAC-SHA256-PAYLOAD\n" amz-date "\n" scope "\n"`.
    chunk_prefix: HmacSha256,
    /// Keyed HMAC that has absorbed `"AWS4-HMAC-SHA256-TRAILER\n" amz-date "\n" scope "\n"`.
    trailer_prefix: HmacSha256,
    /// Lowercase hex of the previous signature (the seed at first).
    previous_hex: [u8; DIGEST_HEX_LEN],
    /// Set by a failed verification; every later verification fails.
    poisoned: bool,
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner").field("poisoned", &self.poisoned).finish_non_exhaustive()
    }
}

impl ChunkSigner {
    /// The chain of a verified aws-chunked request, seeded with its signature.
    pub fn new(verified: &Verified<'_>) -> ChunkSigner {
        ChunkSigner::from_parts(
            &verified.signing_key,
            &verified.amz_date,
            verified.date,
            verified.region,
            &verified.seed_signature,
        )
    }

    /// The chain from its parts: the scope's signing key, the request's
    /// `x-amz-date` (`YYYYMMDD'T'HHMMSS'Z'`), the scope date (`YYYYMMDD`) and
    /// region, and the seed signature. The service is always `s3`.
    pub fn from_parts(
        signing_key: &[u8; DIGEST_LEN],
        amz_date: &[u8; AMZ_DATE_LEN],
        date: &str,
        region: &str,
        seed_signature: &[u8; DIGEST_LEN],
    ) -> ChunkSigner {
        let keyed = keyed_mac(signing_key);
        let prefix = |algorithm: &str| {
            let mut mac = keyed.clone();
            for piece in [
                algorithm.as_bytes(),
                b"\n",
                amz_date,
                b"\n",
                date.as_bytes(),
                b"/",
                region.as_bytes(),
                b"/",
                S3_SERVICE.as_bytes(),
                b"/",
                SCOPE_TERMINATOR.as_bytes(),
                b"\n",
            ] {
                mac.update(piece);
            }
            mac
        };
        ChunkSigner {
            chunk_prefix: prefix(CHUNK_ALGORITHM),
            trailer_prefix: prefix(TRAILER_ALGORITHM),
            previous_hex: encode_hex_digest(seed_signature),
            poisoned: false,
        }
    }

    /// Signs the next chunk, whose data hashes to `chunk_sha256`
    /// ([`EMPTY_SHA256`] for the final chunk), and advances the chain.
    /// Used to build bodies (tests, benches); the decoder verifies.
    pub fn sign_chunk(&mut self, chunk_sha256: &[u8; DIGEST_LEN]) -> [u8; DIGEST_LEN] {
        let sig = self.chunk_signature(chunk_sha256);
        self.previous_hex = encode_hex_digest(&sig);
        sig
    }

    /// Signs the trailing headers, whose canonical form hashes to
    /// `trailer_sha256`; the trailer signature ends the chain.
    pub fn sign_trailer(&mut self, trailer_sha256: &[u8; DIGEST_LEN]) -> [u8; DIGEST_LEN] {
        let sig = self.trailer_signature(trailer_sha256);
        self.previous_hex = encode_hex_digest(&sig);
        sig
    }

    /// Checks `provided_hex` (64 hex digits, either case) against the
    /// signature of the next chunk and advances the chain on success.
    pub fn verify_chunk(
        &mut self,
        chunk_sha256: &[u8; DIGEST_LEN],
        provided_hex: &[u8],
    ) -> Result<(), SignatureMismatch> {
        let expected = self.chunk_signature(chunk_sha256);
        self.check(expected, provided_hex)
    }

    /// Checks the `x-amz-trailer-signature` value against the signature of
    /// the trailing headers.
    pub fn verify_trailer(
        &mut self,
        trailer_sha256: &[u8; DIGEST_LEN],
        provided_hex: &[u8],
    ) -> Result<(), SignatureMismatch> {
        let expected = self.trailer_signature(trailer_sha256);
        self.check(expected, provided_hex)
    }

    /// Whether a verification has failed (the chain is dead).
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    fn check(&mut self, expected: [u8; DIGEST_LEN], provided_hex: &[u8]) -> Result<(), SignatureMismatch> {
        let equal = match decode_hex_digest(provided_hex) {
            Some(provided) => bool::from(provided.ct_eq(&expected)),
            None => false,
        };
        if !equal || self.poisoned {
            self.poisoned = true;
            return Err(SignatureMismatch);
        }
        self.previous_hex = encode_hex_digest(&expected);
        Ok(())
    }

    fn chunk_signature(&self, chunk_sha256: &[u8; DIGEST_LEN]) -> [u8; DIGEST_LEN] {
        let mut mac = self.chunk_prefix.clone();
        for piece in [
            &self.previous_hex[..],
            b"\n",
            EMPTY_SHA256_HEX.as_bytes(),
            b"\n",
            &encode_hex_digest(chunk_sha256),
        ] {
            mac.update(piece);
        }
        mac.finalize().into_bytes().into()
    }

    fn trailer_signature(&self, trailer_sha256: &[u8; DIGEST_LEN]) -> [u8; DIGEST_LEN] {
        let mut mac = self.trailer_prefix.clone();
        for piece in [&self.previous_hex[..], b"\n", &encode_hex_digest(trailer_sha256)] {
            mac.update(piece);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::secret::Secret;
    use crate::sigv4::PayloadHash;
    use crate::sigv4::signing_key::{derive_signing_key, hmac_sha256};

    // The examples of the two AWS pages (credentials of the docs).
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const AMZ_DATE: &[u8; 16] = b"20130524T000000Z";
    const DATE: &str = "20130524";
    const REGION: &str = "us-east-1";

    fn signer(seed_hex: &str) -> ChunkSigner {
        let key = derive_signing_key(&Secret::new(SECRET), DATE, REGION, "s3");
        let seed = decode_hex_digest(seed_hex.as_bytes()).unwrap();
        ChunkSigner::from_parts(&key, AMZ_DATE, DATE, REGION, &seed)
    }

    fn sha(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    #[test]
    fn empty_sha256_constant() {
        assert_eq!(EMPTY_SHA256, sha(b""));
        assert_eq!(hex::encode(EMPTY_SHA256), EMPTY_SHA256_HEX);
    }

    /// "Transferring Payload in Multiple Chunks": 66560 bytes of 'a' in
    /// chunks of 65536, 1024 and 0 bytes.
    #[test]
    fn aws_multiple_chunks_example() {
        let a64k = sha(&[b'a'; 65536]);
        let a1k = sha(&[b'a'; 1024]);
        assert_eq!(hex::encode(a64k), "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a");
        assert_eq!(hex::encode(a1k), "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a");

        let mut s = signer("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
        let mut verifier = s.clone();
        let sigs = [s.sign_chunk(&a64k), s.sign_chunk(&a1k), s.sign_chunk(&EMPTY_SHA256)];
        let expected = [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ];
        for (sig, want) in sigs.iter().zip(expected) {
            assert_eq!(hex::encode(sig), want);
        }
        for (hash, want) in [a64k, a1k, EMPTY_SHA256].iter().zip(expected) {
            assert_eq!(verifier.verify_chunk(hash, want.as_bytes()), Ok(()));
        }
    }

    /// The string to sign of the first chunk, exactly as the AWS page shows it.
    #[test]
    fn string_to_sign_matches_the_docs() {
        let key = derive_signing_key(&Secret::new(SECRET), DATE, REGION, "s3");
        let sts = "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
                   4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\n\
                   e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
                   bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a";
        let mut s = signer("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
        assert_eq!(s.sign_chunk(&sha(&[b'a'; 65536])), hmac_sha256(&key, sts.as_bytes()));
    }

    /// "Signature calculations for trailing headers": the same object with a
    /// CRC32C trailer.
    #[test]
    fn aws_trailer_example() {
        let trailer = b"x-amz-checksum-crc32c:sOO8/Q==\n";
        assert_eq!(
            hex::encode(sha(trailer)),
            "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774"
        );
        let mut s = signer("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
        let mut verifier = s.clone();
        let chunks = [sha(&[b'a'; 65536]), sha(&[b'a'; 1024]), EMPTY_SHA256];
        let expected = [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ];
        for (hash, want) in chunks.iter().zip(expected) {
            assert_eq!(hex::encode(s.sign_chunk(hash)), want);
            assert_eq!(verifier.verify_chunk(hash, want.as_bytes()), Ok(()));
        }
        let want = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";
        assert_eq!(hex::encode(s.sign_trailer(&sha(trailer))), want);
        assert_eq!(verifier.verify_trailer(&sha(trailer), want.to_uppercase().as_bytes()), Ok(()));
    }

    #[test]
    fn mismatches_poison_the_chain() {
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let good = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let hash = sha(&[b'a'; 65536]);
        let bad_inputs: [&[u8]; 5] = [
            b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288649",
            b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a28864",
            b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a2886480",
            b"zd80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            b"",
        ];
        for bad in bad_inputs {
            let mut s = signer(seed);
            assert_eq!(s.verify_chunk(&hash, bad), Err(SignatureMismatch));
            assert!(s.is_poisoned());
            // even the right signature is refused once the chain broke
            assert_eq!(s.verify_chunk(&hash, good.as_bytes()), Err(SignatureMismatch));
        }
        // the wrong data with the right signature
        let mut s = signer(seed);
        assert_eq!(s.verify_chunk(&sha(&[b'a'; 65535]), good.as_bytes()), Err(SignatureMismatch));
        // chunks out of order
        let mut s = signer(seed);
        let second = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
        assert_eq!(s.verify_chunk(&sha(&[b'a'; 1024]), second.as_bytes()), Err(SignatureMismatch));
        assert!(!format!("{s:?}").contains("mac"));
    }

    #[test]
    fn new_takes_the_parts_of_verified() {
        let key = derive_signing_key(&Secret::new(SECRET), DATE, REGION, "s3");
        let seed =
            decode_hex_digest(b"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9").unwrap();
        let verified = Verified {
            access_key: "AKIAIOSFODNN7EXAMPLE",
            payload: PayloadHash::StreamingSigned,
            amz_date: *AMZ_DATE,
            time: 1_369_353_600,
            date: DATE,
            region: REGION,
            presigned: false,
            seed_signature: seed,
            signing_key: key,
        };
        let mut s = ChunkSigner::new(&verified);
        assert_eq!(
            hex::encode(s.sign_chunk(&sha(&[b'a'; 65536]))),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
    }
}
