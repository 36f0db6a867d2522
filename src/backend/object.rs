//! The backend-neutral shapes of object requests and responses.
//!
//! Headers travel as raw `Name: value` lines so that a backend's answer can be
//! forwarded to the client with one copy and no per-header allocation.

use super::body::ObjectBody;

/// Request headers a PUT stores with the object (and S3 returns on GET/HEAD).
pub const STORED_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// Whether a request header is stored with the object.
pub fn is_stored_header(name: &str) -> bool {
    STORED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) || is_user_metadata(name)
}

/// Whether `name` is an `x-amz-meta-*` header.
pub fn is_user_metadata(name: &str) -> bool {
    name.len() > 11 && name[..11].eq_ignore_ascii_case("x-amz-meta-")
}

/// Response headers forwarded from a backend's GET/HEAD answer to the client.
/// Everything else (server names, backend request ids, storage classes) is dropped.
pub fn is_forwarded_response_header(name: &str) -> bool {
    is_stored_header(name)
        || is_checksum_header(name)
        || ["etag", "last-modified", "content-range", "accept-ranges"]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
}

/// Whether `name` is `x-amz-checksum-*` (a checksum value or `x-amz-checksum-type`).
pub fn is_checksum_header(name: &str) -> bool {
    name.len() > 15
        && name[..15].eq_ignore_ascii_case("x-amz-checksum-")
        && !name.eq_ignore_ascii_case("x-amz-checksum-mode")
}

/// The stored headers among a backend answer's header lines (lowercase names).
pub fn stored_headers_from_lines(lines: &[u8]) -> Vec<(String, Vec<u8>)> {
    lines
        .split(|&c| c == b'\n')
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|&c| c == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?.trim();
            is_stored_header(name)
                .then(|| (name.to_ascii_lowercase(), line[colon + 1..].trim_ascii().to_vec()))
        })
        .collect()
}

/// A Content-Encoding value without its `aws-chunked` coding (first or last
/// in the list); `None` when nothing is left.
pub fn without_aws_chunked(value: &[u8]) -> Option<&[u8]> {
    let v = value.trim_ascii();
    let is_chunked = |c: &[u8]| c.trim_ascii().eq_ignore_ascii_case(b"aws-chunked");
    let rest = match v.iter().position(|&b| b == b',') {
        _ if is_chunked(v) => return None,
        Some(i) if is_chunked(&v[..i]) => &v[i + 1..],
        _ => match v.iter().rposition(|&b| b == b',') {
            Some(i) if is_chunked(&v[i + 1..]) => &v[..i],
            _ => v,
        },
    };
    let rest = rest.trim_ascii();
    (!rest.is_empty()).then_some(rest)
}

/// A backend's response header lines without the `aws-chunked` coding in
/// `Content-Encoding` (a backend that stores the encoding of the request
/// sluice sent it, as s3s-fs does, would otherwise hand it back).
pub fn without_aws_chunked_lines(lines: Vec<u8>) -> Vec<u8> {
    let has = lines.split(|&c| c == b'\n').any(|l| {
        l.len() > 17
            && l[..17].eq_ignore_ascii_case(b"content-encoding:")
            && without_aws_chunked(&l[17..]) != Some(l[17..].trim_ascii())
    });
    if !has {
        return lines;
    }
    let mut out = Vec::with_capacity(lines.len());
    for line in lines.split_inclusive(|&c| c == b'\n') {
        let l = line.strip_suffix(b"\n").unwrap_or(line);
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.len() >= 17 && l[..17].eq_ignore_ascii_case(b"content-encoding:") {
            if let Some(v) = without_aws_chunked(&l[17..]) {
                out.extend_from_slice(b"Content-Encoding: ");
                out.extend_from_slice(v);
                out.extend_from_slice(b"\r\n");
            }
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}

/// A PutObject as a backend sees it.
#[derive(Debug)]
pub struct PutRequest<'a> {
    /// Physical bucket name.
    pub bucket: &'a str,
    pub key: &'a str,
    /// Exact body length.
    pub content_length: u64,
    /// Stored headers (see [`is_stored_header`]) as sent by the client.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body's sha256 (hex) when the client signed it; forwarded so that an
    /// S3 backend checks it too.
    pub payload_sha256: Option<&'a str>,
    /// Request headers an S3 backend should see but that are not stored
    /// (conditions such as `If-None-Match`, checksums).
    pub forwarded: &'a [(&'a str, &'a [u8])],
    /// Set for UploadPart: the body is part `number` of this backend upload.
    pub part: Option<PartTarget<'a>>,
}

/// A part of a backend multipart upload.
#[derive(Debug, Clone, Copy)]
pub struct PartTarget<'a> {
    /// The backend's own upload id.
    pub upload_id: &'a str,
    pub number: u16,
}

