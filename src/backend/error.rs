//! Backend failures: where they came from, whether failover or another try
//! can help, and the S3 error the client sees.
//!
//! # Security
//! A [`BackendError`] holds no hostnames, addresses, credentials or backend
//! error text, so neither logs nor clients can learn them from it.

use std::io;

use crate::error::{S3Error, S3ErrorCode};

/// A failed backend operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// No connection could be made; nothing was sent.
    Unreachable,
    /// The backend did not answer within the I/O timeout.
    Timeout,
    /// The connection broke during the exchange.
    Io,
    /// The backend's answer could not be parsed.
    Protocol,
    /// The backend answered with an error status (and maybe an S3 error code).
    Status { status: u16, code: Option<S3ErrorCode> },
    /// The client's side failed (body verification, client I/O): not the backend's fault.
    Source(S3Error),
    /// Local storage (the `file://` backend) failed.
    Storage(io::ErrorKind),
}

impl BackendError {
    /// Whether a read should be retried on the next replica: the backend is
    /// unreachable, broken, or answered 5xx.
    pub fn is_failover(&self) -> bool {
        match self {
            BackendError::Unreachable | BackendError::Timeout | BackendError::Io | BackendError::Protocol => {
                true
            }
            BackendError::Status { status, .. } => *status >= 500,
            BackendError::Storage(_) => true,
            BackendError::Source(_) => false,
        }
    }

    /// Whether asking the same backend again soon may succeed: it answered
    /// 500, 502, 503 or 504, or the connection broke mid-exchange. A timeout
    /// is not (another try would wait as long again), nor is an unreachable
    /// backend, an answer that did not parse or a local storage fault.
    pub fn is_transient(&self) -> bool {
        match self {
            BackendError::Status { status, .. } => is_unavailable_status(*status),
            BackendError::Io => true,
            BackendError::Unreachable
            | BackendError::Timeout
            | BackendError::Protocol
            | BackendError::Source(_)
            | BackendError::Storage(_) => false,
        }
    }

    /// Whether this says the backend itself is unreachable or not answering:
    /// no connection, a timeout, or a connection that broke mid-exchange.
    /// Only these (and failed health checks) count toward marking a backend
    /// down. An error status is the backend's answer about one object (s3s-fs
    /// answers 500 for keys its file system cannot hold): it goes back to the
    /// client, and must not let one tenant's keys take a backend down for all.
    pub fn is_connection_failure(&self) -> bool {
        matches!(self, BackendError::Unreachable | BackendError::Timeout | BackendError::Io)
    }

    /// Whether the backend said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BackendError::Status { status: 404, code: None | Some(S3ErrorCode::NoSuchKey) })
    }

    /// Whether this is worth a log line (a backend or storage fault rather than a
    /// normal answer such as NoSuchKey).
    pub fn is_fault(&self) -> bool {
        match self {
            BackendError::Status { status, code } => {
                *status >= 500 || code_for_client(*status, *code).is_none()
            }
            BackendError::Source(_) => false,
            _ => true,
        }
    }
}

impl From<io::Error> for BackendError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::TimedOut => BackendError::Timeout,
            _ => BackendError::Io,
        }
    }
}

/// Whether an HTTP status says the server is there but cannot serve now
/// (500, 502, 503, 504). 501 and 505 say it never will, so they are not.
pub fn is_unavailable_status(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// The codes a backend may answer that mean the same to the client; anything
/// else is sluice's problem (for example a backend refusing sluice's own
/// credentials) and becomes InternalError.
fn code_for_client(status: u16, code: Option<S3ErrorCode>) -> Option<S3ErrorCode> {
    use S3ErrorCode::*;
    match (status, code) {
        (
            _,
            Some(
                c @ (NoSuchKey | InvalidRange | PreconditionFailed | NotModified | BadDigest | InvalidDigest
                | EntityTooLarge | KeyTooLongError | BucketNotEmpty | SlowDown | InvalidArgument),
            ),
        ) => Some(c),
        (304, _) => Some(NotModified),
        (404, None) => Some(NoSuchKey),
        (412, _) => Some(PreconditionFailed),
        (416, _) => Some(InvalidRange),
        (503, _) => Some(ServiceUnavailable),
        _ => None,
    }
}

impl From<BackendError> for S3Error {
    fn from(e: BackendError) -> S3Error {
        match e {
            BackendError::Unreachable | BackendError::Timeout | BackendError::Io | BackendError::Protocol => {
                S3Error::with_message(S3ErrorCode::ServiceUnavailable, "A storage backend is unavailable.")
            }
            BackendError::Status { status, code } => match code_for_client(status, code) {
                Some(c) => S3Error::new(c),
                None => S3Error::new(S3ErrorCode::InternalError),
            },
            BackendError::Source(e) => e,
            BackendError::Storage(_) => S3Error::new(S3ErrorCode::InternalError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        let nsk = BackendError::Status { status: 404, code: Some(S3ErrorCode::NoSuchKey) };
        assert_eq!(S3Error::from(nsk.clone()).code, S3ErrorCode::NoSuchKey);
        assert!(!nsk.is_failover() && nsk.is_not_found() && !nsk.is_fault());
        let denied = BackendError::Status { status: 403, code: Some(S3ErrorCode::AccessDenied) };
        assert_eq!(
            S3Error::from(denied.clone()).code,
            S3ErrorCode::InternalError,
            "backend creds are our problem"
        );
        assert!(denied.is_fault());
        let boom = BackendError::Status { status: 500, code: None };
        assert!(boom.is_failover());
        assert_eq!(S3Error::from(BackendError::Unreachable).code, S3ErrorCode::ServiceUnavailable);
        assert_eq!(
            S3Error::from(BackendError::Status { status: 404, code: None }).code,
            S3ErrorCode::NoSuchKey
        );
        for status in [500, 502, 503, 504] {
            assert!(BackendError::Status { status, code: None }.is_transient(), "{status}");
        }
        for status in [501, 505, 404, 403] {
            assert!(!BackendError::Status { status, code: None }.is_transient(), "{status}");
        }
        assert!(BackendError::Io.is_transient());
        for e in [
            BackendError::Timeout,
            BackendError::Unreachable,
            BackendError::Protocol,
            BackendError::Storage(io::ErrorKind::NotFound),
        ] {
            assert!(!e.is_transient(), "{e:?}");
        }
        let src = BackendError::Source(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
        assert!(!src.is_transient());
        assert!(!src.is_failover());
        assert_eq!(S3Error::from(src).code, S3ErrorCode::XAmzContentSHA256Mismatch);
    }
}
