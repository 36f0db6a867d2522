//! Bodies that flow through a backend: the request body a PUT pulls from
//! ([`BodySource`]) and the response body a GET streams out ([`ObjectBody`]).
//!
//! # Invariants
//! - A [`BodySource`] returns its final bytes only after the whole body passed
//!   its checks (signature, sha256, checksums). A backend therefore never
//!   receives a complete body that failed them: it sees a truncated request
//!   and stores nothing.
//! - An [`ObjectBody`] hands its S3 connection back to the pool only once the
//!   response was read to the end.

use std::rc::Rc;
use std::time::Duration;

use super::error::BackendError;
use super::file::FileBody;
use super::pool::{BackendConn, ConnPool};
use super::wire::{Framing, read_body};
use crate::error::S3Error;

/// Where a PUT's bytes come from.
#[allow(async_fn_in_trait)]
pub trait BodySource {
    /// Fills `buf` (cleared first, up to its capacity) with the next bytes.
    /// `Ok(0)` means the body is complete and verified.
    async fn next(&mut self, buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>);

    /// Once the body is complete: its verified checksum as S3 stores it
    /// (`x-amz-checksum-*` header name, base64 value), if the client sent one.
    fn checksum(&self) -> Option<(&'static str, String)> {
        None
    }

    /// The checksum header whose value [`BodySource::checksum`] will only know
    /// at the end of the body (an aws-chunked trailer), if any.
    fn trailer_checksum(&self) -> Option<&'static str> {
        None
    }
}

/// A body held in memory (tests, small internal writes).
pub struct SliceSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceSource<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        SliceSource { data, pos: 0 }
    }
}

impl BodySource for SliceSource<'_> {
    async fn next(&mut self, mut buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>) {
        buf.clear();
        let n = (self.data.len() - self.pos).min(buf.capacity().max(1));
        buf.extend_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        (Ok(n), buf)
    }
}

/// The streaming body of an S3 backend's response.
pub struct S3Body {
    conn: Option<BackendConn>,
    framing: Framing,
    keep_alive: bool,
    pool: Rc<ConnPool>,
    io_timeout: Duration,
}

impl S3Body {
    pub fn new(
        conn: BackendConn,
        framing: Framing,
        keep_alive: bool,
        pool: Rc<ConnPool>,
        io_timeout: Duration,
    ) -> Self {
        let mut body = S3Body { conn: Some(conn), framing, keep_alive, pool, io_timeout };
        body.release_if_done();
        body
    }

    fn release_if_done(&mut self) {
        if self.framing.is_done()
            && self.keep_alive
            && !matches!(self.framing, Framing::UntilClose { .. })
            && let Some(conn) = self.conn.take()
        {
            self.pool.put(conn);
        }
    }

    async fn read(&mut self, buf: &mut Vec<u8>) -> Result<usize, BackendError> {
        let Some(conn) = self.conn.as_mut() else {
            buf.clear();
            return Ok(0);
        };
        let n = read_body(conn, &mut self.framing, buf, self.io_timeout).await?;
        self.release_if_done();
        Ok(n)
    }
}

/// A GET response body, streamed in pieces.
pub enum ObjectBody {
    Empty,
    S3(S3Body),
    File(FileBody),
}

impl ObjectBody {
    /// Fills `buf` (cleared first, up to its capacity). `Ok(0)` at the end.
    pub async fn read(&mut self, mut buf: Vec<u8>) -> (Result<usize, BackendError>, Vec<u8>) {
        if buf.capacity() == 0 {
            buf.reserve(crate::http::limits::BODY_CHUNK);
        }
        match self {
            ObjectBody::Empty => {
                buf.clear();
                (Ok(0), buf)
            }
            ObjectBody::S3(b) => {
                let r = b.read(&mut buf).await;
                (r, buf)
            }
            ObjectBody::File(f) => f.read(buf).await,
        }
    }
}
