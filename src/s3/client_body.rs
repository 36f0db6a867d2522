//! The client's request body as a [`BodySource`] for backends, decoded
//! (aws-chunked) and verified as it streams.
//!
//! # Invariants
//! - The final bytes of the body are handed out only after the whole body
//!   passed every check: the signed sha256, Content-MD5, x-amz-checksum-*
//!   (header or trailer), and, for aws-chunked bodies, every chunk signature,
//!   the trailer signature and the decoded length. On a failure the caller gets
//!   the error instead of the last bytes, so the backend request stays
//!   incomplete and no object appears.
//! - With a gate ([`ClientBody::gate_end`]), the final bytes are also held
//!   back until the gate (the write's intent) is durable; if it fails, the
//!   caller gets an error instead and the backend stores nothing.
//! - Memory: one raw buffer of `BODY_CHUNK` for aws-chunked input, plus the
//!   caller's output buffer.

use crate::backend::BodySource;
use crate::error::S3Error;
use crate::http::limits::BODY_CHUNK;
use crate::http::{AwsChunkedDecoder, BodyError, Exchange};
use crate::s3::integrity::Integrity;

/// State of an aws-chunked request body.
pub struct ChunkedBody {
    pub decoder: AwsChunkedDecoder,
    /// `x-amz-decoded-content-length`.
    pub decoded_len: u64,
    /// The trailer carrying the body's checksum, if any (`x-amz-checksum-*`).
    pub checksum_trailer: Option<&'static str>,
    raw: Vec<u8>,
    pos: usize,
}

impl ChunkedBody {
    pub fn new(decoder: AwsChunkedDecoder, decoded_len: u64, checksum_trailer: Option<&'static str>) -> Self {
        ChunkedBody { decoder, decoded_len, checksum_trailer, raw: Vec::with_capacity(BODY_CHUNK), pos: 0 }
    }
}

/// A request body read from the client connection.
pub struct ClientBody<'e, 'c> {
    ex: &'e mut Exchange<'c>,
    integrity: Integrity,
    chunked: Option<ChunkedBody>,
    checked: bool,
    /// Whether any of the body was asked for (a write that failed before
    /// that can go to another backend).
    pulled: bool,
    /// Body bytes handed out so far.
    handed: u64,
    /// (body length, future): the final bytes wait for the future.
    gate: Option<(u64, crate::replication::Durable)>,
    /// CRC-64/NVME of the bytes handed out: the object's record.
    crc: crc_fast::Digest,
}

impl<'e, 'c> ClientBody<'e, 'c> {
    pub fn new(ex: &'e mut Exchange<'c>, integrity: Integrity, chunked: Option<ChunkedBody>) -> Self {
        ClientBody {
            ex,
            integrity,
            chunked,
            checked: false,
            pulled: false,
            handed: 0,
            gate: None,
            crc: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
        }
    }

    /// Holds the final bytes of a `len`-byte body back until `durable`
    /// resolves (the write's intent is committed).
    pub fn gate_end(&mut self, len: u64, durable: crate::replication::Durable) {
        self.gate = Some((len, durable));
    }

    /// Waits for the gate when `n` more bytes complete the body.
    async fn pass_gate(&mut self, n: usize) -> Result<(), S3Error> {
        self.handed += n as u64;
        let complete = n > 0 && self.gate.as_ref().is_some_and(|(len, _)| self.handed >= *len);
        if complete && let Some((_, durable)) = self.gate.take() {
            durable.await.map_err(|e| {
                tracing::error!(error = %e, "a write intent could not be made durable");
                S3Error::with_message(
                    crate::error::S3ErrorCode::ServiceUnavailable,
                    "The write could not be recorded; please retry.",
                )
            })?;
        }
        Ok(())
    }

    /// The CRC-64/NVME of the body handed out so far (all of it once `next`
    /// returned `Ok(0)`).
    pub fn crc64(&self) -> u64 {
        self.crc.finalize()
    }

    /// Whether no byte of the body was consumed yet.
    pub fn untouched(&self) -> bool {
        !self.pulled
    }

    /// Runs the end-of-body checks once.
    fn finish_checks(&mut self) -> Result<(), S3Error> {
        if self.checked {
            return Ok(());
        }
        self.checked = true;
        if let Some(c) = &self.chunked {
            c.decoder.finish()?;
            if let Some(name) = c.checksum_trailer {
                let value = c.decoder.trailer(name).unwrap_or_default();
                self.integrity.set_trailer_value(value)?;
            }
        }
        self.integrity.finish()
    }

    /// Decodes the next piece of an aws-chunked body into `buf`.
    async fn next_chunked(&mut self, buf: &mut Vec<u8>) -> Result<usize, S3Error> {
        loop {
            let c = self.chunked.as_mut().expect("aws-chunked state");
            if c.pos < c.raw.len() {
                let before = buf.len();
                let used = c.decoder.decode(&c.raw[c.pos..], buf)?;
                c.pos += used;
                self.integrity.update(&buf[before..]);
            }
            let c = self.chunked.as_mut().expect("aws-chunked state");
            if c.decoder.is_done() {
                self.finish_checks()?;
                return Ok(buf.len());
            }
            let all_data = c.decoder.decoded_so_far() == c.decoded_len;
            // Hand data out as soon as it is there, except the final bytes:
            // those wait until the final chunk and trailers are verified.
            if !buf.is_empty() && !all_data && (buf.len() == buf.capacity() || c.pos == c.raw.len()) {
                return Ok(buf.len());
            }
            if c.pos == c.raw.len() {
                let mut raw = std::mem::take(&mut c.raw);
                let (res, r) = self.ex.read_body(std::mem::take(&mut raw)).await;
                let c = self.chunked.as_mut().expect("aws-chunked state");
                c.raw = r;
                c.pos = 0;
                match res {
                    Ok(0) => {
                        // The encoded body ended before the decoder finished.
                        c.decoder.finish()?;
                        return Err(BodyError::Incomplete.into());
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

impl BodySource for ClientBody<'_, '_> {
    async fn next(&mut self, mut buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>) {
        self.pulled = true;
        if self.chunked.is_some() {
            buf.clear();
            if buf.capacity() == 0 {
                buf.reserve(BODY_CHUNK);
            }
            let res = match self.next_chunked(&mut buf).await {
                Ok(n) => {
                    self.crc.update(&buf[..n]);
                    self.pass_gate(n).await.map(|()| n)
                }
                Err(e) => Err(e),
            };
            return (res, buf);
        }
        let (res, buf) = self.ex.read_body(buf).await;
        let n = match res {
            Ok(n) => n,
            Err(e) => return (Err(e.into()), buf),
        };
        self.integrity.update(&buf[..n]);
        if self.ex.body_done()
            && let Err(e) = self.finish_checks()
        {
            return (Err(e), buf);
        }
        self.crc.update(&buf[..n]);
        if let Err(e) = self.pass_gate(n).await {
            return (Err(e), buf);
        }
        (Ok(n), buf)
    }

    fn checksum(&self) -> Option<(&'static str, String)> {
        self.integrity.verified_checksum()
    }

    fn trailer_checksum(&self) -> Option<&'static str> {
        self.chunked.as_ref().and_then(|c| c.checksum_trailer)
    }
}