/// What a server-side copy returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The quoted ETag of the new object (or part).
    pub etag: String,
    /// Unix seconds, when the backend said.
    pub last_modified: Option<i64>,
}

/// A server-side copy inside one backend.
#[derive(Debug, Clone, Copy)]
pub struct CopyRequest<'a> {
    pub src_bucket: &'a str,
    pub src_key: &'a str,
    pub dst_bucket: &'a str,
    pub dst_key: &'a str,
    /// `Some(headers)`: x-amz-metadata-directive REPLACE with these stored
    /// headers; `None`: COPY the source's.
    pub replace: Option<&'a [(&'a str, &'a [u8])]>,
    /// UploadPartCopy: copy into this part instead of an object.
    pub part: Option<PartTarget<'a>>,
    /// UploadPartCopy: the inclusive byte range of the source.
    pub range: Option<(u64, u64)>,
}

/// What a successful PUT returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The quoted ETag.
    pub etag: String,
}

/// A GetObject or HeadObject as a backend sees it.
#[derive(Debug, Clone, Copy)]
pub struct GetRequest<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// A validated single range.
    pub range: Option<ByteRange>,
    /// HEAD: no body.
    pub head_only: bool,
    /// `x-amz-checksum-mode: ENABLED`: return the stored checksum.
    pub checksum_mode: bool,
}

/// A single byte range as a client asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last` (inclusive) or `bytes=first-` (last = None).
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a `Range` header. Returns `Ok(None)` for a header that must be
    /// ignored (not `bytes=`, several ranges, bad syntax), as AWS does.
    pub fn parse(value: &str) -> Option<ByteRange> {
        let spec = value.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.trim().split_once('-')?;
        let num = |s: &str| -> Option<u64> {
            if s.is_empty() || s.len() > 19 || !s.bytes().all(|c| c.is_ascii_digit()) {
                None
            } else {
                s.parse().ok()
            }
        };
        match (a.trim(), b.trim()) {
            ("", n) => num(n).map(ByteRange::Suffix),
            (f, "") => num(f).map(|first| ByteRange::From { first, last: None }),
            (f, l) => {
                let (first, last) = (num(f)?, num(l)?);
                (first <= last).then_some(ByteRange::From { first, last: Some(last) })
            }
        }
    }

    /// The inclusive byte span within an object of `size` bytes, or None when
    /// the range is not satisfiable (416 InvalidRange).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        match self {
            ByteRange::From { first, .. } if first >= size => None,
            ByteRange::From { first, last } => Some((first, last.map_or(size - 1, |l| l.min(size - 1)))),
            ByteRange::Suffix(0) => None,
            ByteRange::Suffix(_) if size == 0 => None,
            ByteRange::Suffix(n) => Some((size.saturating_sub(n), size - 1)),
        }
    }

    /// Appends the header value form (`bytes=...`).
    pub fn write_header_value(self, out: &mut Vec<u8>) {
        use std::io::Write;
        let _ = match self {
            ByteRange::From { first, last: Some(l) } => write!(out, "bytes={first}-{l}"),
            ByteRange::From { first, last: None } => write!(out, "bytes={first}-"),
            ByteRange::Suffix(n) => write!(out, "bytes=-{n}"),
        };
    }
}

