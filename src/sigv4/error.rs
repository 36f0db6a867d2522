//! Why a request failed SigV4 authentication: one small `Copy` enum, and its
//! mapping to the S3 error a client sees.
//!
//! Codes and messages follow what AWS S3 answers
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>).
//!
//! # Security
//! An error never carries a secret, a signing key, a computed signature or a
//! canonical request: only which rule failed. The one piece of client text it
//! quotes is the region of the credential scope, cut to [`ERROR_REGION_MAX`]
//! bytes and XML-escaped when rendered.

use std::fmt;

use crate::error::{S3Error, S3ErrorCode};

use super::limits::{ERROR_REGION_MAX, MAX_PRESIGNED_EXPIRES_SECS};

/// A SigV4 failure. Small, unboxed and allocation free; `S3Error::from` gives
/// the client-facing code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigV4Error {
    /// SigV2 (`Authorization: AWS ak:sig`, `?AWSAccessKeyId=`): InvalidRequest.
    UnsupportedMechanism,
    /// Both an `Authorization` header and `X-Amz-*` auth query parameters: InvalidArgument.
    MultipleMechanisms,
    /// An `Authorization` scheme other than `AWS4-HMAC-SHA256` (SigV4a, garbage): InvalidArgument.
    UnsupportedAuthorizationType,
    /// The `Authorization` header is malformed: AuthorizationHeaderMalformed.
    HeaderMalformed(Malformed),
    /// The presigned query parameters are malformed: AuthorizationQueryParametersError.
    QueryMalformed(Malformed),
    /// Header auth without `x-amz-content-sha256`: InvalidRequest.
    MissingContentSha256,
    /// `x-amz-content-sha256` is neither 64 hex digits nor a value AWS defines: InvalidArgument.
    InvalidContentSha256,
    /// A SigV4a (ECDSA) streaming payload: NotImplemented.
    UnsupportedPayload,
    /// Header auth without a valid `x-amz-date`: AccessDenied.
    MissingDate,
    /// The request time is more than `MAX_CLOCK_SKEW_SECS` from the server clock.
    TimeTooSkewed,
    /// An `x-amz-*` header is present but not in SignedHeaders: AccessDenied.
    UnsignedHeaders,
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`: AccessDenied.
    Expired,
    /// A header listed in SignedHeaders is not in the request. The client cannot
    /// have signed what it did not send, so this is a SignatureDoesNotMatch.
    SignedHeaderAbsent,
    /// The signature is not 64 hex digits or differs from the computed one.
    SignatureDoesNotMatch,
    /// `verify` was called for an anonymous request: AccessDenied.
    Anonymous,
}

/// What exactly is malformed in a header or presigned authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// `X-Amz-Algorithm` is missing or not `AWS4-HMAC-SHA256`.
    Algorithm,
    /// A required component (Credential, SignedHeaders, Signature, X-Amz-Date,
    /// X-Amz-Expires) is missing.
    MissingComponent,
    /// A component appears twice, or a header component is unknown.
    BadComponent,
    /// The credential is not `AK/YYYYMMDD/region/service/aws4_request`.
    Credential,
    /// The credential's service is not `s3`.
    Service,
    /// The credential's last element is not `aws4_request`.
    Terminator,
    /// The credential's region is not the one this endpoint serves.
    Region(RegionMismatch),
    /// The credential's date is not the date of `X-Amz-Date`.
    DateMismatch,
    /// SignedHeaders is empty or has an empty / invalid name.
    SignedHeaders,
    /// SignedHeaders does not include `host`.
    HostNotSigned,
    /// `X-Amz-Date` (query) is not `YYYYMMDD'T'HHMMSS'Z'`.
    Date,
    /// `X-Amz-Expires` is not a non-negative number.
    ExpiresNotNumber,
    /// `X-Amz-Expires` is larger than [`MAX_PRESIGNED_EXPIRES_SECS`].
    ExpiresTooLarge,
    /// `X-Amz-Expires` is 0: a URL that was never valid.
    ExpiresZero,
}

/// The region a client signed for and the one expected, kept inline (cut to
/// [`ERROR_REGION_MAX`] bytes) so the error stays `Copy` and allocation free.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RegionMismatch {
    got: InlineStr,
    expected: InlineStr,
}

impl RegionMismatch {
    pub fn new(got: &str, expected: &str) -> Self {
        RegionMismatch { got: InlineStr::new(got), expected: InlineStr::new(expected) }
    }

    pub fn got(&self) -> &str {
        self.got.as_str()
    }

    pub fn expected(&self) -> &str {
        self.expected.as_str()
    }
}

impl fmt::Debug for RegionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionMismatch {{ got: {:?}, expected: {:?} }}", self.got(), self.expected())
    }
}

/// A string of at most [`ERROR_REGION_MAX`] bytes stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
struct InlineStr {
    len: u8,
    bytes: [u8; ERROR_REGION_MAX],
}

impl InlineStr {
    fn new(s: &str) -> Self {
        let mut n = s.len().min(ERROR_REGION_MAX);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        let mut bytes = [0u8; ERROR_REGION_MAX];
        bytes[..n].copy_from_slice(&s.as_bytes()[..n]);
        InlineStr { len: n as u8, bytes }
    }

    fn as_str(&self) -> &str {
        // Always valid: cut at a char boundary of a &str.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl Malformed {
    /// The detail appended to the header-auth message.
    fn header_message(self) -> String {
        const PREFIX: &str = "The authorization header is malformed; ";
        let detail = match self {
            Malformed::Region(r) => {
                return format!("{PREFIX}the region '{}' is wrong; expecting '{}'", r.got(), r.expected());
            }
            Malformed::Algorithm => "the algorithm must be AWS4-HMAC-SHA256.",
            Malformed::MissingComponent => {
                "it must contain the Credential, SignedHeaders and Signature components."
            }
            Malformed::BadComponent => "a component is duplicated or unknown.",
            Malformed::Credential
            | Malformed::Date
            | Malformed::ExpiresNotNumber
            | Malformed::ExpiresTooLarge
            | Malformed::ExpiresZero => {
                "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
            }
            Malformed::Service => "incorrect service. This endpoint belongs to \"s3\".",
            Malformed::Terminator => "incorrect terminal. This endpoint uses \"aws4_request\".",
            Malformed::DateMismatch => "Invalid credential date. Date is not the same as X-Amz-Date.",
            Malformed::SignedHeaders => "the SignedHeaders component is invalid.",
            Malformed::HostNotSigned => "the host header must be signed.",
        };
        format!("{PREFIX}{detail}")
    }

    /// The message of an AuthorizationQueryParametersError.
    fn query_message(self) -> String {
        const CRED: &str = "Error parsing the X-Amz-Credential parameter; ";
        match self {
            Malformed::Region(r) => {
                format!("{CRED}the region '{}' is wrong; expecting '{}'", r.got(), r.expected())
            }
            Malformed::Algorithm => "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
            Malformed::MissingComponent | Malformed::BadComponent => {
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, \
                 X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
                    .into()
            }
            Malformed::Credential => format!(
                "{CRED}the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
            ),
            Malformed::Service => format!("{CRED}incorrect service. This endpoint belongs to \"s3\"."),
            Malformed::Terminator => {
                format!("{CRED}incorrect terminal. This endpoint uses \"aws4_request\".")
            }
            Malformed::DateMismatch => {
                format!("{CRED}Invalid credential date. This date is not the same as X-Amz-Date.")
            }
            Malformed::SignedHeaders => "X-Amz-SignedHeaders is invalid.".into(),
            Malformed::HostNotSigned => "X-Amz-SignedHeaders must include the host header.".into(),
            Malformed::Date => {
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"".into()
            }
            Malformed::ExpiresNotNumber => "X-Amz-Expires should be a number".into(),
            Malformed::ExpiresZero => "X-Amz-Expires must be greater than 0".into(),
            Malformed::ExpiresTooLarge => format!(
                "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES_SECS}"
            ),
        }
    }
}

impl From<SigV4Error> for S3Error {
    fn from(e: SigV4Error) -> S3Error {
        use S3ErrorCode as C;
        match e {
            SigV4Error::UnsupportedMechanism => S3Error::with_message(
                C::InvalidRequest,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            ),
            SigV4Error::MultipleMechanisms => S3Error::with_message(
                C::InvalidArgument,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query \
                 string parameter or the Authorization header should be specified",
            ),
            SigV4Error::UnsupportedAuthorizationType => {
                S3Error::with_message(C::InvalidArgument, "Unsupported Authorization Type")
            }
            SigV4Error::HeaderMalformed(m) => {
                S3Error::with_message(C::AuthorizationHeaderMalformed, m.header_message())
            }
            SigV4Error::QueryMalformed(m) => {
                S3Error::with_message(C::AuthorizationQueryParametersError, m.query_message())
            }
            SigV4Error::MissingContentSha256 => S3Error::with_message(
                C::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256",
            ),
            SigV4Error::InvalidContentSha256 => S3Error::with_message(
                C::InvalidArgument,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, \
                 STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid \
                 sha256 value.",
            ),
            SigV4Error::UnsupportedPayload => S3Error::with_message(
                C::NotImplemented,
                "SigV4a (STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD) payloads are not supported.",
            ),
            SigV4Error::MissingDate => S3Error::with_message(
                C::AccessDenied,
                "AWS authentication requires a valid Date or x-amz-date header",
            ),
            SigV4Error::TimeTooSkewed => S3Error::new(C::RequestTimeTooSkewed),
            SigV4Error::UnsignedHeaders => S3Error::with_message(
                C::AccessDenied,
                "There were headers present in the request which were not signed",
            ),
            SigV4Error::Expired => S3Error::with_message(C::AccessDenied, "Request has expired"),
            SigV4Error::SignedHeaderAbsent | SigV4Error::SignatureDoesNotMatch => {
                S3Error::new(C::SignatureDoesNotMatch)
            }
            SigV4Error::Anonymous => S3Error::new(C::AccessDenied),
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = S3Error::from(*self);
        write!(f, "{}: {}", e.code, e.message)
    }
}

impl std::error::Error for SigV4Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_small_and_copy() {
        assert!(std::mem::size_of::<SigV4Error>() <= 2 * ERROR_REGION_MAX + 8);
        let e = SigV4Error::Expired;
        let f = e;
        assert_eq!(e, f);
    }

    #[test]
    fn mapping_matches_aws() {
        use S3ErrorCode as C;
        let cases = [
            (SigV4Error::UnsupportedMechanism, C::InvalidRequest, 400),
            (SigV4Error::MultipleMechanisms, C::InvalidArgument, 400),
            (SigV4Error::HeaderMalformed(Malformed::Service), C::AuthorizationHeaderMalformed, 400),
            (
                SigV4Error::QueryMalformed(Malformed::ExpiresTooLarge),
                C::AuthorizationQueryParametersError,
                400,
            ),
            (SigV4Error::MissingContentSha256, C::InvalidRequest, 400),
            (SigV4Error::InvalidContentSha256, C::InvalidArgument, 400),
            (SigV4Error::MissingDate, C::AccessDenied, 403),
            (SigV4Error::TimeTooSkewed, C::RequestTimeTooSkewed, 403),
            (SigV4Error::UnsignedHeaders, C::AccessDenied, 403),
            (SigV4Error::Expired, C::AccessDenied, 403),
            (SigV4Error::SignedHeaderAbsent, C::SignatureDoesNotMatch, 403),
            (SigV4Error::SignatureDoesNotMatch, C::SignatureDoesNotMatch, 403),
        ];
        for (e, code, status) in cases {
            let s3 = S3Error::from(e);
            assert_eq!((s3.code, s3.status()), (code, status), "{e:?}");
        }
    }

    #[test]
    fn messages_quote_the_region() {
        let m = Malformed::Region(RegionMismatch::new("eu-west-1", "us-east-1"));
        assert_eq!(
            S3Error::from(SigV4Error::HeaderMalformed(m)).message,
            "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
        );
        assert_eq!(
            S3Error::from(SigV4Error::QueryMalformed(m)).message,
            "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
        );
        assert_eq!(
            S3Error::from(SigV4Error::QueryMalformed(Malformed::ExpiresTooLarge)).message,
            "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        );
        let long = "\u{e9}".repeat(ERROR_REGION_MAX);
        let cut = RegionMismatch::new(&long, "x");
        assert!(cut.got().len() <= ERROR_REGION_MAX && long.starts_with(cut.got()));
    }
}
