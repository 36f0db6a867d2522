//! The credential scope every SigV4 authorization carries
//! (`AK/YYYYMMDD/region/service/aws4_request`), parsed without copying.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>
//! and, for the percent-encoded query form,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//!
//! # Invariants
//! - In a presigned query the separators may be percent-encoded (`%2F`,
//!   either hex case). A `%` in the access key or region is refused, so they
//!   are plain slices of the request that [`Credential`] borrows.

use super::error::Malformed;
use super::limits::{S3_SERVICE, SCOPE_DATE_LEN, SCOPE_TERMINATOR};
use super::split::Split;

/// A parsed credential scope. The service is always `s3` and the terminator
/// `aws4_request` (checked by [`Credential::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    pub access_key: &'a str,
    /// `YYYYMMDD` (8 ASCII digits).
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> Credential<'a> {
    /// Parses `AK/YYYYMMDD/region/service/aws4_request`. With `encoded`, the
    /// `/` separators may also be written `%2F` (query form).
    // Inlined so the result is built where the caller keeps it: returning it
    // through a `Result` copies it right after it was written, which stalls.
    #[inline(always)]
    pub fn parse(raw: &'a str, encoded: bool) -> Result<Credential<'a>, Malformed> {
        // The usual plain shape is found without scanning the fixed parts,
        // and has no `%` in the access key or region by construction.
        let usual = if encoded { None } else { s3_scope_parts(raw) };
        let escape_free = usual.is_some();
        let parts = usual.or_else(|| if encoded { encoded_scope_parts(raw) } else { scope_parts(raw) });
        let Some([access_key, date, region, service, terminator]) = parts else {
            return Err(Malformed::Credential);
        };
        let plain = |s: &str| !s.is_empty() && (escape_free || !s.as_bytes().contains(&b'%'));
        if !plain(access_key) || !plain(region) {
            return Err(Malformed::Credential);
        }
        if date.len() != SCOPE_DATE_LEN || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Malformed::Credential);
        }
        if service != S3_SERVICE {
            return Err(Malformed::Service);
        }
        if terminator != SCOPE_TERMINATOR {
            return Err(Malformed::Terminator);
        }
        Ok(Credential { access_key, date, region, service })
    }
}

/// Elements of a credential scope: access key, date, region, service, terminator.
const SCOPE_PARTS: usize = 5;

/// How every S3 credential scope ends: service and terminator.
const S3_SCOPE_TAIL: &str = "s3/aws4_request";

/// The elements of the usual plain scope, `AK/YYYYMMDD/region/s3/aws4_request`,
/// found by scanning only the access key and the region (the rest has fixed
/// lengths). `None` for any other shape, which [`scope_parts`] then splits
/// (and reports).
fn s3_scope_parts(raw: &str) -> Option<[&str; SCOPE_PARTS]> {
    let b = raw.as_bytes();
    let cut = |c: &u8| *c == b'/' || *c == b'%';
    let ak_end = b.iter().position(cut)?;
    let date_end = ak_end + 1 + SCOPE_DATE_LEN;
    if b[ak_end] != b'/' || b.get(date_end) != Some(&b'/') {
        return None;
    }
    let region_start = date_end + 1;
    let region_end = region_start + b.get(region_start..)?.iter().position(cut)?;
    if b[region_end] != b'/' || &b[region_end + 1..] != S3_SCOPE_TAIL.as_bytes() {
        return None;
    }
    // Every cut is at a `/` (ASCII): char boundaries.
    Some([
        raw.get(..ak_end)?,
        raw.get(ak_end + 1..date_end)?,
        raw.get(region_start..region_end)?,
        S3_SERVICE,
        SCOPE_TERMINATOR,
    ])
}

/// The `/`-separated elements of a plain credential scope, in one byte scan;
/// `None` unless there are exactly [`SCOPE_PARTS`].
fn scope_parts(raw: &str) -> Option<[&str; SCOPE_PARTS]> {
    let mut cuts = [0usize; SCOPE_PARTS - 1];
    let mut n = 0;
    for (i, &c) in raw.as_bytes().iter().enumerate() {
        if c == b'/' {
            *cuts.get_mut(n)? = i;
            n += 1;
        }
    }
    if n != cuts.len() {
        return None;
    }
    // `/` is ASCII, so every cut is a char boundary.
    let [a, d, r, s] = cuts;
    Some([&raw[..a], &raw[a + 1..d], &raw[d + 1..r], &raw[r + 1..s], &raw[s + 1..]])
}

/// The elements of a query-form credential scope (`/` or `%2F` separated).
fn encoded_scope_parts(raw: &str) -> Option<[&str; SCOPE_PARTS]> {
    let mut parts = Split::new(raw, b'/', Some(*b"2F"));
    let out = [parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?];
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_credential() {
        let c = Credential::parse("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", false).unwrap();
        assert_eq!(
            (c.access_key, c.date, c.region, c.service),
            ("AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3")
        );
    }

    #[test]
    fn usual_scopes_take_the_short_path() {
        assert_eq!(S3_SCOPE_TAIL, format!("{S3_SERVICE}/{SCOPE_TERMINATOR}"));
        for raw in [
            "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
            "A/20130524/r/s3/aws4_request",
            "AK/20130524//s3/aws4_request",
            "AK/2013052x/r/s3/aws4_request",
        ] {
            assert_eq!(s3_scope_parts(raw), scope_parts(raw), "{raw}");
        }
        for other in [
            "AK/20130524/r/iam/aws4_request",
            "AK/20130524/r/s3/aws4_request/x",
            "AK/2013052/r/s3/aws4_request",
            "A%41/20130524/r/s3/aws4_request",
            "AK/20130524/r%41/s3/aws4_request",
            "AK/20130524/r",
            "AK/20130524",
            "AK",
        ] {
            assert_eq!(s3_scope_parts(other), None, "{other}");
        }
    }

    #[test]
    fn encoded_credential() {
        let raw = "AKIAIOSFODNN7EXAMPLE%2F20130524%2fus-east-1%2Fs3/aws4_request";
        let c = Credential::parse(raw, true).unwrap();
        assert_eq!((c.access_key, c.region), ("AKIAIOSFODNN7EXAMPLE", "us-east-1"));
        // %2F is only a separator in the query form
        assert_eq!(Credential::parse(raw, false), Err(Malformed::Credential));
    }

    #[test]
    fn bad_credentials() {
        let cases = [
            ("", Malformed::Credential),
            ("AK/20130524/us-east-1/s3", Malformed::Credential),
            ("AK/20130524/us-east-1/s3/aws4_request/x", Malformed::Credential),
            ("/20130524/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/2013052/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/2013052x/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/20130524//s3/aws4_request", Malformed::Credential),
            ("AK/20130524/us-east-1/ec2/aws4_request", Malformed::Service),
            ("AK/20130524/us-east-1/S3/aws4_request", Malformed::Service),
            ("AK/20130524/us-east-1/s3/aws5_request", Malformed::Terminator),
            // an escape is refused where it is, with the error of its element
            ("A%41/20130524/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/20130524/us-east%2D1/s3/aws4_request", Malformed::Credential),
            ("AK/20130524/us-east-1/s%33/aws4_request", Malformed::Service),
            ("AK/20130524/us-east-1/s3/aws4%5frequest", Malformed::Terminator),
        ];
        for (raw, want) in cases {
            assert_eq!(Credential::parse(raw, false), Err(want), "{raw}");
        }
        assert_eq!(Credential::parse("A%41/20130524/r/s3/aws4_request", true), Err(Malformed::Credential));
    }
}