/// The head of an object response.
#[derive(Debug, Default, Clone)]
pub struct ObjectHead {
    /// 200, or 206 for a range.
    pub status: u16,
    /// Length of the body of this response.
    pub content_length: u64,
    /// The quoted ETag.
    pub etag: Option<String>,
    /// Unix seconds.
    pub last_modified: Option<i64>,
    /// Forwardable `Name: value\r\n` lines (content-type, etag, last-modified,
    /// content-range, accept-ranges, stored headers, user metadata).
    pub header_lines: Vec<u8>,
}

/// A GET/HEAD answer: the head, then the body to stream.
pub struct ObjectResponse {
    pub head: ObjectHead,
    pub body: ObjectBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_not_an_object_encoding() {
        let lines = b"Content-Type: a\r\ncontent-encoding: aws-chunked\r\nETag: \"x\"\r\n".to_vec();
        assert_eq!(without_aws_chunked_lines(lines), b"Content-Type: a\r\nETag: \"x\"\r\n".to_vec());
        let lines = b"Content-Encoding: aws-chunked,gzip\r\n".to_vec();
        assert_eq!(without_aws_chunked_lines(lines), b"Content-Encoding: gzip\r\n".to_vec());
        let lines = b"Content-Encoding: gzip\r\nX: y\r\n".to_vec();
        assert_eq!(without_aws_chunked_lines(lines.clone()), lines);
        assert_eq!(without_aws_chunked(b" gzip , aws-chunked"), Some(&b"gzip"[..]));
        assert_eq!(without_aws_chunked(b"aws-chunked"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(ByteRange::parse("bytes=0-99"), Some(ByteRange::From { first: 0, last: Some(99) }));
        assert_eq!(ByteRange::parse("bytes=5-"), Some(ByteRange::From { first: 5, last: None }));
        assert_eq!(ByteRange::parse("bytes=-10"), Some(ByteRange::Suffix(10)));
        assert_eq!(ByteRange::parse("bytes=9-3"), None);
        assert_eq!(ByteRange::parse("bytes=0-1,5-6"), None);
        assert_eq!(ByteRange::parse("items=0-1"), None);
        assert_eq!(ByteRange::parse("bytes=a-b"), None);
        let r = ByteRange::parse("bytes=0-99").unwrap();
        assert_eq!(r.resolve(50), Some((0, 49)));
        assert_eq!(r.resolve(0), None);
        assert_eq!(ByteRange::Suffix(10).resolve(4), Some((0, 3)));
        assert_eq!(ByteRange::Suffix(10).resolve(0), None);
        assert_eq!(ByteRange::From { first: 50, last: None }.resolve(50), None);
    }

    #[test]
    fn stored_headers_from_backend_lines() {
        let lines = b"Content-Type: text/plain\r\nETag: \"x\"\r\nx-amz-meta-a: 1\r\nLast-Modified: now\r\n";
        let got = stored_headers_from_lines(lines);
        assert_eq!(
            got,
            vec![
                ("content-type".to_string(), b"text/plain".to_vec()),
                ("x-amz-meta-a".to_string(), b"1".to_vec())
            ]
        );
    }

    #[test]
    fn header_classes() {
        assert!(is_stored_header("Content-Type"));
        assert!(is_stored_header("X-Amz-Meta-Color"));
        assert!(!is_stored_header("x-amz-meta-"));
        assert!(!is_stored_header("Authorization"));
        assert!(is_forwarded_response_header("ETag"));
        assert!(!is_forwarded_response_header("Server"));
        assert!(!is_forwarded_response_header("x-amz-request-id"));
        assert!(is_forwarded_response_header("x-amz-checksum-crc32"));
        assert!(is_checksum_header("X-Amz-Checksum-Type"));
        assert!(!is_checksum_header("x-amz-checksum-mode"));
    }
}
