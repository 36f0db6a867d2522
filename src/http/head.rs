//! HTTP/1.1 request heads, parsed by `httparse` without copying.
//!
//! [`parse_head`] borrows every string of the [`RequestHead`] from the connection's
//! read buffer. An incomplete head is the normal state [`HeadStatus::Partial`], not
//! an error; the caller reads more bytes and calls again.
//!
//! Spec: RFC 9112 (message syntax and framing).
//!
//! # Invariants
//! - A head larger than [`MAX_HEAD_BYTES`] or with more than [`MAX_HEADERS`]
//!   headers is refused, so the head buffer is bounded.
//! - Framing is unambiguous: `Transfer-Encoding` together with `Content-Length`,
//!   conflicting `Content-Length` values, or a transfer coding other than
//!   `chunked` are refused (request smuggling defence, RFC 9112 §6.3).
//! - Every line of a head ends in CRLF; a bare LF is refused (RFC 9112 §2.2
//!   allows a server to accept it, but two parsers that disagree on line ends
//!   are how requests get smuggled past a front proxy).
//! - An HTTP/1.1 request has exactly one `Host` header; an HTTP/1.0 request
//!   at most one (RFC 9112 §3.2: otherwise 400).

use std::mem::MaybeUninit;

use super::limits::{MAX_HEAD_BYTES, MAX_HEADERS};
use super::name::eq_ignore_case;

/// Request methods sluice routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
    Options,
    Other,
}

impl Method {
    /// The method's name (`OTHER` for methods sluice does not know).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }

    fn from_bytes(s: &str) -> Method {
        match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

/// How the request body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// `Content-Length: n` (0 when the request has neither header).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Why a head was refused. Each maps to a 400 S3 error and closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// The head is larger than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADERS`] headers.
    TooLarge,
    /// httparse refused the syntax.
    Malformed,
    /// Only HTTP/1.0 and HTTP/1.1 are spoken.
    BadVersion,
    /// A Content-Length that is not a number, or several that disagree.
    BadContentLength,
    /// A transfer coding other than `chunked`, or both Transfer-Encoding and Content-Length.
    BadTransferEncoding,
    /// No `Host` header on HTTP/1.1, or more than one.
    BadHost,
    /// A line of the head ends in a bare LF instead of CRLF.
    BareLf,
}

/// A parsed request head; every slice borrows from the read buffer.
#[derive(Debug)]
pub struct RequestHead<'a> {
    pub method: Method,
    /// The method as sent (needed verbatim for SigV4).
    pub method_str: &'a str,
    /// The raw request target path, still percent-encoded, always starting with `/`.
    pub path: &'a str,
    /// The raw query string without the `?` (empty when absent).
    pub query: &'a str,
    pub headers: &'a [httparse::Header<'a>],
    pub framing: BodyFraming,
    pub expect_continue: bool,
    /// Whether the client allows the connection to be reused after this request.
    pub keep_alive: bool,
}

/// The result of one parse attempt.
#[derive(Debug)]
pub enum HeadStatus<'a> {
    /// The head is complete; the body starts at byte `head_len` of the buffer.
    Complete { head: RequestHead<'a>, head_len: usize },
    /// More bytes are needed.
    Partial,
}

impl<'a> RequestHead<'a> {
    /// The first value of header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        find_header(self.headers, name)
    }

    /// The first value of header `name` if it is valid UTF-8, trimmed.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok()).map(str::trim)
    }

    /// The body length when it is known up front.
    pub fn content_length(&self) -> Option<u64> {
        match self.framing {
            BodyFraming::Length(n) => Some(n),
            BodyFraming::Chunked => None,
        }
    }
}

/// The first value of header `name` in `headers` (ASCII case-insensitive).
pub fn find_header<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers.iter().find(|h| eq_ignore_case(h.name.as_bytes(), name.as_bytes())).map(|h| h.value)
}

/// Storage for the headers of one head; uninitialised, so creating it costs nothing.
pub type HeaderStorage<'a> = [MaybeUninit<httparse::Header<'a>>; MAX_HEADERS];

