//! Body integrity: the signed sha256 (`x-amz-content-sha256`), `Content-MD5`
//! and the `x-amz-checksum-*` headers, computed as the body streams.
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>.
//! CRCs use `crc-fast` (SIMD); SHA-1/SHA-256/MD5 the RustCrypto crates.
//!
//! # Invariants
//! [`Integrity::finish`] is called before the last body bytes are released to a
//! backend (see `client_body`), so a mismatch aborts the backend request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{S3Error, S3ErrorCode};
use crate::http::RequestHead;

/// The checksum algorithms S3 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The `x-amz-checksum-*` header name.
    pub const fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The name used in `x-amz-sdk-checksum-algorithm` and error messages.
    pub const fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Digest length in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    pub fn from_name(s: &str) -> Option<ChecksumAlgorithm> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(s))
    }

    pub fn hasher(self) -> ChecksumHasher {
        use crc_fast::CrcAlgorithm as C;
        match self {
            ChecksumAlgorithm::Crc32 => ChecksumHasher::Crc(self, crc_fast::Digest::new(C::Crc32IsoHdlc)),
            ChecksumAlgorithm::Crc32c => ChecksumHasher::Crc(self, crc_fast::Digest::new(C::Crc32Iscsi)),
            ChecksumAlgorithm::Crc64Nvme => ChecksumHasher::Crc(self, crc_fast::Digest::new(C::Crc64Nvme)),
            ChecksumAlgorithm::Sha1 => ChecksumHasher::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => ChecksumHasher::Sha256(Sha256::new()),
        }
    }
}

