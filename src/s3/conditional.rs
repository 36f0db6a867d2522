//! Conditional GET/HEAD (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`), evaluated by sluice on the object's ETag and
//! Last-Modified, never left to a backend.
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
    let if_match = head.header_str("if-match");
    if let Some(list) = if_match {
        if !etag_matches(list, etag) {
            return Err(S3Error::new(S3ErrorCode::PreconditionFailed));
        }
    } else if let (Some(since), Some(lm)) =
        (head.header_str("if-unmodified-since").and_then(parse_http_date), last_modified)
        && lm > since
    {
        return Err(S3Error::new(S3ErrorCode::PreconditionFailed));
    }
    if let Some(list) = head.header_str("if-none-match") {
        if etag_matches(list, etag) {
            return Err(S3Error::new(S3ErrorCode::NotModified));
        }
    } else if let (Some(since), Some(lm)) =
        (head.header_str("if-modified-since").and_then(parse_http_date), last_modified)
        && lm <= since
    {
        return Err(S3Error::new(S3ErrorCode::NotModified));
    }
    Ok(())
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
