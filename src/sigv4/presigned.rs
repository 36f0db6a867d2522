//! The query parameters of a SigV4 presigned URL, parsed without copying:
//!
//! ```text
//! ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request
//!  &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bb...
//! ```
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//!
//! # Decisions
//! - Parameter names are matched exactly as sent (case-sensitive, not
//!   decoded). A repeated auth parameter is malformed.
//! - Values are used as sent except for the encoded separators `%2F` in the
//!   credential and `%3B` in SignedHeaders (see `credential`); any other
//!   escape in them is malformed, so every field borrows from the query.
//! - `X-Amz-Expires` is `1..=MAX_PRESIGNED_EXPIRES_SECS` decimal digits (0 is
//!   refused: such a URL was never valid).
//! - Region, clock and expiry are checked by `verify`, which knows the
//!   endpoint region and the time; everything else here.

use super::credential::Credential;
use super::error::{Malformed, SigV4Error};
use super::limits::{ALGORITHM, MAX_PRESIGNED_EXPIRES_SECS, SCOPE_DATE_LEN};
use super::signed_headers::SignedHeaders;
use super::split::{Split, split_once_byte};
use crate::time::parse_amz_date;

pub(crate) const ALGORITHM_PARAM: &str = "X-Amz-Algorithm";
pub(crate) const CREDENTIAL_PARAM: &str = "X-Amz-Credential";
const DATE_PARAM: &str = "X-Amz-Date";
const EXPIRES_PARAM: &str = "X-Amz-Expires";
const SIGNED_HEADERS_PARAM: &str = "X-Amz-SignedHeaders";
pub(crate) use super::canonical::SIGNATURE_PARAM;

/// Most decimal digits of an `X-Amz-Expires` that is parsed as a number; a
/// longer all-digit value is simply too large (and cannot overflow).
const MAX_EXPIRES_DIGITS: usize = 10;

/// Parsed presigned-URL parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresignedV4<'a> {
    pub credential: Credential<'a>,
    /// `X-Amz-Date` as sent (`YYYYMMDD'T'HHMMSS'Z'`).
    pub amz_date: &'a str,
    /// `X-Amz-Date` in Unix seconds.
    pub time: i64,
    /// `X-Amz-Expires` in seconds.
    pub expires: i64,
    pub signed_headers: SignedHeaders<'a>,
    /// `X-Amz-Signature` as sent.
    pub signature: &'a str,
}