/// A running checksum.
#[derive(Clone)]
pub enum ChecksumHasher {
    Crc(ChecksumAlgorithm, crc_fast::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChecksumHasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            ChecksumHasher::Crc(_, d) => d.update(data),
            ChecksumHasher::Sha1(h) => h.update(data),
            ChecksumHasher::Sha256(h) => h.update(data),
        }
    }

    /// The digest bytes (big-endian for CRCs), as S3 base64-encodes them.
    pub fn finish(self) -> Vec<u8> {
        match self {
            ChecksumHasher::Crc(ChecksumAlgorithm::Crc64Nvme, d) => d.finalize().to_be_bytes().to_vec(),
            ChecksumHasher::Crc(_, d) => (d.finalize() as u32).to_be_bytes().to_vec(),
            ChecksumHasher::Sha1(h) => h.finalize().to_vec(),
            ChecksumHasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// What a request body must match.
#[derive(Default)]
pub struct Integrity {
    sha256: Option<(Sha256, [u8; 32])>,
    md5: Option<(Md5, [u8; 16])>,
    checksum: Option<(ChecksumAlgorithm, ChecksumHasher, Vec<u8>)>,
    /// The checksum that matched, once [`Integrity::finish`] accepted the body.
    verified: Option<(ChecksumAlgorithm, Vec<u8>)>,
    /// The expected checksum arrives in an aws-chunked trailer (set before `finish`).
    from_trailer: bool,
}

impl Integrity {
    /// Reads the expectations of `head`. `signed_sha256` is the payload hash
    /// the signature covered, when it is a hash.
    pub fn from_request(
        head: &RequestHead<'_>,
        signed_sha256: Option<[u8; 32]>,
    ) -> Result<Integrity, S3Error> {
        let mut out = Integrity { sha256: signed_sha256.map(|h| (Sha256::new(), h)), ..Integrity::default() };
        if let Some(v) = head.header("content-md5") {
            let digest = B64
                .decode(v.trim_ascii())
                .ok()
                .and_then(|d| <[u8; 16]>::try_from(d.as_slice()).ok())
                .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidDigest))?;
            out.md5 = Some((Md5::new(), digest));
        }
        let mut found: Option<(ChecksumAlgorithm, Vec<u8>)> = None;
        for alg in ChecksumAlgorithm::ALL {
            let Some(v) = head.header(alg.header()) else { continue };
            if found.is_some() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            let digest =
                B64.decode(v.trim_ascii()).ok().filter(|d| d.len() == alg.digest_len()).ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        format!("Value for {} header is invalid.", alg.header()),
                    )
                })?;
            found = Some((alg, digest));
        }
        // x-amz-sdk-checksum-algorithm names the algorithm of the checksum
        // header or trailer. Alone it adds nothing to check (the Rust SDK sends
        // it alone for empty bodies), so it is only validated, never required.
        if let Some(name) = head.header_str("x-amz-sdk-checksum-algorithm") {
            let alg = ChecksumAlgorithm::from_name(name).ok_or_else(|| {
                S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Invalid x-amz-sdk-checksum-algorithm value.",
                )
            })?;
            if found.as_ref().is_some_and(|(a, _)| *a != alg) {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Value for x-amz-sdk-checksum-algorithm header is invalid.",
                ));
            }
        }
        out.checksum = found.map(|(alg, digest)| (alg, alg.hasher(), digest));
        Ok(out)
    }

    /// Expects the body's `alg` checksum from an aws-chunked trailer; the value
    /// is handed over with [`Integrity::set_trailer_value`] before `finish`.
    pub fn expect_trailer(&mut self, alg: ChecksumAlgorithm) -> Result<(), S3Error> {
        if self.checksum.is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
        self.checksum = Some((alg, alg.hasher(), Vec::new()));
        self.from_trailer = true;
        Ok(())
    }

    /// The base64 value of the trailer checksum (see [`Integrity::expect_trailer`]).
    pub fn set_trailer_value(&mut self, value: &str) -> Result<(), S3Error> {
        let Some((alg, _, expected)) = self.checksum.as_mut().filter(|_| self.from_trailer) else {
            return Ok(());
        };
        *expected =
            B64.decode(value.trim()).ok().filter(|d| d.len() == alg.digest_len()).ok_or_else(|| {
                S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!("Value for {} trailing header is invalid.", alg.header()),
                )
            })?;
        Ok(())
    }

    /// Whether anything is checked.
    pub fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.md5.is_none() && self.checksum.is_none()
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some((h, _)) = &mut self.sha256 {
            h.update(data);
        }
        if let Some((h, _)) = &mut self.md5 {
            h.update(data);
        }
        if let Some((_, h, _)) = &mut self.checksum {
            h.update(data);
        }
    }

    /// Checks the whole body. Call once, after the last byte.
    pub fn finish(&mut self) -> Result<(), S3Error> {
        if let Some((h, expected)) = self.sha256.take() {
            let got: [u8; 32] = h.finalize().into();
            if !constant_time_eq(&got, &expected) {
                return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
            }
        }
        if let Some((h, expected)) = self.md5.take() {
            let got: [u8; 16] = h.finalize().into();
            if !constant_time_eq(&got, &expected) {
                return Err(S3Error::new(S3ErrorCode::BadDigest));
            }
        }
        if let Some((alg, h, expected)) = self.checksum.take() {
            if !constant_time_eq(&h.finish(), &expected) {
                // A header checksum that does not match is BadDigest; a trailer
                // one is XAmzContentChecksumMismatch, as AWS answers.
                let code = if self.from_trailer {
                    S3ErrorCode::XAmzContentChecksumMismatch
                } else {
                    S3ErrorCode::BadDigest
                };
                return Err(S3Error::with_message(
                    code,
                    format!("The {} you specified did not match the calculated checksum.", alg.name()),
                ));
            }
            self.verified = Some((alg, expected));
        }
        Ok(())
    }

    /// The checksum the body matched (header name, base64), after `finish`.
    pub fn verified_checksum(&self) -> Option<(&'static str, String)> {
        self.verified.as_ref().map(|(alg, digest)| (alg.header(), B64.encode(digest)))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_checksums() {
        // Values from AWS's checksum documentation and the CRC catalogue ("123456789").
        let check = |alg: ChecksumAlgorithm, expected_hex: &str| {
            let mut h = alg.hasher();
            h.update(b"1234");
            h.update(b"56789");
            assert_eq!(hex::encode(h.finish()), expected_hex, "{alg:?}");
        };
        check(ChecksumAlgorithm::Crc32, "cbf43926");
        check(ChecksumAlgorithm::Crc32c, "e3069283");
        check(ChecksumAlgorithm::Crc64Nvme, "ae8b14860a799888");
        check(ChecksumAlgorithm::Sha1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441");
        check(ChecksumAlgorithm::Sha256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
    }

    fn head_with(headers: &[(&'static str, &'static str)]) -> Result<Integrity, S3Error> {
        let mut raw = b"PUT /b/k HTTP/1.1\r\nHost: h\r\n".to_vec();
        for (n, v) in headers {
            raw.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        let raw: &'static [u8] = Box::leak(raw.into_boxed_slice());
        let storage = Box::leak(Box::new(crate::http::header_storage()));
        match crate::http::parse_head(raw, storage).unwrap() {
            crate::http::HeadStatus::Complete { head, .. } => Integrity::from_request(&head, None),
            crate::http::HeadStatus::Partial => unreachable!(),
        }
    }

    #[test]
    fn header_checks() {
        // crc32("hello") = 0x3610a686 -> NhCmhg==
        let mut ok = head_with(&[("x-amz-checksum-crc32", "NhCmhg==")]).unwrap();
        ok.update(b"hello");
        assert!(ok.finish().is_ok());
        let mut bad = head_with(&[("x-amz-checksum-crc32", "NhCmhg==")]).unwrap();
        bad.update(b"hellO");
        assert_eq!(bad.finish().unwrap_err().code, S3ErrorCode::BadDigest);
        // md5("hello") = XUFAKrxLKna5cZ2REBfFkg==
        let mut md5 = head_with(&[("content-md5", "XUFAKrxLKna5cZ2REBfFkg==")]).unwrap();
        md5.update(b"hello!");
        assert_eq!(md5.finish().unwrap_err().code, S3ErrorCode::BadDigest);
        assert_eq!(head_with(&[("content-md5", "nope")]).err().unwrap().code, S3ErrorCode::InvalidDigest);
        let two = head_with(&[("x-amz-checksum-crc32", "NhCmhg=="), ("x-amz-checksum-crc32c", "AAAAAA==")]);
        assert_eq!(two.err().unwrap().code, S3ErrorCode::InvalidRequest);
        assert!(head_with(&[("x-amz-sdk-checksum-algorithm", "CRC32")]).is_ok());
        let other =
            head_with(&[("x-amz-sdk-checksum-algorithm", "CRC32C"), ("x-amz-checksum-crc32", "NhCmhg==")]);
        assert_eq!(other.err().unwrap().code, S3ErrorCode::InvalidRequest);
        let bad = head_with(&[("x-amz-sdk-checksum-algorithm", "MD4")]);
        assert_eq!(bad.err().unwrap().code, S3ErrorCode::InvalidRequest);
        let short = head_with(&[("x-amz-checksum-sha256", "AAAA")]);
        assert_eq!(short.err().unwrap().code, S3ErrorCode::InvalidRequest);
    }

    #[test]
    fn sha256_mismatch() {
        let mut i = Integrity { sha256: Some((Sha256::new(), [0; 32])), ..Integrity::default() };
        i.update(b"x");
        assert_eq!(i.finish().unwrap_err().code, S3ErrorCode::XAmzContentSHA256Mismatch);
    }
}
