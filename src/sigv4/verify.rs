//! Verification of a SigV4 request (header auth or presigned URL) against the
//! secret of its access key.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//!
//! Checks, in order (the first failure is answered):
//! 1. the credential region is the endpoint's (`VerifyCtx::region`);
//! 2. header auth: a valid `x-amz-date`, the scope date equal to its date, a
//!    valid `x-amz-content-sha256`, `|now - x-amz-date| <= MAX_CLOCK_SKEW_SECS`;
//!    presigned: `X-Amz-Date` at most `MAX_CLOCK_SKEW_SECS` in the future, not
//!    expired, `x-amz-content-sha256` valid when present;
//! 3. every `x-amz-*` header is signed;
//! 4. every signed header is present; the signature is 64 hex digits and equals
//!    the computed one (constant-time). If not, and the raw path differs from
//!    the normalised CanonicalURI, the raw path is tried too (some clients sign
//!    the path exactly as they send it).
//!
//! # Security
//! - Signatures are compared with `subtle::ConstantTimeEq` on the decoded
//!   32 bytes, taken as four 64-bit words. Errors say which rule failed,
//!   never what was computed.
//! - Unknown access keys are the caller's business: it looks the secret up with
//!   `AuthKind::access_key()` before calling [`verify`].
//! - [`Verified`] holds the signing key only when the payload has aws-chunked
//!   signatures to check with it; its `Debug` hides it and it is zeroized on
//!   drop.
//!
//! # Invariants
//! - No heap allocation once `SigV4Scratch` and `SigningKeyCache` are warm
//!   (proved by `tests/sigv4_alloc.rs`).

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::authorization::AuthorizationV4;
use super::canonical::{RequestParts, write_canonical_request};
use super::credential::Credential;
use super::detect::{AuthInput, AuthKind};
use super::error::{Malformed, RegionMismatch, SigV4Error};
use super::header_scan::HeaderScan;
use super::hex_digest::decode_hex_digest_into;
use super::limits::{AMZ_DATE_LEN, DIGEST_LEN, MAX_CLOCK_SKEW_SECS, SCOPE_DATE_LEN};
use super::payload::{PayloadHash, UNSIGNED_PAYLOAD};
use super::presigned::PresignedV4;
use super::scratch::SigV4Scratch;
use super::signed_headers::SignedHeaders;
use super::signing_key::SigningKeyCache;
use super::string_to_sign::{Scope, signature as sig_of};
use crate::http::ows::trim_ows;
use crate::secret::Secret;
use crate::swar::WORD;
use crate::time::parse_amz_date;

/// What verification needs to know about this endpoint and now.
#[derive(Debug, Clone, Copy)]
pub struct VerifyCtx<'s> {
    /// The region clients must sign for.
    pub region: &'s str,
    /// The current time, Unix seconds.
    pub now: i64,
}

/// A verified request: who signed it, and what the body layer needs.
pub struct Verified<'a> {
    pub access_key: &'a str,
    /// The meaning of `x-amz-content-sha256` (Unsigned for a presigned URL without it).
    pub payload: PayloadHash,
    /// The request time as sent (`YYYYMMDD'T'HHMMSS'Z'`, ASCII), for chunk signatures.
    pub amz_date: [u8; AMZ_DATE_LEN],
    /// The request time in Unix seconds.
    pub time: i64,
    /// The scope date `YYYYMMDD`.
    pub date: &'a str,
    pub region: &'a str,
    /// Whether the request was a presigned URL.
    pub presigned: bool,
    /// The request's signature: the seed of aws-chunked chunk signatures.
    pub seed_signature: [u8; DIGEST_LEN],
    /// The signing key of the scope, for aws-chunked chunk signatures; all
    /// zeros unless the payload has them (`PayloadHash::has_chunk_signatures`),
    /// so the secret is copied only where it is used. Secret.
    pub signing_key: [u8; DIGEST_LEN],
}

impl fmt::Debug for Verified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("access_key", &self.access_key)
            .field("payload", &self.payload)
            .field("amz_date", &String::from_utf8_lossy(&self.amz_date))
            .field("region", &self.region)
            .field("presigned", &self.presigned)
            .field("signing_key", &"***")
            .finish_non_exhaustive()
    }
}

