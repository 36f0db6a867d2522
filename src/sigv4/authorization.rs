//! The `Authorization` header of SigV4 header auth, parsed without copying:
//!
//! ```text
//! AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=fe5f80f7...
//! ```
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>.
//!
//! # Decisions
//! - The three components may come in any order, separated by `,` with or
//!   without spaces (or tabs) around them; a trailing `,` is tolerated. An
//!   unknown or repeated component is malformed, like a missing one. Component
//!   names are case-sensitive, as AWS documents them.
//! - `AWS <ak>:<sig>` (SigV2) is `UnsupportedMechanism`; any other scheme
//!   (SigV4a, `Bearer`, garbage) is `UnsupportedAuthorizationType`.
//! - SignedHeaders must list `host` (AWS requires it; checked by
//!   `SignedHeaders::parse`).
//! - The Signature is kept raw; `verify` decodes its hex (bad hex there is a
//!   SignatureDoesNotMatch). Region, date and clock are checked by `verify`,
//!   which knows the endpoint region and the time.

use super::credential::Credential;
use super::error::{Malformed, SigV4Error};
use super::limits::{ALGORITHM, DIGEST_HEX_LEN, S3_SERVICE, SCOPE_DATE_LEN};
use super::signed_headers::SignedHeaders;
use crate::byte_class::all_bytes;
use crate::http::ows::{is_ows, trim_ows_str};
use crate::swar::{HIGH_BITS, WORD, eq_byte, in_range, load};

/// The SigV2 scheme name, recognised only to refuse it with the right error.
const SIGV2_SCHEME: &str = "AWS";

/// A parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationV4<'a> {
    pub credential: Credential<'a>,
    pub signed_headers: SignedHeaders<'a>,
    /// As sent (64 lowercase hex digits when well-formed).
    pub signature: &'a str,
}

