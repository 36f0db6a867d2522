//! The per-connection loop: read a head, hand the request to a [`Handler`],
//! keep the connection alive or close it.
//!
//! An [`Exchange`] is one request/response on the connection. It gives the
//! handler the request body (bytes already buffered after the head first, then
//! the socket; chunked bodies decoded; `100 Continue` sent before the first body
//! read when the client asked for it) and writes the response.
//!
//! # Invariants
//! - Memory per connection: the head buffer ([`MAX_HEAD_BYTES`]) plus what the
//!   handler streams with (bounded by `BODY_CHUNK` buffers).
//! - Every read and write is bounded by a timeout: head, idle, or I/O.
//! - A malformed head is answered with a 400 S3 error and the connection closes.
//! - A request whose body the handler did not read is drained (up to
//!   [`MAX_DRAIN_BYTES`]) so the connection can be reused, or the connection closes.

use std::io;
use std::time::{Duration, Instant};

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt};

use super::chunked::{ChunkedDecoder, ChunkedError};
use super::head::{BodyFraming, HeadError, HeadStatus, RequestHead, header_storage, parse_head};
use super::limits::{BODY_CHUNK, MAX_DRAIN_BYTES, MAX_HEAD_BYTES};
use super::stream::{ClientIdentity, ClientStream};
use crate::error::{S3Error, S3ErrorCode};
use crate::runtime::shutdown::{Either, ShutdownSignal, race};

/// Timeouts of a connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From the first byte of a head to its end.
    pub head_timeout: Duration,
    /// Between requests on a keep-alive connection.
    pub idle_timeout: Duration,
    /// For any single body read or response write.
    pub io_timeout: Duration,
}

/// Serves requests. monoio futures are not `Send`, and neither are these.
#[allow(async_fn_in_trait)]
pub trait Handler {
    /// Serves one request and writes its whole response through `ex`.
    async fn handle(&self, head: &RequestHead<'_>, ex: &mut Exchange<'_>) -> io::Result<()>;
    /// Answers a request whose head was refused (`code` says why).
    async fn reject(&self, code: S3ErrorCode, ex: &mut Exchange<'_>) -> io::Result<()>;
}

/// Why reading a request body failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// The socket failed or the client went away.
    Io,
    /// The client stopped sending for longer than the I/O timeout.
    Timeout,
    /// The connection ended before the declared length.
    Incomplete,
    /// The chunked framing is malformed.
    Chunked(ChunkedError),
    /// The body is larger than the caller accepts.
    TooLarge,
}

impl From<BodyError> for S3Error {
    fn from(e: BodyError) -> S3Error {
        match e {
            BodyError::Io | BodyError::Incomplete => S3Error::new(S3ErrorCode::IncompleteBody),
            BodyError::Timeout => S3Error::new(S3ErrorCode::RequestTimeout),
            BodyError::Chunked(_) => {
                S3Error::with_message(S3ErrorCode::BadRequest, "The chunked request body is malformed.")
            }
            BodyError::TooLarge => {
                S3Error::with_message(S3ErrorCode::EntityTooLarge, "The request body is larger than allowed.")
            }
        }
    }
}

enum BodyState {
    Length { remaining: u64 },
    Chunked { decoder: ChunkedDecoder, raw: Vec<u8>, pos: usize },
}

