//! Which authentication a request uses: SigV4 header, SigV4 presigned query,
//! or none; SigV2 and mixed mechanisms are refused here.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.
//!
//! # Decisions
//! - An `Authorization` header means header auth. With `X-Amz-Algorithm` also
//!   in the query it is `MultipleMechanisms`; twice it is malformed.
//! - Without the header, any of `X-Amz-Algorithm`, `X-Amz-Credential` or
//!   `X-Amz-Signature` in the query means presigned (so a URL missing one
//!   parameter gets AuthorizationQueryParametersError, not anonymous access).
//! - `AWSAccessKeyId` in the query (SigV2 presigned) or an `AWS ak:sig`
//!   header is `UnsupportedMechanism`.
//! - Otherwise the request is anonymous; whether that is allowed is the
//!   caller's decision.

use super::authorization::AuthorizationV4;
use super::error::{Malformed, SigV4Error};
use super::presigned::{ALGORITHM_PARAM, CREDENTIAL_PARAM, PresignedV4, SIGNATURE_PARAM};
use super::split::{Split, split_once_byte};
use crate::http::name::eq_ignore_case;

/// The header of header auth.
const AUTHORIZATION: &[u8] = b"authorization";

/// The SigV2 presigned access-key parameter, recognised only to refuse it.
const SIGV2_ACCESS_KEY_PARAM: &str = "AWSAccessKeyId";

/// The parts of a request SigV4 looks at, all borrowed from the request head.
#[derive(Debug, Clone, Copy)]
pub struct AuthInput<'a> {
    /// The method as sent.
    pub method: &'a str,
    /// The raw path, still percent-encoded.
    pub path: &'a str,
    /// The raw query without `?` (empty when absent).
    pub query: &'a str,
    pub headers: &'a [httparse::Header<'a>],
}

impl<'a> AuthInput<'a> {
    /// The input of a parsed request head.
    pub fn from_head(head: &crate::http::RequestHead<'a>) -> AuthInput<'a> {
        AuthInput { method: head.method_str, path: head.path, query: head.query, headers: head.headers }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind<'a> {
    Header(AuthorizationV4<'a>),
    Presigned(PresignedV4<'a>),
    Anonymous,
}

impl<'a> AuthKind<'a> {
    /// The access key to look the secret up with (`None` when anonymous).
    pub fn access_key(&self) -> Option<&'a str> {
        match self {
            AuthKind::Header(a) => Some(a.credential.access_key),
            AuthKind::Presigned(p) => Some(p.credential.access_key),
            AuthKind::Anonymous => None,
        }
    }
}

/// Finds and parses the authentication of a request (syntax only: region,
/// clock and signature are checked by `verify`).
pub fn detect<'a>(input: &AuthInput<'a>) -> Result<AuthKind<'a>, SigV4Error> {
    let mut authorization = None;
    for h in input.headers.iter().filter(|h| eq_ignore_case(h.name.as_bytes(), AUTHORIZATION)) {
        if authorization.replace(h.value).is_some() {
            return Err(SigV4Error::HeaderMalformed(Malformed::BadComponent));
        }
    }
    let q = QueryAuth::scan(input.query);
    match authorization {
        Some(_) if q.algorithm => Err(SigV4Error::MultipleMechanisms),
        Some(value) => {
            let value = std::str::from_utf8(value).map_err(|_| SigV4Error::UnsupportedAuthorizationType)?;
            AuthorizationV4::parse(value).map(AuthKind::Header)
        }
        None if q.algorithm || q.v4_other => PresignedV4::parse(input.query).map(AuthKind::Presigned),
        None if q.v2 => Err(SigV4Error::UnsupportedMechanism),
        None => Ok(AuthKind::Anonymous),
    }
}

/// Which auth parameters a query names.
struct QueryAuth {
    algorithm: bool,
    v4_other: bool,
    v2: bool,
}

impl QueryAuth {
    fn scan(query: &str) -> QueryAuth {
        let mut q = QueryAuth { algorithm: false, v4_other: false, v2: false };
        if query.is_empty() {
            return q;
        }
        for piece in Split::plain(query, b'&') {
            let name = split_once_byte(piece, b'=').map_or(piece, |(n, _)| n);
            match name {
                ALGORITHM_PARAM => q.algorithm = true,
                CREDENTIAL_PARAM | SIGNATURE_PARAM => q.v4_other = true,
                SIGV2_ACCESS_KEY_PARAM => q.v2 = true,
                _ => {}
            }
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &[u8] = b"AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, \
        SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
    const PRESIGNED: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=PK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=00";

    fn detect_with<'a>(
        query: &'a str,
        headers: &'a [httparse::Header<'a>],
    ) -> Result<AuthKind<'a>, SigV4Error> {
        detect(&AuthInput { method: "GET", path: "/b/k", query, headers })
    }

    #[test]
    fn kinds() {
        let auth = [httparse::Header { name: "Authorization", value: AUTH }];
        let k = detect_with("acl", &auth).unwrap();
        assert!(matches!(k, AuthKind::Header(_)));
        assert_eq!(k.access_key(), Some("AK"));
        let k = detect_with(PRESIGNED, &[]).unwrap();
        assert!(matches!(k, AuthKind::Presigned(_)));
        assert_eq!(k.access_key(), Some("PK"));
        let k = detect_with("list-type=2", &[]).unwrap();
        assert_eq!((k, k.access_key()), (AuthKind::Anonymous, None));
    }

    #[test]
    fn refused_mechanisms() {
        let auth = [httparse::Header { name: "authorization", value: AUTH }];
        assert_eq!(detect_with(PRESIGNED, &auth), Err(SigV4Error::MultipleMechanisms));
        let two = [auth[0], auth[0]];
        assert_eq!(detect_with("", &two), Err(SigV4Error::HeaderMalformed(Malformed::BadComponent)));
        let v2 =
            [httparse::Header { name: "Authorization", value: b"AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl" }];
        assert_eq!(detect_with("", &v2), Err(SigV4Error::UnsupportedMechanism));
        assert_eq!(
            detect_with("AWSAccessKeyId=AK&Expires=1&Signature=x", &[]),
            Err(SigV4Error::UnsupportedMechanism)
        );
        let bin = [httparse::Header { name: "Authorization", value: b"\xff\xfe" }];
        assert_eq!(detect_with("", &bin), Err(SigV4Error::UnsupportedAuthorizationType));
        // a presigned URL with its algorithm cut off is not anonymous
        let cut = PRESIGNED.trim_start_matches("X-Amz-Algorithm=AWS4-HMAC-SHA256&");
        assert_eq!(detect_with(cut, &[]), Err(SigV4Error::QueryMalformed(Malformed::MissingComponent)));
    }
}
