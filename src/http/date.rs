//! The HTTP `Date` header value, formatted at most once per second per thread.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const HTTP_DATE_LEN: usize = 29;

thread_local! {
    static CACHE: Cell<(u64, [u8; HTTP_DATE_LEN])> = const { Cell::new((u64::MAX, [0; HTTP_DATE_LEN])) };
}

/// The current time as an IMF-fixdate.
pub fn http_date_now() -> [u8; HTTP_DATE_LEN] {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    CACHE.with(|c| {
        let (at, text) = c.get();
        if at == secs {
            return text;
        }
        let fresh = format_http_date(now);
        c.set((secs, fresh));
        fresh
    })
}

/// Formats `t` as an IMF-fixdate.
pub fn format_http_date(t: SystemTime) -> [u8; HTTP_DATE_LEN] {
    let s = httpdate::fmt_http_date(t);
    let mut out = [b' '; HTTP_DATE_LEN];
    let n = s.len().min(HTTP_DATE_LEN);
    out[..n].copy_from_slice(&s.as_bytes()[..n]);
    out
}

/// Formats unix seconds as an IMF-fixdate string (for `Last-Modified`).
pub fn http_date_from_unix(secs: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64))
}

/// Parses an IMF-fixdate (or the obsolete forms) to unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = http_date_from_unix(784111777);
        assert_eq!(s, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date(&s), Some(784111777));
        assert_eq!(http_date_now().len(), HTTP_DATE_LEN);
    }
}
