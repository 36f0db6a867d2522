//! Conditional requests, evaluated by sluice itself, never left to a backend:
//! - reads (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//!   `If-Unmodified-Since`) on the object's ETag and Last-Modified;
//! - writes (`If-None-Match: *`, `If-Match: <etag>` on PutObject and
//!   CompleteMultipartUpload): checked against the current object while a
//!   cross-core lock on the key keeps other conditional writes out (a second
//!   one gets 409 ConditionalRequestConflict, as in AWS), and forwarded to S3
//!   backends as well.
//!
//! Spec: RFC 9110 §13.2.2 and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>: when
//! If-Match holds, If-Unmodified-Since is ignored; when If-None-Match is
//! present, If-Modified-Since is ignored.

use crate::error::{S3Error, S3ErrorCode};
use crate::http::RequestHead;
use crate::http::date::parse_http_date;

/// Whether `etag` is in the comma-separated `list` (`*` matches any).
pub fn etag_matches(list: &str, etag: Option<&str>) -> bool {
    let Some(etag) = etag else { return false };
    let norm = |s: &str| s.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let want = norm(etag);
    list.split(',').any(|e| e.trim() == "*" || norm(e) == want)
}

/// Checks the preconditions of a read against the object's ETag and
/// Last-Modified (unix seconds). `Err` is 412 PreconditionFailed or 304 NotModified.
pub fn check_read(
    head: &RequestHead<'_>,
    etag: Option<&str>,
    last_modified: Option<i64>,
) -> Result<(), S3Error> {
    check(head, READ_HEADERS, S3ErrorCode::NotModified, etag, last_modified)
}

/// Checks the `x-amz-copy-source-if-*` preconditions of a copy against the
/// source object. Every failure is 412 PreconditionFailed, as in AWS.
pub fn check_copy_source(
    head: &RequestHead<'_>,
    etag: Option<&str>,
    last_modified: Option<i64>,
) -> Result<(), S3Error> {
    check(head, COPY_HEADERS, S3ErrorCode::PreconditionFailed, etag, last_modified)
}

/// If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
const READ_HEADERS: [&str; 4] = ["if-match", "if-unmodified-since", "if-none-match", "if-modified-since"];
const COPY_HEADERS: [&str; 4] = [
    "x-amz-copy-source-if-match",
    "x-amz-copy-source-if-unmodified-since",
    "x-amz-copy-source-if-none-match",
    "x-amz-copy-source-if-modified-since",
];

fn check(
    head: &RequestHead<'_>,
    [if_match, if_unmodified, if_none_match, if_modified]: [&str; 4],
    not_modified: S3ErrorCode,
    etag: Option<&str>,
    last_modified: Option<i64>,
) -> Result<(), S3Error> {
    if let Some(list) = head.header_str(if_match) {
        if !etag_matches(list, etag) {
            return Err(S3Error::new(S3ErrorCode::PreconditionFailed));
        }
    } else if let (Some(since), Some(lm)) =
        (head.header_str(if_unmodified).and_then(parse_http_date), last_modified)
        && lm > since
    {
        return Err(S3Error::new(S3ErrorCode::PreconditionFailed));
    }
    if let Some(list) = head.header_str(if_none_match) {
        if etag_matches(list, etag) {
            return Err(S3Error::new(not_modified));
        }
    } else if let (Some(since), Some(lm)) =
        (head.header_str(if_modified).and_then(parse_http_date), last_modified)
        && lm <= since
    {
        return Err(S3Error::new(not_modified));
    }
    Ok(())
}

/// The precondition of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// `If-None-Match: *`: only if the key does not exist.
    Absent,
    /// `If-Match: <etag>`: only if the key exists with this ETag.
    Matches(String),
}

impl WriteCondition {
    /// The condition of a write request, if any.
    pub fn from_request(head: &RequestHead<'_>) -> Result<Option<WriteCondition>, S3Error> {
        match (head.header_str("if-none-match"), head.header_str("if-match")) {
            (Some(_), Some(_)) => Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "If-Match and If-None-Match together are not implemented for writes.",
            )),
            (Some("*"), None) => Ok(Some(WriteCondition::Absent)),
            (Some(_), None) => Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "If-None-Match on writes only supports \"*\".",
            )),
            (None, Some(etag)) => Ok(Some(WriteCondition::Matches(etag.to_string()))),
            (None, None) => Ok(None),
        }
    }

    /// Checks the condition against the current object (`None`: absent).
    pub fn check(&self, current_etag: Option<&str>) -> Result<(), S3Error> {
        match (self, current_etag) {
            (WriteCondition::Absent, None) => Ok(()),
            (WriteCondition::Absent, Some(_)) => Err(S3Error::new(S3ErrorCode::PreconditionFailed)),
            (WriteCondition::Matches(_), None) => Err(S3Error::new(S3ErrorCode::NoSuchKey)),
            (WriteCondition::Matches(want), Some(etag)) if etag_matches(want, Some(etag)) => Ok(()),
            (WriteCondition::Matches(_), Some(_)) => Err(S3Error::new(S3ErrorCode::PreconditionFailed)),
        }
    }
}

