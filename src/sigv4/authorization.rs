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
use super::limits::ALGORITHM;
use super::signed_headers::SignedHeaders;
use crate::http::ows::{is_ows, trim_ows_str};

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
