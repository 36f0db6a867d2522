//! HTTP/1.1 on the backend side: reading response heads and bodies from a
//! pooled [`BackendConn`].
//!
//! # Invariants
//! - A response head is bounded by `MAX_HEAD_BYTES`; error bodies by
//!   [`MAX_ERROR_BODY`]. Object bodies are streamed, never buffered whole.
//! - Every read is bounded by the I/O timeout.

use std::time::Duration;

use monoio::buf::IoBufMut;
use monoio::io::AsyncReadRent;

use super::error::BackendError;
use super::object::is_forwarded_response_header;
use super::pool::BackendConn;
use crate::error::S3ErrorCode;
use crate::http::chunked::ChunkedDecoder;
use crate::http::date::parse_http_date;
use crate::http::limits::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_SMALL_BODY};

/// Largest backend error body read (to find its `<Code>`).
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// How a backend response body is framed.
#[derive(Debug, Clone)]
pub enum Framing {
    /// No body (HEAD, 204, 304).
    Empty,
    Length(u64),
    Chunked(ChunkedDecoder),
    /// Delimited by the backend closing the connection.
    UntilClose {
        done: bool,
    },
}

impl Framing {
    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        match self {
            Framing::Empty => true,
            Framing::Length(n) => *n == 0,
            Framing::Chunked(d) => d.is_done(),
            Framing::UntilClose { done } => *done,
        }
    }
}

/// A parsed backend response head.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: u16,
    pub framing: Framing,
    /// Whether the connection may be reused once the body is read.
    pub keep_alive: bool,
    pub content_length: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<i64>,
    /// Forwardable header lines (see `object::is_forwarded_response_header`).
    pub header_lines: Vec<u8>,
}

/// Reads the next response head from `conn`. `head_request`: the request was a
/// HEAD, so the response has no body whatever its headers say.
pub async fn read_response_head(
    conn: &mut BackendConn,
    head_request: bool,
    io_timeout: Duration,
) -> Result<ResponseHead, BackendError> {
    loop {
        if let Some(head) = try_parse(conn, head_request)? {
            if (100..200).contains(&head.status) {
                continue; // interim response (100 Continue): the final one follows
            }
            return Ok(head);
        }
        if conn.buf.len() - conn.pos >= MAX_HEAD_BYTES {
            return Err(BackendError::Protocol);
        }
        if fill(conn, io_timeout).await? == 0 {
            return Err(BackendError::Io);
        }
    }
}

/// Parses a complete head at `conn.buf[conn.pos..]`, consuming it.
fn try_parse(conn: &mut BackendConn, head_request: bool) -> Result<Option<ResponseHead>, BackendError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut storage);
    let head_len = match resp.parse(&conn.buf[conn.pos..]) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(BackendError::Protocol),
    };
    let status = resp.code.ok_or(BackendError::Protocol)?;
    let mut content_length = None;
    let mut chunked = false;
    let mut close = resp.version == Some(0);
    let mut etag = None;
    let mut last_modified = None;
    let mut header_lines = Vec::new();
    for h in resp.headers.iter() {
        let value = h.value.trim_ascii();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value).ok().and_then(|v| v.parse::<u64>().ok());
            content_length = Some(n.ok_or(BackendError::Protocol)?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case(b"chunked");
            if !chunked {
                return Err(BackendError::Protocol);
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            close |= value.eq_ignore_ascii_case(b"close");
        } else if h.name.eq_ignore_ascii_case("etag") {
            etag = std::str::from_utf8(value).ok().map(str::to_owned);
        } else if h.name.eq_ignore_ascii_case("last-modified") {
            last_modified = std::str::from_utf8(value).ok().and_then(parse_http_date);
        }
        if is_forwarded_response_header(h.name) && !value.iter().any(|&b| b == b'\r' || b == b'\n') {
            header_lines.extend_from_slice(h.name.as_bytes());
            header_lines.extend_from_slice(b": ");
            header_lines.extend_from_slice(value);
            header_lines.extend_from_slice(b"\r\n");
        }
    }
    let framing = if head_request || status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Empty
    } else if chunked {
        Framing::Chunked(ChunkedDecoder::new())
    } else if let Some(n) = content_length {
        Framing::Length(n)
    } else {
        close = true;
        Framing::UntilClose { done: false }
    };
    conn.pos += head_len;
    Ok(Some(ResponseHead {
        status,
        framing,
        keep_alive: !close,
        content_length,
        etag,
        last_modified,
        header_lines,
    }))
}