impl Drop for Verified<'_> {
    fn drop(&mut self) {
        // Only a payload with chunk signatures was given the key.
        if self.payload.has_chunk_signatures() {
            self.signing_key.zeroize();
        }
    }
}

/// Verifies `auth` (from `detect`) for `input` with the secret of its access
/// key. `key_version` changes whenever that secret changes (cache validation).
pub fn verify<'a>(
    input: &AuthInput<'a>,
    auth: &AuthKind<'a>,
    secret: &Secret,
    key_version: u64,
    ctx: &VerifyCtx<'_>,
    scratch: &mut SigV4Scratch,
    cache: &mut SigningKeyCache,
) -> Result<Verified<'a>, SigV4Error> {
    let (credential, signed_headers, signature, presigned) = match auth {
        AuthKind::Header(a) => (&a.credential, &a.signed_headers, a.signature, false),
        AuthKind::Presigned(p) => (&p.credential, &p.signed_headers, p.signature, true),
        AuthKind::Anonymous => return Err(SigV4Error::Anonymous),
    };
    // What the rules find stays where it is first written, in locals lent
    // out by reference: moving a struct right after its bytes were stored
    // makes the copy wait for the stores (the scan's slots, the digests).
    let mut scan = HeaderScan::empty();
    scan.fill(input.headers, signed_headers);
    let mut payload = PayloadHash::Unsigned;
    let times = match auth {
        AuthKind::Header(a) => header_rules(a, &scan, ctx, &mut payload)?,
        AuthKind::Presigned(p) => presigned_rules(p, &scan, ctx, &mut payload)?,
        AuthKind::Anonymous => return Err(SigV4Error::Anonymous),
    };
    let mut provided = [0u8; DIGEST_LEN];
    if !decode_hex_digest_into(signature.as_bytes(), &mut provided) {
        // Not 64 hex digits: it cannot match.
        return Err(SigV4Error::SignatureDoesNotMatch);
    }
    let request = SignedRequest { input, credential, signed_headers, scan: &scan, times: &times, presigned };
    let mut seed_signature = [0u8; DIGEST_LEN];
    let key =
        check_signature(&request, &provided, &mut seed_signature, (secret, key_version), scratch, cache)?;
    let mut amz_date = [0u8; AMZ_DATE_LEN];
    amz_date.copy_from_slice(times.amz_date.as_bytes()); // parse_amz_date checked the length
    Ok(Verified {
        access_key: credential.access_key,
        payload,
        amz_date,
        time: times.time,
        date: credential.date,
        region: credential.region,
        presigned,
        seed_signature,
        signing_key: if payload.has_chunk_signatures() { key } else { [0; DIGEST_LEN] },
    })
}

/// The request time and payload line, once the request passed the rules.
struct Times<'a> {
    amz_date: &'a str,
    time: i64,
    payload_line: &'a str,
}

/// The rules of header auth before the signature, in order; the payload hash
/// is decoded into `payload`.
fn header_rules<'a>(
    auth: &AuthorizationV4<'a>,
    amz: &HeaderScan<'a>,
    ctx: &VerifyCtx<'_>,
    payload: &mut PayloadHash,
) -> Result<Times<'a>, SigV4Error> {
    let malformed = SigV4Error::HeaderMalformed;
    let credential = &auth.credential;
    if credential.region != ctx.region {
        return Err(malformed(Malformed::Region(RegionMismatch::new(credential.region, ctx.region))));
    }
    let amz_date = amz.date.and_then(value_str).ok_or(SigV4Error::MissingDate)?;
    let time = parse_amz_date(amz_date).ok_or(SigV4Error::MissingDate)?;
    if credential.date != &amz_date[..SCOPE_DATE_LEN] {
        return Err(malformed(Malformed::DateMismatch));
    }
    let payload_line = amz.content_sha256.and_then(value_str).ok_or(SigV4Error::MissingContentSha256)?;
    payload.parse_into(payload_line)?;
    if ctx.now.abs_diff(time) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(SigV4Error::TimeTooSkewed);
    }
    if amz.unsigned {
        return Err(SigV4Error::UnsignedHeaders);
    }
    Ok(Times { amz_date, time, payload_line })
}