impl<'a> PresignedV4<'a> {
    /// Parses the auth parameters of a raw query string (without `?`).
    pub fn parse(query: &'a str) -> Result<PresignedV4<'a>, SigV4Error> {
        let malformed = SigV4Error::QueryMalformed;
        let (mut algorithm, mut credential, mut date, mut expires, mut signed_headers, mut signature) =
            (None, None, None, None, None, None);
        for piece in Split::plain(query, b'&') {
            let (name, value) = split_once_byte(piece, b'=').unwrap_or((piece, ""));
            let slot = match name {
                ALGORITHM_PARAM => &mut algorithm,
                CREDENTIAL_PARAM => &mut credential,
                DATE_PARAM => &mut date,
                EXPIRES_PARAM => &mut expires,
                SIGNED_HEADERS_PARAM => &mut signed_headers,
                SIGNATURE_PARAM => &mut signature,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(malformed(Malformed::BadComponent));
            }
        }
        let (
            Some(algorithm),
            Some(credential),
            Some(amz_date),
            Some(expires),
            Some(signed_headers),
            Some(signature),
        ) = (algorithm, credential, date, expires, signed_headers, signature)
        else {
            return Err(malformed(Malformed::MissingComponent));
        };
        if algorithm != ALGORITHM {
            return Err(malformed(Malformed::Algorithm));
        }
        let credential = Credential::parse(credential, true).map_err(malformed)?;
        let time = parse_amz_date(amz_date).ok_or(malformed(Malformed::Date))?;
        if credential.date != &amz_date[..SCOPE_DATE_LEN] {
            return Err(malformed(Malformed::DateMismatch));
        }
        let expires = parse_expires(expires).map_err(malformed)?;
        let signed_headers = SignedHeaders::parse(signed_headers, true).map_err(malformed)?;
        Ok(PresignedV4 { credential, amz_date, time, expires, signed_headers, signature })
    }
}

fn parse_expires(v: &str) -> Result<i64, Malformed> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::ExpiresNotNumber);
    }
    if v.len() > MAX_EXPIRES_DIGITS {
        return Err(Malformed::ExpiresTooLarge);
    }
    let n: i64 = v.parse().map_err(|_| Malformed::ExpiresNotNumber)?;
    if n > MAX_PRESIGNED_EXPIRES_SECS {
        return Err(Malformed::ExpiresTooLarge);
    }
    if n == 0 {
        return Err(Malformed::ExpiresZero);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    fn query(replace: &str, with: &str) -> String {
        let q = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature={SIG}"
        );
        if replace.is_empty() { q } else { q.replacen(replace, with, 1) }
    }

    #[test]
    fn aws_documented_url() {
        let q = query("", "");
        let p = PresignedV4::parse(&q).unwrap();
        assert_eq!(p.credential.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(p.credential.region, "us-east-1");
        assert_eq!(p.amz_date, "20130524T000000Z");
        assert_eq!(p.time, 1_369_353_600);
        assert_eq!(p.expires, 86_400);
        assert_eq!(p.signature, SIG);
        assert!(p.signed_headers.contains("host"));
    }

    #[test]
    fn other_params_are_ignored_and_expires_bounds() {
        let q = format!("versionId=3&{}&x=1", query("86400", "604800"));
        assert_eq!(PresignedV4::parse(&q).unwrap().expires, 604_800);
        assert_eq!(PresignedV4::parse(&query("86400", "1")).unwrap().expires, 1);
    }

    #[test]
    fn malformed_queries() {
        use Malformed as M;
        let cases = [
            (query("X-Amz-Algorithm=AWS4-HMAC-SHA256&", ""), M::MissingComponent),
            (query("&X-Amz-Expires=86400", ""), M::MissingComponent),
            (query("&X-Amz-Signature=", "&X-Amz-Sig="), M::MissingComponent),
            (query("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), M::Algorithm),
            (query("X-Amz-Date=", "X-Amz-Date=1&X-Amz-Date="), M::BadComponent),
            (query("%2Fs3%2F", "%2Fiam%2F"), M::Service),
            (query("aws4_request", "aws5_request"), M::Terminator),
            (query("%2F20130524%2F", "%2F2013%2F"), M::Credential),
            (query("AKIAIOSFODNN7EXAMPLE", "AKIA%41"), M::Credential),
            (query("20130524T000000Z", "20130524T000000"), M::Date),
            (query("20130524T000000Z", "20130525T000000Z"), M::DateMismatch),
            (query("86400", "604801"), M::ExpiresTooLarge),
            (query("86400", "99999999999999999999"), M::ExpiresTooLarge),
            (query("86400", "-1"), M::ExpiresNotNumber),
            (query("86400", "0"), M::ExpiresZero),
            (query("86400", "000"), M::ExpiresZero),
            (query("86400", "1h"), M::ExpiresNotNumber),
            (query("86400", ""), M::ExpiresNotNumber),
            (query("SignedHeaders=host", "SignedHeaders=x-amz-date"), M::HostNotSigned),
            (query("SignedHeaders=host", "SignedHeaders=host%3B"), M::SignedHeaders),
        ];
        for (q, want) in &cases {
            assert_eq!(PresignedV4::parse(q), Err(SigV4Error::QueryMalformed(*want)), "{q}");
        }
        let encoded = query("SignedHeaders=host", "SignedHeaders=host%3Bx-amz-meta-a");
        assert_eq!(PresignedV4::parse(&encoded).unwrap().signed_headers.iter().count(), 2);
    }
}
