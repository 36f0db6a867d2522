//! A connection's byte stream: plain TCP, or TLS over TCP (rustls through
//! monoio-rustls). [`ClientStream`] is a client's connection to sluice,
//! [`BackendStream`] sluice's connection to a backend.
//!
//! Both kinds implement monoio's `AsyncReadRent`/`AsyncWriteRent`, so the
//! connection loop (`http::conn`) and the backend client are the same for
//! HTTP and HTTPS.

use monoio::BufResult;
use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::net::TcpStream;

/// What a verified client certificate says about its holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Subject alternative names (DNS and URI), or the subject common name
    /// of a certificate without them.
    pub names: Vec<String>,
    /// The tenant `tls.client_tenants` maps one of the names to, if any.
    pub tenant: Option<String>,
}

/// Plain TCP, or TLS (`S`) over TCP.
pub enum MaybeTls<S> {
    Plain(TcpStream),
    Tls(Box<S>),
}

/// A client's connection to sluice.
pub type ClientStream = MaybeTls<monoio_rustls::ServerTlsStream<TcpStream>>;
/// sluice's connection to a backend.
pub type BackendStream = MaybeTls<monoio_rustls::ClientTlsStream<TcpStream>>;

impl<S: AsyncReadRent> AsyncReadRent for MaybeTls<S> {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.read(buf).await,
            MaybeTls::Tls(s) => s.read(buf).await,
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.readv(buf).await,
            MaybeTls::Tls(s) => s.readv(buf).await,
        }
    }
}

impl<S: AsyncWriteRent> AsyncWriteRent for MaybeTls<S> {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.write(buf).await,
            MaybeTls::Tls(s) => s.write(buf).await,
        }
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.writev(buf).await,
            MaybeTls::Tls(s) => s.writev(buf).await,
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            MaybeTls::Plain(s) => s.flush().await,
            MaybeTls::Tls(s) => s.flush().await,
        }
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        match self {
            MaybeTls::Plain(s) => s.shutdown().await,
            MaybeTls::Tls(s) => s.shutdown().await,
        }
    }
}