impl<'a> AuthorizationV4<'a> {
    /// Parses a header value in one pass over its components (each is found
    /// with one `memchr` for the `,` that ends it and parsed where it lies).
    /// Inlined, like the parsers it calls, so the result is built in place.
    #[inline(always)]
    pub fn parse(value: &'a str) -> Result<AuthorizationV4<'a>, SigV4Error> {
        if let Some(usual) = Self::parse_usual(value) {
            return Ok(usual);
        }
        let malformed = SigV4Error::HeaderMalformed;
        let value = trim_ows_str(value);
        let rest = match value.as_bytes().get(ALGORITHM.len()) {
            Some(&c) if is_ows(c) && value.starts_with(ALGORITHM) => &value[ALGORITHM.len() + 1..],
            _ => return Err(scheme_error(value)),
        };
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        let mut rest = rest.as_bytes();
        let mut at = value.len() - rest.len();
        // Skip the separators (`,` and the whitespace around it) before each part.
        while let Some(skip) = rest.iter().position(|&c| c != b',' && !is_ows(c)) {
            let end = memchr::memchr(b',', &rest[skip..]).map_or(rest.len(), |i| skip + i);
            let part = trim_ows_str(&value[at + skip..at + end]);
            rest = &rest[end..];
            at += end;
            let (slot, val) = if let Some(v) = part.strip_prefix(CREDENTIAL) {
                (&mut credential, v)
            } else if let Some(v) = part.strip_prefix(SIGNED_HEADERS) {
                (&mut signed_headers, v)
            } else if let Some(v) = part.strip_prefix(SIGNATURE) {
                (&mut signature, v)
            } else {
                return Err(malformed(Malformed::BadComponent));
            };
            if slot.replace(val).is_some() {
                return Err(malformed(Malformed::BadComponent));
            }
        }
        let (Some(credential), Some(signed_headers), Some(signature)) =
            (credential, signed_headers, signature)
        else {
            return Err(malformed(Malformed::MissingComponent));
        };
        let credential = Credential::parse(credential, false).map_err(malformed)?;
        let signed_headers = SignedHeaders::parse(signed_headers, false).map_err(malformed)?;
        Ok(AuthorizationV4 { credential, signed_headers, signature })
    }
}

impl<'a> AuthorizationV4<'a> {
    /// The form every SDK sends, parsed by its fixed parts in one pass:
    ///
    /// ```text
    /// AWS4-HMAC-SHA256 Credential=AK/YYYYMMDD/region/s3/aws4_request, SignedHeaders=list, Signature=64 hex digits
    /// ```
    ///
    /// with an access key of `A-Z a-z 0-9` and a region of `a-z 0-9 -`.
    /// `None` for any other value, which [`Self::parse`] then takes apart in
    /// general (and reports). When it answers, the general parse answers the
    /// same: no part has a `,` or a space of its own (the classes exclude
    /// them, the list is validated, the signature is hex), so the value has
    /// exactly the three components, and the scope is one that
    /// `Credential::parse` accepts with these very elements.
    #[inline(always)]
    fn parse_usual(value: &'a str) -> Option<AuthorizationV4<'a>> {
        let b = value.as_bytes();
        if !b.starts_with(USUAL_START.as_bytes()) {
            return None;
        }
        let ak_start = USUAL_START.len();
        let ak_end = ak_start + find_byte(&b[ak_start..], b'/')?;
        let date_start = ak_end + 1;
        let region_start = date_start + SCOPE_DATE_LEN + 1;
        if b.get(region_start - 1) != Some(&b'/') || !is_digits(&b[date_start..region_start - 1]) {
            return None;
        }
        let region_end = region_start + find_byte(&b[region_start..], b'/')?;
        let list_start = region_end + USUAL_SCOPE_END.len();
        let signature_start = b.len().checked_sub(DIGEST_HEX_LEN)?;
        let list_end = signature_start.checked_sub(USUAL_SIGNATURE.len())?;
        if list_start > list_end
            || !b[region_end..].starts_with(USUAL_SCOPE_END.as_bytes())
            || !b[list_end..].starts_with(USUAL_SIGNATURE.as_bytes())
        {
            return None;
        }
        let (access_key, region) = (&b[ak_start..ak_end], &b[region_start..region_end]);
        let key_byte =
            |c: u8| (c.wrapping_sub(b'a') < 26) | (c.wrapping_sub(b'A') < 26) | (c.wrapping_sub(b'0') < 10);
        let region_byte = |c: u8| (c.wrapping_sub(b'a') < 26) | (c.wrapping_sub(b'0') < 10) | (c == b'-');
        let hex = |c: u8| (c.wrapping_sub(b'0') < 10) | ((c | 0x20).wrapping_sub(b'a') < 6);
        if access_key.is_empty()
            || region.is_empty()
            || !all_bytes(access_key, key_byte)
            || !all_bytes(region, region_byte)
            || !all_bytes(&b[signature_start..], hex)
        {
            return None;
        }
        // Every cut is next to an ASCII byte checked above: char boundaries.
        let credential = Credential {
            access_key: value.get(ak_start..ak_end)?,
            date: value.get(date_start..region_start - 1)?,
            region: value.get(region_start..region_end)?,
            service: S3_SERVICE,
        };
        let signed_headers = SignedHeaders::parse(value.get(list_start..list_end)?, false).ok()?;
        Some(AuthorizationV4 { credential, signed_headers, signature: value.get(signature_start..)? })
    }
}

/// The fixed parts of the usual form: before the access key, from the end
/// of the region to the list, and between the list and the signature.
const USUAL_START: &str = "AWS4-HMAC-SHA256 Credential=";
const USUAL_SCOPE_END: &str = "/s3/aws4_request, SignedHeaders=";
const USUAL_SIGNATURE: &str = ", Signature=";

/// Where `byte` (ASCII) first is in `s`, eight bytes at a time.
#[inline(always)]
fn find_byte(s: &[u8], byte: u8) -> Option<usize> {
    (0..s.len()).step_by(WORD).find_map(|at| {
        // `load` pads with zeros past the end; `byte` is not zero.
        let hits = eq_byte(load(s, at), byte);
        (hits != 0).then(|| at + (hits.trailing_zeros() / 8) as usize)
    })
}

/// Whether `s` is exactly eight ASCII digits.
#[inline(always)]
fn is_digits(s: &[u8]) -> bool {
    s.len() == WORD && in_range(load(s, 0), b'0', b'9') == HIGH_BITS
}

/// The component prefixes, `=` included.
const CREDENTIAL: &str = "Credential=";
const SIGNED_HEADERS: &str = "SignedHeaders=";
const SIGNATURE: &str = "Signature=";

/// The error for a value whose scheme is not `AWS4-HMAC-SHA256`, or is
/// followed by nothing.
fn scheme_error(value: &str) -> SigV4Error {
    let scheme_end = value.bytes().position(is_ows).unwrap_or(value.len());
    match &value[..scheme_end] {
        ALGORITHM => SigV4Error::HeaderMalformed(Malformed::MissingComponent),
        SIGV2_SCHEME => SigV4Error::UnsupportedMechanism,
        _ => SigV4Error::UnsupportedAuthorizationType,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

    fn parse(v: &str) -> Result<AuthorizationV4<'_>, SigV4Error> {
        AuthorizationV4::parse(v)
    }

    #[test]
    fn aws_documented_form() {
        let v = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-date, Signature={SIG}"
        );
        let a = parse(&v).unwrap();
        assert_eq!(a.credential.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(a.credential.date, "20130524");
        assert_eq!(a.credential.region, "us-east-1");
        assert_eq!(a.signed_headers.iter().collect::<Vec<_>>(), ["host", "range", "x-amz-date"]);
        assert_eq!(a.signature, SIG);
        // the signature is kept raw, `=` and all: verify finds it cannot match
        let odd = parse(
            "AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4_request, SignedHeaders=host, Signature=a=b",
        );
        assert_eq!(odd.unwrap().signature, "a=b");
    }

    #[test]
    fn spacing_and_order_are_tolerated() {
        let forms = [
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4_request,SignedHeaders=host,Signature={SIG}"
            ),
            format!(
                "AWS4-HMAC-SHA256  Signature={SIG} ,\tSignedHeaders=host , Credential=AK/20130524/r/s3/aws4_request,"
            ),
            format!(
                "\tAWS4-HMAC-SHA256\tSignedHeaders=host,Credential=AK/20130524/r/s3/aws4_request,Signature={SIG} "
            ),
            format!(
                "AWS4-HMAC-SHA256 , ,Credential=AK/20130524/r/s3/aws4_request,,\t, SignedHeaders=host ,Signature={SIG},"
            ),
        ];
        for f in &forms {
            let a = parse(f).unwrap_or_else(|e| panic!("{f}: {e:?}"));
            assert_eq!((a.credential.access_key, a.signature), ("AK", SIG));
        }
    }