/// Fresh header storage for [`parse_head`].
pub fn header_storage<'a>() -> HeaderStorage<'a> {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// Parses the head at the start of `buf`. `headers` is caller-provided storage
/// (see [`header_storage`]); at most [`MAX_HEADERS`] of it is used.
pub fn parse_head<'a>(
    buf: &'a [u8],
    headers: &'a mut [MaybeUninit<httparse::Header<'a>>],
) -> Result<HeadStatus<'a>, HeadError> {
    let storage_len = headers.len().min(MAX_HEADERS);
    let mut req = httparse::Request::new(&mut []);
    let status = match req.parse_with_uninit_headers(buf, &mut headers[..storage_len]) {
        Ok(s) => s,
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Malformed),
    };
    let head_len = match status {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial if buf.len() >= MAX_HEAD_BYTES => return Err(HeadError::TooLarge),
        httparse::Status::Partial => return Ok(HeadStatus::Partial),
    };
    if head_len > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    if has_bare_lf(&buf[..head_len]) {
        return Err(HeadError::BareLf);
    }
    let (Some(method_str), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HeadError::Malformed);
    };
    let headers: &'a [httparse::Header<'a>] = req.headers;
    let (path, query) = split_target(target)?;

    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut saw_te = false;
    let mut expect_continue = false;
    let mut conn_close = false;
    let mut conn_keep_alive = false;
    let mut hosts = 0u32;
    for h in headers {
        let name = h.name;
        // Only five names matter for framing; their lengths tell them apart
        // cheaply before any case-insensitive comparison.
        if !matches!(name.len(), 4 | 6 | 10 | 14 | 17) {
            continue;
        }
        if name.len() == 4 {
            hosts += u32::from(name.eq_ignore_ascii_case("host"));
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = parse_content_length(h.value).ok_or(HeadError::BadContentLength)?;
            if content_length.is_some_and(|prev| prev != n) {
                return Err(HeadError::BadContentLength);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            saw_te = true;
            // The final coding must be chunked; sluice decodes no other coding.
            let value = std::str::from_utf8(h.value).map_err(|_| HeadError::BadTransferEncoding)?;
            let mut codings = value.split(',').map(str::trim).filter(|c| !c.is_empty());
            chunked = match (codings.next(), codings.next()) {
                (Some(c), None) if c.eq_ignore_ascii_case("chunked") => true,
                _ => return Err(HeadError::BadTransferEncoding),
            };
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue = trim_ascii(h.value).eq_ignore_ascii_case(b"100-continue");
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = trim_ascii(token);
                conn_close |= token.eq_ignore_ascii_case(b"close");
                conn_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    if saw_te && content_length.is_some() {
        return Err(HeadError::BadTransferEncoding);
    }
    let framing =
        if chunked { BodyFraming::Chunked } else { BodyFraming::Length(content_length.unwrap_or(0)) };
    if hosts > 1 || (version == 1 && hosts == 0) {
        return Err(HeadError::BadHost);
    }
    let keep_alive = match version {
        1 => !conn_close,
        0 => conn_keep_alive && !conn_close,
        _ => return Err(HeadError::BadVersion),
    };
    let head = RequestHead {
        method: Method::from_bytes(method_str),
        method_str,
        path,
        query,
        headers,
        framing,
        expect_continue,
        keep_alive,
    };
    Ok(HeadStatus::Complete { head, head_len })
}

/// Whether some LF in `head` is not preceded by CR.
fn has_bare_lf(head: &[u8]) -> bool {
    memchr::memchr_iter(b'\n', head).any(|i| i == 0 || head[i - 1] != b'\r')
}

/// Splits an origin-form or absolute-form target into (path, query).
fn split_target(target: &str) -> Result<(&str, &str), HeadError> {
    let origin = if target.starts_with('/') {
        target
    } else if let Some(rest) = target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) {
        // absolute-form: drop the authority; Host still names the server.
        match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
            _ => return Err(HeadError::Malformed),
        }
    } else {
        return Err(HeadError::Malformed);
    };
    Ok(match origin.split_once('?') {
        Some((p, q)) => (p, q),
        None => (origin, ""),
    })
}

fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = trim_ascii(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn trim_ascii(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUT: &[u8] = b"PUT /bucket/some/key.bin?x-id=PutObject HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\
User-Agent: aws-cli/1.45.11\r\n\
Content-Length: 1048576\r\n\
Expect: 100-continue\r\n\
x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\
x-amz-date: 20261129T031500Z\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=AK/20261129/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0000\r\n\
\r\n";

    /// (method, path, query, framing, expect-continue, keep-alive, head length)
    type Parsed = (Method, String, String, BodyFraming, bool, bool, usize);

    fn parse(buf: &[u8]) -> Result<Option<Parsed>, HeadError> {
        let mut storage = header_storage();
        Ok(match parse_head(buf, &mut storage)? {
            HeadStatus::Partial => None,
            HeadStatus::Complete { head, head_len } => Some((
                head.method,
                head.path.to_string(),
                head.query.to_string(),
                head.framing,
                head.expect_continue,
                head.keep_alive,
                head_len,
            )),
        })
    }

    #[test]
    fn every_split_point_is_partial_until_complete() {
        for split in 0..PUT.len() {
            assert!(parse(&PUT[..split]).unwrap().is_none(), "split at {split} must be partial");
        }
        let (method, path, query, framing, expect, keep_alive, len) = parse(PUT).unwrap().unwrap();
        assert_eq!(method, Method::Put);
        assert_eq!(path, "/bucket/some/key.bin");
        assert_eq!(query, "x-id=PutObject");
        assert_eq!(framing, BodyFraming::Length(1_048_576));
        assert!(expect);
        assert!(keep_alive);
        assert_eq!(len, PUT.len());
    }

    #[test]
    fn body_bytes_after_head_are_not_part_of_it() {
        let mut buf = PUT.to_vec();
        buf.extend_from_slice(b"BODYBYTES");
        let (.., len) = parse(&buf).unwrap().unwrap();
        assert_eq!(len, PUT.len());
    }

    #[test]
    fn framing_conflicts_are_refused() {
        let both = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse(both).unwrap_err(), HeadError::BadTransferEncoding);
        let two = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(parse(two).unwrap_err(), HeadError::BadContentLength);
        let same = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(parse(same).unwrap().unwrap().3, BodyFraming::Length(3));
        let neg = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(parse(neg).unwrap_err(), HeadError::BadContentLength);
        let gzip = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(parse(gzip).unwrap_err(), HeadError::BadTransferEncoding);
        let chunked = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n";
        assert_eq!(parse(chunked).unwrap().unwrap().3, BodyFraming::Chunked);
    }

    #[test]
    fn keep_alive_follows_version_and_connection() {
        let h10 = b"GET / HTTP/1.0\r\n\r\n";
        assert!(!parse(h10).unwrap().unwrap().5);
        let h10ka = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        assert!(parse(h10ka).unwrap().unwrap().5);
        let close = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        assert!(!parse(close).unwrap().unwrap().5);
    }

    #[test]
    fn absolute_form_and_bad_targets() {
        let abs = b"GET http://h:9000/b/k?acl HTTP/1.1\r\nHost: h\r\n\r\n";
        let (_, path, query, ..) = parse(abs).unwrap().unwrap();
        assert_eq!((path.as_str(), query.as_str()), ("/b/k", "acl"));
        assert_eq!(parse(b"GET * HTTP/1.1\r\nHost: h\r\n\r\n").unwrap_err(), HeadError::Malformed);
        assert_eq!(parse(b"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n").unwrap_err(), HeadError::Malformed);
    }

    #[test]
    fn exactly_one_host_on_http11() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err(), HeadError::BadHost);
        let two = b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhOsT: b\r\n\r\n";
        assert_eq!(parse(two).unwrap_err(), HeadError::BadHost);
        assert!(parse(b"GET / HTTP/1.1\r\nHOST: a\r\n\r\n").unwrap().is_some());
        // HTTP/1.0 may omit it, but not repeat it.
        assert!(parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().is_some());
        let two10 = b"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n";
        assert_eq!(parse(two10).unwrap_err(), HeadError::BadHost);
        // Names of the same length are not hosts.
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\nHosT-: b\r\nhose: c\r\n\r\n").unwrap().is_some());
    }

    #[test]
    fn bare_lf_line_ends_are_refused() {
        for input in [
            &b"GET / HTTP/1.1\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\n",
            b"GET / HTTP/1.1\nHost: a\n\n",
        ] {
            assert_eq!(parse(input).unwrap_err(), HeadError::BareLf, "{input:?}");
        }
    }

    #[test]
    fn oversized_heads_are_refused() {
        let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        big.resize(MAX_HEAD_BYTES + 10, b'a');
        assert_eq!(parse(&big).unwrap_err(), HeadError::TooLarge);
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many).unwrap_err(), HeadError::TooLarge);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for input in [&b"\x00\x01\x02\r\n\r\n"[..], b"GET / HTTP/9.9\r\n\r\n", b"G\xffT / HTTP/1.1\r\n\r\n"] {
            assert!(parse(input).is_err(), "{input:?}");
        }
    }
}
