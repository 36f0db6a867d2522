//! S3 errors: every error a client can see is one [`S3ErrorCode`] variant.
//!
//! The code string and the HTTP status of each variant are decided here, in one
//! `match` each, and [`S3Error::write_xml`] is the only place that renders the
//! XML body. Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>.
//!
//! # Security
//! Messages are chosen by sluice. Nothing from a backend (hostnames, credentials,
//! backend error text) is ever copied into an [`S3Error`]; backend failures are
//! mapped to a code in `backend::error` and get the generic message of that code.

use std::borrow::Cow;
use std::fmt;

/// Every S3 error code sluice can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum S3ErrorCode {
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BadDigest,
    BadRequest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    ConditionalRequestConflict,
    EntityTooLarge,
    EntityTooSmall,
    IncompleteBody,
    InternalError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidBucketName,
    InvalidChunkSizeError,
    InvalidDigest,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    InvalidURI,
    KeyTooLongError,
    MalformedTrailerError,
    MalformedXML,
    MaxMessageLengthExceeded,
    MetadataTooLarge,
    MethodNotAllowed,
    MissingContentLength,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NotImplemented,
    NotModified,
    OperationAborted,
    PreconditionFailed,
    RequestHeaderSectionTooLarge,
    RequestTimeTooSkewed,
    RequestTimeout,
    ServiceUnavailable,
    SignatureDoesNotMatch,
    SlowDown,
    XAmzContentChecksumMismatch,
    XAmzContentSHA256Mismatch,
}

impl S3ErrorCode {
    /// Every code, for parsing codes reported by backends.
    pub const ALL: [S3ErrorCode; 46] = [
        S3ErrorCode::AccessDenied,
        S3ErrorCode::AuthorizationHeaderMalformed,
        S3ErrorCode::AuthorizationQueryParametersError,
        S3ErrorCode::BadDigest,
        S3ErrorCode::BadRequest,
        S3ErrorCode::BucketAlreadyExists,
        S3ErrorCode::BucketAlreadyOwnedByYou,
        S3ErrorCode::BucketNotEmpty,
        S3ErrorCode::ConditionalRequestConflict,
        S3ErrorCode::EntityTooLarge,
        S3ErrorCode::EntityTooSmall,
        S3ErrorCode::IncompleteBody,
        S3ErrorCode::InternalError,
        S3ErrorCode::InvalidAccessKeyId,
        S3ErrorCode::InvalidArgument,
        S3ErrorCode::InvalidBucketName,
        S3ErrorCode::InvalidChunkSizeError,
        S3ErrorCode::InvalidDigest,
        S3ErrorCode::InvalidLocationConstraint,
        S3ErrorCode::InvalidPart,
        S3ErrorCode::InvalidPartOrder,
        S3ErrorCode::InvalidRange,
        S3ErrorCode::InvalidRequest,
        S3ErrorCode::InvalidURI,
        S3ErrorCode::KeyTooLongError,
        S3ErrorCode::MalformedTrailerError,
        S3ErrorCode::MalformedXML,
        S3ErrorCode::MaxMessageLengthExceeded,
        S3ErrorCode::MetadataTooLarge,
        S3ErrorCode::MethodNotAllowed,
        S3ErrorCode::MissingContentLength,
        S3ErrorCode::NoSuchBucket,
        S3ErrorCode::NoSuchKey,
        S3ErrorCode::NoSuchUpload,
        S3ErrorCode::NotImplemented,
        S3ErrorCode::NotModified,
        S3ErrorCode::OperationAborted,
        S3ErrorCode::PreconditionFailed,
        S3ErrorCode::RequestHeaderSectionTooLarge,
        S3ErrorCode::RequestTimeTooSkewed,
        S3ErrorCode::RequestTimeout,
        S3ErrorCode::ServiceUnavailable,
        S3ErrorCode::SignatureDoesNotMatch,
        S3ErrorCode::SlowDown,
        S3ErrorCode::XAmzContentChecksumMismatch,
        S3ErrorCode::XAmzContentSHA256Mismatch,
    ];