/// Reads more bytes into `conn.buf` (compacting it first). Returns the count.
async fn fill(conn: &mut BackendConn, io_timeout: Duration) -> Result<usize, BackendError> {
    if conn.pos > 0 {
        conn.buf.drain(..conn.pos);
        conn.pos = 0;
    }
    if conn.buf.capacity() - conn.buf.len() < 1024 {
        conn.buf.reserve(MAX_HEAD_BYTES);
    }
    let owned = std::mem::take(&mut conn.buf);
    let (len, cap) = (owned.len(), owned.capacity());
    match monoio::time::timeout(io_timeout, conn.stream.read(owned.slice_mut(len..cap))).await {
        Ok((res, slice)) => {
            conn.buf = slice.into_inner();
            res.map_err(|_| BackendError::Io)
        }
        Err(_) => Err(BackendError::Timeout),
    }
}

/// Reads the next piece of a response body into `out` (cleared, filled up to
/// its capacity). `Ok(0)` at the end.
pub async fn read_body(
    conn: &mut BackendConn,
    framing: &mut Framing,
    out: &mut Vec<u8>,
    io_timeout: Duration,
) -> Result<usize, BackendError> {
    out.clear();
    loop {
        match framing {
            Framing::Empty | Framing::UntilClose { done: true } => return Ok(0),
            Framing::Length(0) => return Ok(0),
            Framing::Length(left) => {
                let want = (*left).min(out.capacity() as u64) as usize;
                let buffered = conn.buffered();
                if !buffered.is_empty() {
                    let n = want.min(buffered.len());
                    out.extend_from_slice(&buffered[..n]);
                    conn.pos += n;
                    *left -= n as u64;
                    return Ok(n);
                }
                // Read straight into `out`: no copy for the bulk of the body.
                let owned = std::mem::take(out);
                let fut = conn.stream.read(owned.slice_mut(0..want));
                let n = match monoio::time::timeout(io_timeout, fut).await {
                    Ok((res, slice)) => {
                        *out = slice.into_inner();
                        res.map_err(|_| BackendError::Io)?
                    }
                    Err(_) => return Err(BackendError::Timeout),
                };
                if n == 0 {
                    return Err(BackendError::Io);
                }
                *left -= n as u64;
                return Ok(n);
            }
            Framing::Chunked(decoder) => {
                if decoder.is_done() {
                    return Ok(0);
                }
                if !conn.buffered().is_empty() {
                    let used = decoder.decode(conn.buffered(), out).map_err(|_| BackendError::Protocol)?;
                    conn.pos += used;
                    if !out.is_empty() {
                        return Ok(out.len());
                    }
                    continue;
                }
                if fill(conn, io_timeout).await? == 0 {
                    return Err(BackendError::Io);
                }
            }
            Framing::UntilClose { done } => {
                if !conn.buffered().is_empty() {
                    let n = out.capacity().min(conn.buffered().len());
                    out.extend_from_slice(&conn.buffered()[..n]);
                    conn.pos += n;
                    return Ok(n);
                }
                if fill(conn, io_timeout).await? == 0 {
                    *done = true;
                    return Ok(0);
                }
            }
        }
    }
}

/// Reads a whole (small) body, refusing more than `limit` bytes.
pub async fn read_body_to_vec(
    conn: &mut BackendConn,
    framing: &mut Framing,
    limit: usize,
    io_timeout: Duration,
) -> Result<Vec<u8>, BackendError> {
    if let Framing::Length(n) = framing
        && *n > limit as u64
    {
        return Err(BackendError::Protocol);
    }
    let mut all = Vec::new();
    let mut chunk = Vec::with_capacity(limit.clamp(1, MAX_SMALL_BODY).min(64 * 1024));
    loop {
        let n = read_body(conn, framing, &mut chunk, io_timeout).await?;
        if n == 0 {
            return Ok(all);
        }
        if all.len() + n > limit {
            return Err(BackendError::Protocol);
        }
        all.extend_from_slice(&chunk);
    }
}

/// The `<Code>` of an S3 error document, when sluice knows the code.
pub fn error_code(body: &[u8]) -> Option<S3ErrorCode> {
    let start = memchr::memmem::find(body, b"<Code>")? + 6;
    let len = memchr::memmem::find(&body[start..], b"</Code>")?;
    S3ErrorCode::from_code(std::str::from_utf8(&body[start..start + len]).ok()?.trim())
}

/// Reads the error body of a non-2xx response and turns it into a
/// [`BackendError::Status`].
pub async fn read_error(
    conn: &mut BackendConn,
    head: &mut ResponseHead,
    io_timeout: Duration,
) -> BackendError {
    let code = match read_body_to_vec(conn, &mut head.framing, MAX_ERROR_BODY, io_timeout).await {
        Ok(body) => error_code(&body),
        Err(_) => None,
    };
    BackendError::Status { status: head.status, code }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_error_codes() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>x</Message></Error>";
        assert_eq!(error_code(body), Some(S3ErrorCode::NoSuchKey));
        assert_eq!(error_code(b"<Error><Code>Weird</Code></Error>"), None);
        assert_eq!(error_code(b"garbage"), None);
    }
}