/// Holds the cross-core lock of one key for a conditional write.
pub struct ConditionalLock<'a> {
    set: &'a std::sync::Mutex<std::collections::HashSet<(u128, String)>>,
    entry: Option<(u128, String)>,
}

impl<'a> ConditionalLock<'a> {
    /// Takes the lock, or answers ConditionalRequestConflict when another
    /// conditional write of the same key is in flight.
    pub fn acquire(
        set: &'a std::sync::Mutex<std::collections::HashSet<(u128, String)>>,
        bucket_id: u128,
        key: &str,
    ) -> Result<Self, S3Error> {
        let entry = (bucket_id, key.to_string());
        if !set.lock().unwrap_or_else(|e| e.into_inner()).insert(entry.clone()) {
            return Err(S3Error::new(S3ErrorCode::ConditionalRequestConflict));
        }
        Ok(ConditionalLock { set, entry: Some(entry) })
    }
}

impl Drop for ConditionalLock<'_> {
    fn drop(&mut self) {
        if let Some(e) = self.entry.take() {
            self.set.lock().unwrap_or_else(|p| p.into_inner()).remove(&e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(headers: &str) -> Option<S3ErrorCode> {
        let raw = format!("GET /b/k HTTP/1.1\r\nHost: h\r\n{headers}\r\n");
        let mut storage = crate::http::header_storage();
        let crate::http::HeadStatus::Complete { head, .. } =
            crate::http::parse_head(raw.as_bytes(), &mut storage).unwrap()
        else {
            panic!("complete head expected")
        };
        // Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT
        check_read(&head, Some("\"abc\""), Some(784111777)).err().map(|e| e.code)
    }

    #[test]
    fn write_conditions() {
        assert!(WriteCondition::Absent.check(None).is_ok());
        assert_eq!(
            WriteCondition::Absent.check(Some("\"a\"")).unwrap_err().code,
            S3ErrorCode::PreconditionFailed
        );
        let m = WriteCondition::Matches("\"a\"".into());
        assert!(m.check(Some("\"a\"")).is_ok());
        assert_eq!(m.check(Some("\"b\"")).unwrap_err().code, S3ErrorCode::PreconditionFailed);
        assert_eq!(m.check(None).unwrap_err().code, S3ErrorCode::NoSuchKey);
        let set = Default::default();
        let lock = ConditionalLock::acquire(&set, 1, "k").unwrap();
        assert_eq!(
            ConditionalLock::acquire(&set, 1, "k").err().unwrap().code,
            S3ErrorCode::ConditionalRequestConflict
        );
        assert!(ConditionalLock::acquire(&set, 2, "k").is_ok());
        drop(lock);
        assert!(ConditionalLock::acquire(&set, 1, "k").is_ok());
    }

    #[test]
    fn rfc_order() {
        assert_eq!(check(""), None);
        assert_eq!(check("If-Match: \"abc\"\r\n"), None);
        assert_eq!(check("If-Match: abc, \"x\"\r\n"), None);
        assert_eq!(check("If-Match: *\r\n"), None);
        assert_eq!(check("If-Match: \"x\"\r\n"), Some(S3ErrorCode::PreconditionFailed));
        assert_eq!(check("If-None-Match: \"abc\"\r\n"), Some(S3ErrorCode::NotModified));
        assert_eq!(check("If-None-Match: \"x\"\r\n"), None);
        assert_eq!(
            check("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
            Some(S3ErrorCode::NotModified)
        );
        assert_eq!(check("If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"), None);
        assert_eq!(
            check("If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"),
            Some(S3ErrorCode::PreconditionFailed)
        );
        // If-Match true wins over If-Unmodified-Since false.
        assert_eq!(
            check("If-Match: \"abc\"\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"),
            None
        );
        // If-None-Match false + If-Modified-Since true: If-Modified-Since is ignored -> 200.
        assert_eq!(
            check("If-None-Match: \"x\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
            None
        );
    }
}