/// The rules of a presigned URL before the signature, in order; a payload
/// hash header is decoded into `payload`.
fn presigned_rules<'a>(
    p: &PresignedV4<'a>,
    amz: &HeaderScan<'a>,
    ctx: &VerifyCtx<'_>,
    payload: &mut PayloadHash,
) -> Result<Times<'a>, SigV4Error> {
    if p.credential.region != ctx.region {
        let mismatch = RegionMismatch::new(p.credential.region, ctx.region);
        return Err(SigV4Error::QueryMalformed(Malformed::Region(mismatch)));
    }
    if p.time.saturating_sub(ctx.now) > MAX_CLOCK_SKEW_SECS {
        return Err(SigV4Error::TimeTooSkewed);
    }
    if ctx.now > p.time.saturating_add(p.expires) {
        return Err(SigV4Error::Expired);
    }
    let payload_line = match amz.content_sha256.and_then(value_str) {
        Some(v) => {
            payload.parse_into(v)?;
            v
        }
        None => UNSIGNED_PAYLOAD,
    };
    if amz.unsigned {
        return Err(SigV4Error::UnsignedHeaders);
    }
    Ok(Times { amz_date: p.amz_date, time: p.time, payload_line })
}

/// What the signature is computed over, borrowed.
struct SignedRequest<'r, 'a> {
    input: &'r AuthInput<'a>,
    credential: &'r Credential<'a>,
    signed_headers: &'r SignedHeaders<'a>,
    scan: &'r HeaderScan<'a>,
    times: &'r Times<'a>,
    presigned: bool,
}

/// Builds the canonical request, computes the signature into `signature`
/// and compares it with `provided`; returns the signing key.
fn check_signature(
    request: &SignedRequest<'_, '_>,
    provided: &[u8; DIGEST_LEN],
    signature: &mut [u8; DIGEST_LEN],
    (secret, key_version): (&Secret, u64),
    scratch: &mut SigV4Scratch,
    cache: &mut SigningKeyCache,
) -> Result<[u8; DIGEST_LEN], SigV4Error> {
    let SignedRequest { input, credential: c, signed_headers, scan, times, presigned } = *request;
    let parts = RequestParts {
        method: input.method,
        path: input.path,
        query: input.query,
        headers: input.headers,
        signed_headers: *signed_headers,
        scan,
        payload: times.payload_line,
        skip_signature_param: presigned,
    };
    let written = write_canonical_request(&parts, scratch);
    if !written.all_headers_present {
        return Err(SigV4Error::SignedHeaderAbsent);
    }
    let (key, mac) = cache.keyed(c.access_key, c.date, c.region, c.service, key_version, secret);
    let scope = Scope { date: c.date, region: c.region, service: c.service };
    let amz_date = times.amz_date.as_bytes();
    *signature = sig_of(mac, amz_date, &scope, &written.hash);
    if digests_equal(signature, provided) {
        return Ok(*key);
    }
    // Some clients sign the path exactly as sent: try it when it differs.
    let raw_path = if input.path.is_empty() { "/" } else { input.path };
    let canonical = &scratch.canonical;
    if raw_path.as_bytes() != &canonical[written.uri.clone()] {
        let hash: [u8; DIGEST_LEN] = Sha256::new()
            .chain_update(&canonical[..written.uri.start])
            .chain_update(raw_path)
            .chain_update(&canonical[written.uri.end..])
            .finalize()
            .into();
        *signature = sig_of(mac, amz_date, &scope, &hash);
        if digests_equal(signature, provided) {
            return Ok(*key);
        }
    }
    Err(SigV4Error::SignatureDoesNotMatch)
}

/// Constant-time equality of two digests, compared as four words (one
/// optimisation barrier per word rather than per byte).
fn digests_equal(a: &[u8; DIGEST_LEN], b: &[u8; DIGEST_LEN]) -> bool {
    let words = |d: &[u8; DIGEST_LEN]| -> [u64; DIGEST_LEN / WORD] {
        let mut w = [0u64; DIGEST_LEN / WORD];
        for (word, chunk) in w.iter_mut().zip(d.chunks_exact(WORD)) {
            let mut bytes = [0u8; WORD];
            bytes.copy_from_slice(chunk);
            *word = u64::from_le_bytes(bytes);
        }
        w
    };
    bool::from(words(a)[..].ct_eq(&words(b)[..]))
}

/// A header value as UTF-8, trimmed of spaces and tabs.
fn value_str(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(trim_ows(value)).ok()
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