    /// The usual form and every variation of it parse as the general parser
    /// parses them (the usual path only ever answers when that one agrees).
    #[test]
    fn usual_form_agrees_with_the_general_parse() {
        let cred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";
        let usual =
            format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-date, Signature={SIG}");
        let a = AuthorizationV4::parse_usual(&usual).expect("the SDK form takes the usual path");
        assert_eq!((a.credential.region, a.signature), ("us-east-1", SIG));
        assert_eq!(a.signed_headers.iter().collect::<Vec<_>>(), ["host", "x-amz-date"]);
        let variants = [
            usual.clone(),
            usual.replace(", S", ",S"),
            usual.replace("Credential=AK", "Credential= AK"),
            usual.replace("aws4_request,", "aws4_request ,"),
            usual.replace("host;", "Host;"),
            usual.replace("host;", "host,"),
            usual.replace("host;", "host ;"),
            usual.replace("host;", ""),
            usual.replace("IOSF", "IO,SF"),
            usual.replace("IOSF", "IO SF"),
            usual.replace("us-east-1", "us-east,1"),
            usual.replace("/s3/", "/s4/"),
            usual.replace("20130524", "2013052x"),
            format!("{usual} "),
            format!("{usual},"),
            format!("{usual}0"),
            usual.replace(&SIG[60..], "0,00"),
            usual.replace(&SIG[60..], "0 00"),
            usual.replace(&SIG[60..], "000G"),
            usual.replace(&SIG[60..], "\u{e9}00"),
            usual.replace("Signature=", "Signature=\u{e9}").replace(&SIG[..2], ""),
            usual.replace(", Signature=", ", Signature=x, Signature="),
            usual.replace(", SignedHeaders=", ", Foo=x, SignedHeaders="),
            usual.replace("Credential", "credential"),
            usual.replace("us-east-1", "US-east-1"),
            usual.replace("us-east-1", "us_east_1"),
            usual.replace("us-east-1", ""),
            usual.replace("AKIAIOSFODNN7EXAMPLE", ""),
            usual.replace("AKIAIOSFODNN7EXAMPLE", "AK-1"),
            usual.replace("AKIAIOSFODNN7EXAMPLE", "AK%41"),
            usual.replace("AKIAIOSFODNN7EXAMPLE", "\u{e9}"),
            usual.replace("20130524/", "2013052/"),
            usual.replace("20130524/", "201305245/"),
            usual.replace("/aws4_request", "/aws4_request/x"),
            usual.replace("SignedHeaders=host;x-amz-date", "SignedHeaders="),
            usual.replace("host;x-amz-date", "x-amz-date"),
            usual.replace(", Signature=", ",  Signature="),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4_request, SignedHeaders=host, Signature={SIG}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4_request, SignedHeaders=, Signature={SIG}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4_request, SignedHeaders, Signature={SIG}"
            ),
            format!("AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4_request, Signature={SIG}"),
            "AWS4-HMAC-SHA256 Credential=".to_string(),
            "AWS4-HMAC-SHA256 Credential=AK/20130524/".to_string(),
            usual.replace("Credential=", "Credential=X, Credential="),
        ];
        for v in &variants {
            // The general path alone: a value the usual path refuses.
            let spaced = format!(" {v}");
            let general = AuthorizationV4::parse(&spaced);
            assert_eq!(AuthorizationV4::parse(v), general, "{v}");
            if let Some(u) = AuthorizationV4::parse_usual(v) {
                assert_eq!(Ok(u), general, "{v}");
            }
        }
    }