/// One request/response exchange on a connection.
pub struct Exchange<'c> {
    stream: &'c mut ClientStream,
    /// The verified client certificate of a TLS connection, if any.
    peer: Option<&'c ClientIdentity>,
    shutdown: Option<&'c ShutdownSignal>,
    leftover: &'c [u8],
    leftover_used: usize,
    body: BodyState,
    continue_pending: bool,
    io_timeout: Duration,
    keep_alive: bool,
    response_started: bool,
    /// Raw bytes read past the end of a chunked body (the next request).
    carry: Vec<u8>,
    /// Body bytes received (decoded) and response bytes sent.
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl<'c> Exchange<'c> {
    fn new(
        stream: &'c mut ClientStream,
        leftover: &'c [u8],
        framing: BodyFraming,
        expect_continue: bool,
        keep_alive: bool,
        io_timeout: Duration,
    ) -> Self {
        let body = match framing {
            BodyFraming::Length(n) => BodyState::Length { remaining: n },
            BodyFraming::Chunked => BodyState::Chunked {
                decoder: ChunkedDecoder::new(),
                raw: Vec::with_capacity(BODY_CHUNK),
                pos: 0,
            },
        };
        Exchange {
            stream,
            peer: None,
            shutdown: None,
            leftover,
            leftover_used: 0,
            body,
            continue_pending: expect_continue,
            io_timeout,
            keep_alive,
            response_started: false,
            carry: Vec::new(),
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Whether the connection stays open after this exchange (never once the
    /// worker is shutting down).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive && !self.shutdown.is_some_and(ShutdownSignal::is_triggered)
    }

    /// Closes the connection after the response.
    pub fn set_close(&mut self) {
        self.keep_alive = false;
    }

    /// Whether any response bytes were written.
    /// The verified client certificate of a TLS connection, if any.
    pub fn peer(&self) -> Option<&ClientIdentity> {
        self.peer
    }

    pub fn response_started(&self) -> bool {
        self.response_started
    }

    /// Whether the whole request body has been read.
    pub fn body_done(&self) -> bool {
        match &self.body {
            BodyState::Length { remaining } => *remaining == 0,
            BodyState::Chunked { decoder, .. } => decoder.is_done(),
        }
    }

    /// Whether what is left of the body is small enough to be read and
    /// discarded after an early response (see [`MAX_DRAIN_BYTES`]).
    pub fn can_drain(&self) -> bool {
        !self.continue_pending && self.body_remaining().is_some_and(|r| r <= MAX_DRAIN_BYTES)
    }

    /// Bytes of body left when the length is known.
    pub fn body_remaining(&self) -> Option<u64> {
        match &self.body {
            BodyState::Length { remaining } => Some(*remaining),
            BodyState::Chunked { .. } => None,
        }
    }

    /// Reads the next piece of the body into `buf` (cleared first, filled up to
    /// its capacity). `Ok(0)` means the body is complete.
    pub async fn read_body(&mut self, mut buf: Vec<u8>) -> (Result<usize, BodyError>, Vec<u8>) {
        buf.clear();
        if buf.capacity() == 0 {
            buf.reserve(BODY_CHUNK);
        }
        let res = match self.body {
            BodyState::Length { .. } => self.read_length(&mut buf).await,
            BodyState::Chunked { .. } => self.read_chunked(&mut buf).await,
        };
        if let Ok(n) = res {
            self.bytes_in += n as u64;
        }
        (res, buf)
    }

    async fn read_length(&mut self, buf: &mut Vec<u8>) -> Result<usize, BodyError> {
        let BodyState::Length { remaining } = self.body else { unreachable!("length framing") };
        if remaining == 0 {
            return Ok(0);
        }
        let want = (remaining.min(buf.capacity() as u64)) as usize;
        let left = &self.leftover[self.leftover_used..];
        if !left.is_empty() {
            let n = want.min(left.len());
            buf.extend_from_slice(&left[..n]);
            self.leftover_used += n;
            self.body = BodyState::Length { remaining: remaining - n as u64 };
            return Ok(n);
        }
        self.send_continue().await?;
        let n = self.read_socket(buf, want).await?;
        if n == 0 {
            return Err(BodyError::Incomplete);
        }
        self.body = BodyState::Length { remaining: remaining - n as u64 };
        Ok(n)
    }

    async fn read_chunked(&mut self, out: &mut Vec<u8>) -> Result<usize, BodyError> {
        loop {
            let BodyState::Chunked { decoder, raw, pos } = &mut self.body else {
                unreachable!("chunked framing")
            };
            if decoder.is_done() {
                return Ok(0);
            }
            // Decode buffered raw bytes: first those after the head, then socket reads.
            let left = &self.leftover[self.leftover_used..];
            if !left.is_empty() {
                let used = decoder.decode(left, out).map_err(BodyError::Chunked)?;
                self.leftover_used += used;
            } else if *pos < raw.len() {
                let used = decoder.decode(&raw[*pos..], out).map_err(BodyError::Chunked)?;
                *pos += used;
                if decoder.is_done() {
                    self.carry.extend_from_slice(&raw[*pos..]);
                    *pos = raw.len();
                }
            } else {
                let mut r = std::mem::take(raw);
                r.clear();
                *pos = 0;
                self.send_continue().await?;
                let cap = r.capacity();
                let n = self.read_socket(&mut r, cap).await;
                let BodyState::Chunked { raw, .. } = &mut self.body else { unreachable!("chunked framing") };
                *raw = r;
                if n? == 0 {
                    return Err(BodyError::Incomplete);
                }
                continue;
            }
            if !out.is_empty() {
                return Ok(out.len());
            }
        }
    }

    /// One socket read of at most `want` bytes into the empty `buf`.
    async fn read_socket(&mut self, buf: &mut Vec<u8>, want: usize) -> Result<usize, BodyError> {
        let owned = std::mem::take(buf);
        let fut = self.stream.read(owned.slice_mut(0..want));
        match monoio::time::timeout(self.io_timeout, fut).await {
            Ok((res, slice)) => {
                *buf = slice.into_inner();
                res.map_err(|_| BodyError::Io)
            }
            Err(_) => {
                buf.reserve(want);
                Err(BodyError::Timeout)
            }
        }
    }

    async fn send_continue(&mut self) -> Result<(), BodyError> {
        if self.continue_pending {
            self.continue_pending = false;
            let fut = self.stream.write_all(&b"HTTP/1.1 100 Continue\r\n\r\n"[..]);
            match monoio::time::timeout(self.io_timeout, fut).await {
                Ok((Ok(_), _)) => {}
                Ok((Err(_), _)) => return Err(BodyError::Io),
                Err(_) => return Err(BodyError::Timeout),
            }
        }
        Ok(())
    }

    /// Reads the whole body into memory, refusing more than `limit` bytes.
    pub async fn read_small_body(&mut self, limit: usize) -> Result<Vec<u8>, BodyError> {
        if self.body_remaining().is_some_and(|r| r > limit as u64) {
            return Err(BodyError::TooLarge);
        }
        let mut all = Vec::new();
        let mut buf = Vec::with_capacity(BODY_CHUNK.min(limit.max(1)));
        loop {
            let (res, b) = self.read_body(buf).await;
            buf = b;
            match res? {
                0 => return Ok(all),
                _ if all.len() + buf.len() > limit => return Err(BodyError::TooLarge),
                _ => all.extend_from_slice(&buf),
            }
        }
    }

    /// Writes all of `buf` to the client and hands the buffer back. On an error
    /// or timeout the buffer is lost and the connection will close.
    pub async fn write_all<B: monoio::buf::IoBuf + 'static>(&mut self, buf: B) -> io::Result<B> {
        if !self.response_started && self.continue_pending && self.body_done() {
            // An empty body with `Expect: 100-continue`: answer the
            // expectation before the final response. Some clients (botocore)
            // treat a final response without it as "body not sent" and misread
            // the next response on the connection.
            self.send_continue().await.map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        }
        self.response_started = true;
        let len = buf.bytes_init();
        match monoio::time::timeout(self.io_timeout, self.stream.write_all(buf)).await {
            Ok((Ok(_), b)) => {
                self.bytes_out += len as u64;
                Ok(b)
            }
            Ok((Err(e), _)) => {
                self.keep_alive = false;
                Err(e)
            }
            Err(_) => {
                self.keep_alive = false;
                Err(io::ErrorKind::TimedOut.into())
            }
        }
    }

    /// After the handler: makes the connection reusable by reading what is left
    /// of the body, or decides to close it. Returns whether to keep it.
    async fn finish(&mut self) -> bool {
        if !self.keep_alive() {
            return false;
        }
        if self.body_done() {
            return true;
        }
        if self.continue_pending {
            // The client is waiting for 100 Continue before it sends the body; it
            // got a final answer instead, so the body may or may not follow.
            return false;
        }
        let mut drained: u64 = 0;
        let mut buf = Vec::with_capacity(BODY_CHUNK);
        while !self.body_done() {
            if self.body_remaining().is_some_and(|r| r + drained > MAX_DRAIN_BYTES)
                || drained > MAX_DRAIN_BYTES
            {
                return false;
            }
            let (res, b) = self.read_body(buf).await;
            buf = b;
            match res {
                Ok(n) => drained += n as u64,
                Err(_) => return false,
            }
        }
        true
    }
}

/// How long a closing connection keeps reading what the client still sends.
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
/// Most bytes read and discarded while lingering.
const MAX_LINGER_BYTES: usize = 4 * 1024 * 1024;
const LINGER_BUF: usize = 16 * 1024;

/// How the head of the next request arrived.
enum HeadRead {
    /// A head terminator is in the buffer.
    Ready,
    /// The peer closed or the connection must close without an answer.
    Closed,
    /// The head is too large or too slow: answer and close.
    Refuse(S3ErrorCode),
}

/// Serves one client connection until it closes.
pub async fn serve_connection<H: Handler>(
    mut stream: ClientStream,
    peer: Option<ClientIdentity>,
    handler: &H,
    limits: &ConnLimits,
    shutdown: &ShutdownSignal,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_HEAD_BYTES);
    let mut search_from = 0usize;
    loop {
        match read_head(&mut stream, &mut buf, &mut search_from, limits, shutdown).await {
            HeadRead::Ready => {}
            HeadRead::Closed => return,
            HeadRead::Refuse(code) => {
                let mut ex =
                    Exchange::new(&mut stream, &[], BodyFraming::Length(0), false, false, limits.io_timeout);
                let _ = handler.reject(code, &mut ex).await;
                linger_close(&mut stream).await;
                return;
            }
        }
        let mut headers = header_storage();
        let (consumed, keep, carry) = match parse_head(&buf, &mut headers) {
            Ok(HeadStatus::Partial) => {
                // Only after blank lines before the request line: keep reading.
                search_from = buf.len().saturating_sub(3);
                continue;
            }
            Err(e) => {
                let code = match e {
                    HeadError::TooLarge => S3ErrorCode::RequestHeaderSectionTooLarge,
                    HeadError::BadTransferEncoding => S3ErrorCode::NotImplemented,
                    _ => S3ErrorCode::BadRequest,
                };
                let mut ex =
                    Exchange::new(&mut stream, &[], BodyFraming::Length(0), false, false, limits.io_timeout);
                let _ = handler.reject(code, &mut ex).await;
                linger_close(&mut stream).await;
                return;
            }
            Ok(HeadStatus::Complete { head, head_len }) => {
                let leftover = &buf[head_len..];
                let mut ex = Exchange::new(
                    &mut stream,
                    leftover,
                    head.framing,
                    head.expect_continue,
                    head.keep_alive,
                    limits.io_timeout,
                );
                ex.shutdown = Some(shutdown);
                ex.peer = peer.as_ref();
                let ok = handler.handle(&head, &mut ex).await.is_ok();
                let keep = ok && ex.finish().await;
                (head_len + ex.leftover_used, keep, std::mem::take(&mut ex.carry))
            }
        };
        if !keep {
            linger_close(&mut stream).await;
            return;
        }
        buf.drain(..consumed);
        buf.extend_from_slice(&carry);
        search_from = 0;
    }
}

