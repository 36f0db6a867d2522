//! Per-core pools of keep-alive connections to S3 backends, over plain TCP
//! or TLS (`https://` backends, verified against the system's roots and
//! `tls.backend_ca_file`).
//!
//! A core owns its pools (no locks). A connection returns to its pool only after
//! its response was read to the end; before reuse its socket is peeked without
//! blocking so a connection the backend closed meanwhile (or, over TLS, sent
//! anything such as a close_notify) is dropped, not used.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;
use rustls::pki_types::ServerName;

use crate::http::{BackendStream, MaybeTls};

use super::error::BackendError;
use crate::http::limits::MAX_HEAD_BYTES;
use crate::sys::{PeekState, peek_state};

/// Idle connections kept per backend per core.
pub const POOL_MAX_IDLE: usize = 64;
/// Idle connections older than this are closed rather than reused (backends
/// commonly close idle keep-alive connections after 20-60 s).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed to establish a backend connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to a backend with its read buffer.
pub struct BackendConn {
    pub stream: BackendStream,
    /// The TCP socket under `stream` (to peek at it, TLS or not).
    fd: RawFd,
    /// Bytes read from the backend and not consumed yet (`buf[pos..]`).
    pub buf: Vec<u8>,
    pub pos: usize,
    /// Whether this connection served an earlier request.
    pub reused: bool,
}

impl BackendConn {
    fn new(stream: BackendStream, fd: RawFd) -> Self {
        BackendConn { stream, fd, buf: Vec::with_capacity(MAX_HEAD_BYTES), pos: 0, reused: false }
    }

    /// Bytes buffered and not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..]
    }
}

impl AsRawFd for BackendConn {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

/// How to speak TLS to an `https://` backend.
pub struct TlsTarget {
    pub connector: monoio_rustls::TlsConnector,
    /// The name its certificate must carry.
    pub name: ServerName<'static>,
}

impl TlsTarget {
    /// A target for `host` (a DNS name or an IP address) with `config`.
    pub fn new(config: Arc<rustls::ClientConfig>, host: &str) -> Option<TlsTarget> {
        let name = ServerName::try_from(host.to_string()).ok()?;
        Some(TlsTarget { connector: monoio_rustls::TlsConnector::from(config), name })
    }
}

/// The idle connections of one backend on one core.
pub struct ConnPool {
    addr: Option<SocketAddr>,
    tls: Option<TlsTarget>,
    idle: RefCell<Vec<(BackendConn, Instant)>>,
}

impl ConnPool {
    pub fn new(addr: Option<SocketAddr>) -> Self {
        ConnPool { addr, tls: None, idle: RefCell::new(Vec::new()) }
    }

    /// A pool whose connections speak TLS to the backend.
    pub fn with_tls(addr: Option<SocketAddr>, tls: TlsTarget) -> Self {
        ConnPool { addr, tls: Some(tls), idle: RefCell::new(Vec::new()) }
    }

    /// A healthy idle connection, or a new one.
    pub async fn get(&self) -> Result<BackendConn, BackendError> {
        if let Some(conn) = self.take_idle() {
            return Ok(conn);
        }
        self.connect().await
    }

    /// A new connection, never a pooled one.
    pub async fn connect(&self) -> Result<BackendConn, BackendError> {
        let addr = self.addr.ok_or(BackendError::Unreachable)?;
        let stream = match monoio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect_addr(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(_)) | Err(_) => return Err(BackendError::Unreachable),
        };
        let _ = stream.set_nodelay(true);
        let fd = stream.as_raw_fd();
        let Some(tls) = &self.tls else { return Ok(BackendConn::new(MaybeTls::Plain(stream), fd)) };
        // A certificate that does not verify is never worked around.
        match monoio::time::timeout(CONNECT_TIMEOUT, tls.connector.connect(tls.name.clone(), stream)).await {
            Ok(Ok(s)) => Ok(BackendConn::new(MaybeTls::Tls(Box::new(s)), fd)),
            // The error is not logged: its text can carry the backend's name.
            Ok(Err(_)) | Err(_) => Err(BackendError::Unreachable),
        }
    }

    fn take_idle(&self) -> Option<BackendConn> {
        let mut idle = self.idle.borrow_mut();
        while let Some((mut conn, since)) = idle.pop() {
            if since.elapsed() < POOL_IDLE_TIMEOUT && peek_state(&conn) == PeekState::Idle {
                conn.reused = true;
                return Some(conn);
            }
        }
        None
    }

    /// Returns a connection whose last response was read completely.
    pub fn put(&self, mut conn: BackendConn) {
        if conn.pos != conn.buf.len() {
            return; // unread bytes: the connection is out of sync
        }
        conn.buf.clear();
        conn.pos = 0;
        let mut idle = self.idle.borrow_mut();
        if idle.len() < POOL_MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
    }

    /// Idle connections right now (for tests and metrics).
    pub fn idle_len(&self) -> usize {
        self.idle.borrow().len()
    }
}