    #[test]
    fn other_schemes() {
        assert_eq!(
            parse("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="),
            Err(SigV4Error::UnsupportedMechanism)
        );
        for v in [
            "",
            "Bearer x",
            "AWS4-ECDSA-P256-SHA256 Credential=x",
            "AWS4-HMAC-SHA256X Credential=x",
            "AWS4-HMAC-SHA256,Credential=AK/20130524/r/s3/aws4_request",
        ] {
            assert_eq!(parse(v), Err(SigV4Error::UnsupportedAuthorizationType), "{v}");
        }
    }

    #[test]
    fn malformed_headers() {
        use Malformed as M;
        let cred = "Credential=AK/20130524/r/s3/aws4_request";
        let cases = [
            ("AWS4-HMAC-SHA256".to_string(), M::MissingComponent),
            (format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host"), M::MissingComponent),
            (format!("AWS4-HMAC-SHA256 {cred}, Signature={SIG}"), M::MissingComponent),
            (format!("AWS4-HMAC-SHA256 SignedHeaders=host, Signature={SIG}"), M::MissingComponent),
            (
                format!("AWS4-HMAC-SHA256 {cred}, {cred}, SignedHeaders=host, Signature={SIG}"),
                M::BadComponent,
            ),
            (
                format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host, Signature={SIG}, Foo=bar"),
                M::BadComponent,
            ),
            (format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host, Signature"), M::BadComponent),
            (
                format!(
                    "AWS4-HMAC-SHA256 credential=AK/20130524/r/s3/aws4_request, SignedHeaders=host, Signature={SIG}"
                ),
                M::BadComponent,
            ),
            (
                format!("AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3, SignedHeaders=host, Signature={SIG}"),
                M::Credential,
            ),
            (
                format!(
                    "AWS4-HMAC-SHA256 Credential=AK/20130524/r/iam/aws4_request, SignedHeaders=host, Signature={SIG}"
                ),
                M::Service,
            ),
            (
                format!(
                    "AWS4-HMAC-SHA256 Credential=AK/20130524/r/s3/aws4, SignedHeaders=host, Signature={SIG}"
                ),
                M::Terminator,
            ),
            (format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=, Signature={SIG}"), M::SignedHeaders),
            (format!("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature={SIG}"), M::Credential),
            (format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host=x, Signature={SIG}"), M::SignedHeaders),
            (format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=x-amz-date, Signature={SIG}"), M::HostNotSigned),
        ];
        for (v, want) in &cases {
            assert_eq!(parse(v), Err(SigV4Error::HeaderMalformed(*want)), "{v}");
        }
    }
}