    /// The code whose string is `s`, if sluice knows it.
    pub fn from_code(s: &str) -> Option<S3ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The `<Code>` string, exactly as AWS spells it.
    pub const fn as_str(self) -> &'static str {
        use S3ErrorCode::*;
        match self {
            AccessDenied => "AccessDenied",
            InvalidChunkSizeError => "InvalidChunkSizeError",
            MalformedTrailerError => "MalformedTrailerError",
            ConditionalRequestConflict => "ConditionalRequestConflict",
            EntityTooSmall => "EntityTooSmall",
            InvalidPart => "InvalidPart",
            InvalidPartOrder => "InvalidPartOrder",
            MaxMessageLengthExceeded => "MaxMessageLengthExceeded",
            NoSuchUpload => "NoSuchUpload",
            XAmzContentChecksumMismatch => "XAmzContentChecksumMismatch",
            AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            BadDigest => "BadDigest",
            BadRequest => "BadRequest",
            BucketAlreadyExists => "BucketAlreadyExists",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            BucketNotEmpty => "BucketNotEmpty",
            EntityTooLarge => "EntityTooLarge",
            IncompleteBody => "IncompleteBody",
            InternalError => "InternalError",
            InvalidAccessKeyId => "InvalidAccessKeyId",
            InvalidArgument => "InvalidArgument",
            InvalidBucketName => "InvalidBucketName",
            InvalidDigest => "InvalidDigest",
            InvalidLocationConstraint => "InvalidLocationConstraint",
            InvalidRange => "InvalidRange",
            InvalidRequest => "InvalidRequest",
            InvalidURI => "InvalidURI",
            KeyTooLongError => "KeyTooLongError",
            MalformedXML => "MalformedXML",
            MetadataTooLarge => "MetadataTooLarge",
            MethodNotAllowed => "MethodNotAllowed",
            MissingContentLength => "MissingContentLength",
            NoSuchBucket => "NoSuchBucket",
            NoSuchKey => "NoSuchKey",
            NotImplemented => "NotImplemented",
            NotModified => "NotModified",
            OperationAborted => "OperationAborted",
            PreconditionFailed => "PreconditionFailed",
            RequestHeaderSectionTooLarge => "RequestHeaderSectionTooLarge",
            RequestTimeTooSkewed => "RequestTimeTooSkewed",
            RequestTimeout => "RequestTimeout",
            ServiceUnavailable => "ServiceUnavailable",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SlowDown => "SlowDown",
            XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
        }
    }

    /// The HTTP status AWS answers with for this code.
    pub const fn status(self) -> u16 {
        use S3ErrorCode::*;
        match self {
            NotModified => 304,
            EntityTooSmall
            | InvalidPart
            | InvalidPartOrder
            | MaxMessageLengthExceeded
            | XAmzContentChecksumMismatch => 400,
            NoSuchUpload => 404,
            InvalidChunkSizeError | MalformedTrailerError => 400,
            ConditionalRequestConflict => 409,
            AuthorizationHeaderMalformed
            | AuthorizationQueryParametersError
            | BadDigest
            | BadRequest
            | EntityTooLarge
            | IncompleteBody
            | InvalidArgument
            | InvalidBucketName
            | InvalidDigest
            | InvalidLocationConstraint
            | InvalidRequest
            | InvalidURI
            | KeyTooLongError
            | MalformedXML
            | MetadataTooLarge
            | RequestHeaderSectionTooLarge
            | RequestTimeout
            | XAmzContentSHA256Mismatch => 400,
            AccessDenied | InvalidAccessKeyId | RequestTimeTooSkewed | SignatureDoesNotMatch => 403,
            NoSuchBucket | NoSuchKey => 404,
            MethodNotAllowed => 405,
            BucketAlreadyExists | BucketAlreadyOwnedByYou | BucketNotEmpty | OperationAborted => 409,
            MissingContentLength => 411,
            PreconditionFailed => 412,
            InvalidRange => 416,
            InternalError => 500,
            NotImplemented => 501,
            ServiceUnavailable | SlowDown => 503,
        }
    }

    /// The generic message AWS uses for this code.
    pub const fn default_message(self) -> &'static str {
        use S3ErrorCode::*;
        match self {
            AccessDenied => "Access Denied",
            InvalidChunkSizeError => {
                "Only the last chunk is allowed to have a size less than 8192 bytes, and no chunk may exceed the maximum chunk size."
            }
            MalformedTrailerError => {
                "The request contained trailing data that was not well-formed or did not conform to our published schema."
            }
            ConditionalRequestConflict => {
                "A conflicting operation occurred. If using PutObject you can retry the request."
            }
            EntityTooSmall => "Your proposed upload is smaller than the minimum allowed object size.",
            InvalidPart => {
                "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
            }
            InvalidPartOrder => {
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            }
            MaxMessageLengthExceeded => "Your request was too big.",
            NoSuchUpload => {
                "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed."
            }
            XAmzContentChecksumMismatch => "The provided checksum does not match what was computed.",
            AuthorizationHeaderMalformed => "The authorization header is malformed.",
            AuthorizationQueryParametersError => "Error parsing the X-Amz-Credential parameter.",
            BadDigest => "The Content-MD5 or checksum you specified did not match what we received.",
            BadRequest => "An error occurred when parsing the HTTP request.",
            BucketAlreadyExists => {
                "The requested bucket name is not available. The bucket namespace is shared by all \
                 users of the system. Please select a different name and try again."
            }
            BucketAlreadyOwnedByYou => {
                "Your previous request to create the named bucket succeeded and you already own it."
            }
            BucketNotEmpty => "The bucket you tried to delete is not empty",
            EntityTooLarge => "Your proposed upload exceeds the maximum allowed size",
            IncompleteBody => {
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            }
            InternalError => "We encountered an internal error. Please try again.",
            InvalidAccessKeyId => "The AWS Access Key Id you provided does not exist in our records.",
            InvalidArgument => "Invalid Argument",
            InvalidBucketName => "The specified bucket is not valid.",
            InvalidDigest => "The Content-MD5 you specified is not valid.",
            InvalidLocationConstraint => "The specified location constraint is not valid.",
            InvalidRange => "The requested range is not satisfiable",
            InvalidRequest => "Invalid Request",
            InvalidURI => "Couldn't parse the specified URI.",
            KeyTooLongError => "Your key is too long",
            MalformedXML => {
                "The XML you provided was not well-formed or did not validate against our published schema."
            }
            MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size.",
            MethodNotAllowed => "The specified method is not allowed against this resource.",
            MissingContentLength => "You must provide the Content-Length HTTP header.",
            NoSuchBucket => "The specified bucket does not exist",
            NoSuchKey => "The specified key does not exist.",
            NotImplemented => "A header or query you provided implies functionality that is not implemented.",
            NotModified => "Not Modified",
            OperationAborted => {
                "A conflicting conditional operation is currently in progress against this resource. \
                 Please try again."
            }
            PreconditionFailed => "At least one of the preconditions you specified did not hold.",
            RequestHeaderSectionTooLarge => "Your request header section exceeds the maximum allowed size.",
            RequestTimeTooSkewed => {
                "The difference between the request time and the current time is too large."
            }
            RequestTimeout => {
                "Your socket connection to the server was not read from or written to within the timeout period."
            }
            ServiceUnavailable => "Please reduce your request rate.",
            SignatureDoesNotMatch => {
                "The request signature we calculated does not match the signature you provided. \
                 Check your key and signing method."
            }
            SlowDown => "Please reduce your request rate.",
            XAmzContentSHA256Mismatch => {
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            }
        }
    }
}