/// Closes a connection without losing the response just written: send FIN,
/// then read and discard what the client still sends (bounded in time and
/// bytes) so that unread input does not make the kernel answer with a reset
/// that could destroy the response in flight.
async fn linger_close(stream: &mut ClientStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TIMEOUT;
    let mut buf = Vec::with_capacity(LINGER_BUF);
    let mut discarded = 0;
    while discarded < MAX_LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        match monoio::time::timeout(left, stream.read(buf)).await {
            Ok((Ok(n), b)) if n > 0 => {
                discarded += n;
                buf = b;
                buf.clear();
            }
            _ => return,
        }
    }
}

/// Reads until the buffer holds a complete head (a blank line), within the
/// idle timeout for the first byte and the head timeout for the rest.
async fn read_head(
    stream: &mut ClientStream,
    buf: &mut Vec<u8>,
    search_from: &mut usize,
    limits: &ConnLimits,
    shutdown: &ShutdownSignal,
) -> HeadRead {
    let mut deadline: Option<Instant> = None;
    loop {
        if has_head_end(&buf[(*search_from).min(buf.len())..]) {
            return HeadRead::Ready;
        }
        if buf.len() >= MAX_HEAD_BYTES {
            return HeadRead::Refuse(S3ErrorCode::RequestHeaderSectionTooLarge);
        }
        *search_from = buf.len().saturating_sub(3);
        let idle = buf.is_empty();
        if !idle && deadline.is_none() {
            deadline = Some(Instant::now() + limits.head_timeout);
        }
        let owned = std::mem::take(buf);
        let len = owned.len();
        let read = stream.read(owned.slice_mut(len..MAX_HEAD_BYTES));
        let result = if idle {
            if shutdown.is_triggered() {
                return HeadRead::Closed;
            }
            match race(monoio::time::timeout(limits.idle_timeout, read), shutdown.wait()).await {
                Either::Left(r) => r,
                Either::Right(()) => return HeadRead::Closed,
            }
        } else {
            let left = deadline.map_or(limits.head_timeout, |d| d.saturating_duration_since(Instant::now()));
            monoio::time::timeout(left, read).await
        };
        match result {
            Ok((Ok(n), slice)) => {
                *buf = slice.into_inner();
                if n == 0 {
                    return HeadRead::Closed;
                }
            }
            Ok((Err(_), _)) => return HeadRead::Closed,
            Err(_) if idle => return HeadRead::Closed,
            Err(_) => return HeadRead::Refuse(S3ErrorCode::RequestTimeout),
        }
    }
}

/// Whether `b` contains the blank line that ends a head (CRLF or bare LF form).
fn has_head_end(b: &[u8]) -> bool {
    memchr::memmem::find(b, b"\r\n\r\n").is_some() || memchr::memmem::find(b, b"\n\n").is_some()
}