impl fmt::Display for S3ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to an S3 client: a code plus a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: Cow<'static, str>,
}

impl S3Error {
    /// The error with the generic AWS message of its code.
    pub const fn new(code: S3ErrorCode) -> Self {
        S3Error { code, message: Cow::Borrowed(code.default_message()) }
    }

    /// The error with a message that tells the client more. Never put backend
    /// details or secrets in `message`.
    pub fn with_message(code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        S3Error { code, message: message.into() }
    }

    pub const fn status(&self) -> u16 {
        self.code.status()
    }

    /// Appends the XML error document to `out`. `resource` is the request path
    /// as the client sent it; `request_id` is the id also sent in
    /// `x-amz-request-id`.
    pub fn write_xml(&self, resource: &str, request_id: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
        out.extend_from_slice(self.code.as_str().as_bytes());
        out.extend_from_slice(b"</Code><Message>");
        crate::s3::xml::escape_into(&self.message, out);
        out.extend_from_slice(b"</Message>");
        if !resource.is_empty() {
            out.extend_from_slice(b"<Resource>");
            crate::s3::xml::escape_into(resource, out);
            out.extend_from_slice(b"</Resource>");
        }
        out.extend_from_slice(b"<RequestId>");
        crate::s3::xml::escape_into(request_id, out);
        out.extend_from_slice(b"</RequestId></Error>");
    }
}

impl From<S3ErrorCode> for S3Error {
    fn from(code: S3ErrorCode) -> Self {
        S3Error::new(code)
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for S3Error {}

pub type S3Result<T> = Result<T, S3Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped_and_complete() {
        let err = S3Error::with_message(S3ErrorCode::NoSuchKey, "key <a&b>");
        let mut out = Vec::new();
        err.write_xml("/b/<k>", "REQ1", &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("<Code>NoSuchKey</Code>"));
        assert!(s.contains("<Message>key &lt;a&amp;b&gt;</Message>"));
        assert!(s.contains("<Resource>/b/&lt;k&gt;</Resource>"));
        assert!(s.contains("<RequestId>REQ1</RequestId>"));
        assert_eq!(err.status(), 404);
    }

    #[test]
    fn codes_parse_back() {
        for c in S3ErrorCode::ALL {
            assert_eq!(S3ErrorCode::from_code(c.as_str()), Some(c));
        }
        assert_eq!(S3ErrorCode::from_code("Nope"), None);
    }

    #[test]
    fn statuses_match_aws() {
        assert_eq!(S3ErrorCode::SignatureDoesNotMatch.status(), 403);
        assert_eq!(S3ErrorCode::XAmzContentSHA256Mismatch.status(), 400);
        assert_eq!(S3ErrorCode::InvalidRange.status(), 416);
        assert_eq!(S3ErrorCode::NotImplemented.status(), 501);
        assert_eq!(S3ErrorCode::MissingContentLength.status(), 411);
        assert_eq!(S3ErrorCode::BucketAlreadyOwnedByYou.status(), 409);
    }
}
