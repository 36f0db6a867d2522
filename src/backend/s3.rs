//! The S3 backend kind: an S3-compatible server at `http://host:port`.
//!
//! Requests use path-style addressing on the physical bucket, are re-signed
//! with SigV4 using the backend's own credentials, and travel over the core's
//! pooled keep-alive connections. Bodies stream through `BODY_CHUNK` buffers.
//!
//! # Security
//! The backend's credentials are used only to sign; neither they nor the
//! backend's address appear in errors or logs (errors carry the backend id).
//!
//! # Invariants
//! - A PUT pulls the first body chunk before it sends anything, and the body
//!   source withholds its final bytes until the body is verified, so a body
//!   that fails verification never completes on the backend.
//! - A request that fails on a reused connection before any response byte is
//!   retried once on a fresh connection when it can be replayed (no body, or a
//!   body held entirely in memory).

use std::cell::RefCell;

use smallvec::SmallVec;
use std::rc::Rc;
use std::time::Duration;

use monoio::io::AsyncWriteRentExt;

use super::body::{BodySource, ObjectBody, S3Body};
use super::error::{BackendError, is_unavailable_status};
use super::object::{
    CopyOutcome, CopyRequest, GetRequest, ObjectHead, ObjectResponse, PartTarget, PutOutcome, PutRequest,
};
use super::pool::{BackendConn, ConnPool};
use super::wire::{Framing, ResponseHead, read_body_to_vec, read_error, read_response_head};
use super::xml_read;
use crate::http::limits::BODY_CHUNK;
use crate::s3::listing::page::{BackendPage, KeyEncoding, parse_page};
use crate::secret::Secret;
use crate::sigv4::{self, OutboundRequest, SigV4Scratch, SigningKeyCache};

/// Largest XML answer read from a backend (a ListObjectsV2 page of 1000 keys
/// of 1024 bytes, escaped, stays well under it).
const MAX_LIST_BODY: usize = 8 * 1024 * 1024;
/// Bodies up to this size are copied behind the request head so that head and
/// body leave in one write.
const COALESCE_LIMIT: usize = 16 * 1024;

/// Per-core resources shared by all S3 backends of the core.
pub struct S3Io {
    pub signer: RefCell<(SigV4Scratch, SigningKeyCache)>,
    pub io_timeout: Duration,
}

impl S3Io {
    pub fn new(io_timeout: Duration) -> Self {
        S3Io { signer: RefCell::new((SigV4Scratch::new(), SigningKeyCache::new())), io_timeout }
    }
}

/// Connection details and credentials of one S3 backend.
pub struct S3Target {
    pub id: String,
    pub host_header: String,
    pub access_key: String,
    pub secret: Secret,
    pub signing_region: String,
    /// Changes whenever the credentials may have changed (signing-key cache).
    pub key_version: u64,
}

/// An S3 backend as seen from one core.
pub struct S3Backend {
    target: S3Target,
    pool: Rc<ConnPool>,
    io: Rc<S3Io>,
}

/// How long a backend may take to answer a request that copies data on its
/// side (CompleteMultipartUpload, CopyObject, UploadPartCopy): AWS documents
/// minutes for large objects, and sends whitespace meanwhile.
const LONG_OPERATION_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// One request to send.
struct Req<'a> {
    /// Time allowed for the answer (None: the I/O timeout).
    wait: Option<Duration>,
    method: &'a str,
    bucket: &'a str,
    key: Option<&'a str>,
    query: &'a str,
    headers: &'a [(&'a str, &'a [u8])],
    content_length: Option<u64>,
    payload_hash: &'a str,
}

impl<'a> Req<'a> {
    /// The PUT of `put` (an object, or a part when `query` names one).
    fn put(
        put: &'a PutRequest<'a>,
        query: &'a str,
        headers: &'a [(&'a str, &'a [u8])],
        payload_hash: &'a str,
    ) -> Self {
        Req {
            wait: None,
            method: "PUT",
            bucket: put.bucket,
            key: Some(put.key),
            query,
            headers,
            content_length: Some(put.content_length),
            payload_hash,
        }
    }
}

impl S3Backend {
    pub fn new(target: S3Target, pool: Rc<ConnPool>, io: Rc<S3Io>) -> Self {
        S3Backend { target, pool, io }
    }

    pub fn id(&self) -> &str {
        &self.target.id
    }

    /// Writes the signed request head into `out`.
    fn write_head(&self, req: &Req<'_>, out: &mut Vec<u8>) {
        let mut path = Vec::with_capacity(1 + req.bucket.len() + req.key.map_or(0, |k| k.len() * 3 + 1));
        path.push(b'/');
        path.extend_from_slice(req.bucket.as_bytes());
        if let Some(key) = req.key {
            path.push(b'/');
            sigv4::uri_encode(key.as_bytes(), false, &mut path);
        }
        // Only ASCII was written: the encoder escapes everything else.
        let path = String::from_utf8(path).unwrap_or_default();
        let now = crate::time::now_unix();
        let amz_date = crate::time::format_amz_date(now);
        let amz_date = std::str::from_utf8(&amz_date).unwrap_or_default();

        let mut names: Vec<(String, &[u8])> = Vec::with_capacity(req.headers.len() + 3);
        names.push(("host".to_string(), self.target.host_header.as_bytes()));
        names.push(("x-amz-content-sha256".to_string(), req.payload_hash.as_bytes()));
        names.push(("x-amz-date".to_string(), amz_date.as_bytes()));
        for (n, v) in req.headers {
            names.push((n.to_ascii_lowercase(), v));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let signed: String = names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
        let headers: Vec<httparse::Header<'_>> =
            names.iter().map(|(n, v)| httparse::Header { name: n.as_str(), value: v }).collect();
        let mut authorization = Vec::with_capacity(256);
        {
            let mut signer = self.io.signer.borrow_mut();
            let (scratch, cache) = &mut *signer;
            let outbound = OutboundRequest {
                method: req.method,
                path: &path,
                query: req.query,
                headers: &headers,
                signed_headers: &signed,
                payload_hash: req.payload_hash,
            };
            sigv4::sign_headers(
                &outbound,
                (&self.target.access_key, &self.target.secret),
                &self.target.signing_region,
                "s3",
                now,
                scratch,
                cache,
                &mut authorization,
            );
        }

        out.clear();
        out.extend_from_slice(req.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(path.as_bytes());
        if !req.query.is_empty() {
            out.push(b'?');
            out.extend_from_slice(req.query.as_bytes());
        }
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for h in &headers {
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"authorization: ");
        out.extend_from_slice(&authorization);
        out.extend_from_slice(b"\r\n");
        if let Some(n) = req.content_length {
            let mut num = itoa::Buffer::new();
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(num.format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Sends a request whose whole body is `body` (possibly empty) and reads the
    /// response head, retrying once on a fresh connection when a reused one
    /// turns out to be dead.
    async fn exchange(
        &self,
        req: &Req<'_>,
        mut body: Vec<u8>,
        head_request: bool,
    ) -> Result<(BackendConn, ResponseHead), BackendError> {
        let mut head = Vec::with_capacity(1024 + body.len().min(COALESCE_LIMIT));
        self.write_head(req, &mut head);
        let coalesced = body.len() <= COALESCE_LIMIT;
        if coalesced {
            head.extend_from_slice(&body);
        }
        let timeout = self.io.io_timeout;
        let mut fresh = false;
        loop {
            let mut conn = if fresh { self.pool.connect().await? } else { self.pool.get().await? };
            let reused = conn.reused;
            let (r, h) = monoio::time::timeout(timeout, conn.stream.write_all(head))
                .await
                .map_err(|_| BackendError::Timeout)?;
            head = h;
            let mut result = r.map(|_| ()).map_err(BackendError::from);
            if result.is_ok() && !coalesced {
                let (r, b) = monoio::time::timeout(timeout, conn.stream.write_all(body))
                    .await
                    .map_err(|_| BackendError::Timeout)?;
                body = b;
                result = r.map(|_| ()).map_err(BackendError::from);
            }
            let wait = req.wait.unwrap_or(timeout);
            let result = match result {
                Ok(()) => read_response_head(&mut conn, head_request, wait).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(resp) => return Ok((conn, resp)),
                Err(BackendError::Io) if reused && !fresh => fresh = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// Finishes a response whose body is not needed: returns the connection to
    /// the pool when the body is read, or reads the error.
    async fn finish(
        &self,
        mut conn: BackendConn,
        mut resp: ResponseHead,
    ) -> Result<ResponseHead, BackendError> {
        if !(200..300).contains(&resp.status) {
            let err = read_error(&mut conn, &mut resp, self.io.io_timeout).await;
            if resp.keep_alive && resp.framing.is_done() {
                self.pool.put(conn);
            }
            return Err(err);
        }
        read_body_to_vec(&mut conn, &mut resp.framing, MAX_LIST_BODY, self.io.io_timeout).await?;
        if resp.keep_alive {
            self.pool.put(conn);
        }
        Ok(resp)
    }

    pub async fn create_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        let body = if self.target.signing_region == crate::config::DEFAULT_REGION {
            Vec::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.target.signing_region
            )
            .into_bytes()
        };
        let hash = sha256_hex(&body);
        let req = Req {
            wait: None,
            method: "PUT",
            bucket,
            key: None,
            query: "",
            headers: &[],
            content_length: Some(body.len() as u64),
            payload_hash: &hash,
        };
        let (conn, resp) = self.exchange(&req, body, false).await?;
        match self.finish(conn, resp).await {
            Ok(_) => Ok(()),
            // Already there: creating is idempotent when these credentials can
            // use it (s3s-fs answers BucketAlreadyExists even to its creator).
            Err(e @ BackendError::Status { status: 409, .. }) => match self.head_bucket(bucket).await {
                Ok(()) => Ok(()),
                Err(_) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Active health check: any HTTP answer to `HEAD /` means the server is up.
    pub async fn probe(&self) -> Result<(), BackendError> {
        let req = self.bodiless("HEAD", "", None, "");
        let (conn, resp) = self.exchange(&req, Vec::new(), true).await?;
        if resp.keep_alive {
            self.pool.put(conn);
        }
        // Any answer means the server is there, except the ones that say it
        // cannot serve (some servers answer 501 to a HEAD of the service).
        if is_unavailable_status(resp.status) {
            Err(BackendError::Status { status: resp.status, code: None })
        } else {
            Ok(())
        }
    }

    /// Whether the bucket exists and these credentials may use it.
    pub async fn head_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        let req = self.bodiless("HEAD", bucket, None, "");
        let (conn, resp) = self.exchange(&req, Vec::new(), true).await?;
        self.finish(conn, resp).await.map(drop)
    }

    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        let req = self.bodiless("DELETE", bucket, None, "");
        let (conn, resp) = self.exchange(&req, Vec::new(), false).await?;
        match self.finish(conn, resp).await {
            Ok(_) | Err(BackendError::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn bucket_is_empty(&self, bucket: &str) -> Result<bool, BackendError> {
        let req = self.bodiless("GET", bucket, None, "list-type=2&max-keys=1");
        let (mut conn, mut resp) = self.exchange(&req, Vec::new(), false).await?;
        if resp.status != 200 {
            let err = read_error(&mut conn, &mut resp, self.io.io_timeout).await;
            return Err(err);
        }
        let body = read_body_to_vec(&mut conn, &mut resp.framing, MAX_LIST_BODY, self.io.io_timeout).await?;
        if resp.keep_alive {
            self.pool.put(conn);
        }
        Ok(memchr::memmem::find(&body, b"<Contents>").is_none())
    }

    pub async fn put_object<B: BodySource>(
        &self,
        put: &PutRequest<'_>,
        body: &mut B,
    ) -> Result<PutOutcome, BackendError> {
        let payload_hash = put.payload_sha256.unwrap_or(sigv4::UNSIGNED_PAYLOAD);
        let mut headers: Vec<(&str, &[u8])> = put.headers.iter().chain(put.forwarded).copied().collect();
        let query = put.part.map(part_query).unwrap_or_default();
        // A connection first (pooled and alive, or new), before the client's
        // body is touched: a backend that died unnoticed refuses it here, and
        // the caller can still send the untouched body elsewhere.
        let ready = self.pool.get().await?;
        self.pool.put(ready);
        // Pull the first chunk before anything is sent: an empty body that fails
        // verification must not reach the backend at all.
        let (first, chunk) = body.next(Vec::with_capacity(BODY_CHUNK)).await;
        let first = first.map_err(BackendError::Source)?;
        let (mut conn, mut resp) = if first as u64 == put.content_length {
            // The whole body is in memory (and verified): the request can be
            // replayed, and a trailer checksum is known, so it goes as a header.
            let (end, _) = body.next(Vec::new()).await;
            end.map_err(BackendError::Source)?;
            let checksum = body.checksum().filter(|_| body.trailer_checksum().is_some());
            if let Some((name, value)) = &checksum {
                headers.push((name, value.as_bytes()));
            }
            let req = Req::put(put, &query, &headers, payload_hash);
            self.exchange(&req, chunk, false).await?
        } else if let Some(trailer) = body.trailer_checksum() {
            self.stream_put_with_trailer(put, &query, &headers, trailer, chunk, body).await?
        } else {
            let req = Req::put(put, &query, &headers, payload_hash);
            self.stream_put(&req, chunk, body).await?
        };
        if resp.status != 200 {
            let err = read_error(&mut conn, &mut resp, self.io.io_timeout).await;
            return Err(err);
        }
        let etag = resp.etag.clone().unwrap_or_default();
        self.finish(conn, resp).await?;
        Ok(PutOutcome { etag })
    }

    /// Streams a body whose checksum arrives at its end as an aws-chunked
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` request, so the backend stores the
    /// checksum too. Chunks are re-cut to exactly [`BACKEND_AWS_CHUNK`] bytes
    /// (the last shorter), which makes the encoded length known up front.
    async fn stream_put_with_trailer<B: BodySource>(
        &self,
        put: &PutRequest<'_>,
        query: &str,
        headers: &[(&str, &[u8])],
        trailer: &'static str,
        first: Vec<u8>,
        body: &mut B,
    ) -> Result<(BackendConn, ResponseHead), BackendError> {
        let len = put.content_length;
        let alg_len = crate::s3::integrity::ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| a.header() == trailer)
            .map_or(32, |a| a.digest_len());
        let encoded = aws_chunked_len(len, BACKEND_AWS_CHUNK as u64, trailer.len(), alg_len.div_ceil(3) * 4);
        let decoded = len.to_string();
        let mut all: Vec<(&str, &[u8])> = headers.to_vec();
        all.push(("content-encoding", b"aws-chunked"));
        all.push(("x-amz-decoded-content-length", decoded.as_bytes()));
        all.push(("x-amz-trailer", trailer.as_bytes()));
        let req = Req {
            wait: None,
            method: "PUT",
            bucket: put.bucket,
            key: Some(put.key),
            query,
            headers: &all,
            content_length: Some(encoded),
            payload_hash: sigv4::STREAMING_UNSIGNED_TRAILER,
        };
        let mut head = Vec::with_capacity(1024);
        self.write_head(&req, &mut head);
        let mut conn = self.pool.get().await?;
        let timeout = self.io.io_timeout;
        let (r, _) = monoio::time::timeout(timeout, conn.stream.write_all(head))
            .await
            .map_err(|_| BackendError::Timeout)?;
        r?;
        let mut pending: Vec<u8> = Vec::with_capacity(BACKEND_AWS_CHUNK + 32);
        let mut input = first;
        loop {
            let mut rest = &input[..];
            while !rest.is_empty() {
                let take = (BACKEND_AWS_CHUNK - pending.len()).min(rest.len());
                pending.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if pending.len() == BACKEND_AWS_CHUNK {
                    let frame = std::mem::replace(&mut pending, Vec::with_capacity(BACKEND_AWS_CHUNK + 32));
                    conn = send_frame(conn, frame, timeout).await?;
                }
            }
            let (n, buf) = body.next(input).await;
            input = buf;
            // On a source error the connection is dropped mid-body: the backend
            // sees a truncated request and stores nothing.
            if n.map_err(BackendError::Source)? == 0 {
                break;
            }
        }
        if !pending.is_empty() {
            conn = send_frame(conn, pending, timeout).await?;
        }
        let (name, value) = body.checksum().ok_or(BackendError::Source(crate::error::S3Error::new(
            crate::error::S3ErrorCode::InternalError,
        )))?;
        let end = format!("0\r\n{name}:{value}\r\n\r\n").into_bytes();
        let (r, _) = monoio::time::timeout(timeout, conn.stream.write_all(end))
            .await
            .map_err(|_| BackendError::Timeout)?;
        r?;
        let resp = read_response_head(&mut conn, false, timeout).await?;
        Ok((conn, resp))
    }

    /// Sends the head with `first`, then streams the rest of `body`.
    async fn stream_put<B: BodySource>(
        &self,
        req: &Req<'_>,
        first: Vec<u8>,
        body: &mut B,
    ) -> Result<(BackendConn, ResponseHead), BackendError> {
        let mut head = Vec::with_capacity(1024);
        self.write_head(req, &mut head);
        let mut conn = self.pool.get().await?;
        let timeout = self.io.io_timeout;
        let (r, _) = monoio::time::timeout(timeout, conn.stream.write_all(head))
            .await
            .map_err(|_| BackendError::Timeout)?;
        r?;
        let mut chunk = first;
        loop {
            let (r, c) = monoio::time::timeout(timeout, conn.stream.write_all(chunk))
                .await
                .map_err(|_| BackendError::Timeout)?;
            r?;
            let (n, c) = body.next(c).await;
            chunk = c;
            // On a source error the connection is dropped mid-body: the backend
            // sees a truncated request and stores nothing.
            if n.map_err(BackendError::Source)? == 0 {
                break;
            }
        }
        let resp = read_response_head(&mut conn, false, timeout).await?;
        Ok((conn, resp))
    }

    pub async fn get_object(&self, get: &GetRequest<'_>) -> Result<ObjectResponse, BackendError> {
        let mut range_value = Vec::new();
        let mut headers: SmallVec<[(&str, &[u8]); 2]> = SmallVec::new();
        if let Some(r) = get.range {
            r.write_header_value(&mut range_value);
            headers.push(("range", range_value.as_slice()));
        }
        if get.checksum_mode {
            headers.push(("x-amz-checksum-mode", b"ENABLED"));
        }
        let method = if get.head_only { "HEAD" } else { "GET" };
        let req = Req {
            wait: None,
            method,
            bucket: get.bucket,
            key: Some(get.key),
            query: "",
            headers: &headers,
            content_length: None,
            payload_hash: sigv4::EMPTY_SHA256_HEX,
        };
        let (mut conn, mut resp) = self.exchange(&req, Vec::new(), get.head_only).await?;
        if resp.status != 200 && resp.status != 206 {
            let err = read_error(&mut conn, &mut resp, self.io.io_timeout).await;
            if resp.keep_alive && resp.framing.is_done() {
                self.pool.put(conn);
            }
            return Err(err);
        }
        let head = ObjectHead {
            status: resp.status,
            content_length: resp.content_length.unwrap_or(0),
            etag: resp.etag.take(),
            last_modified: resp.last_modified,
            header_lines: crate::backend::object::without_aws_chunked_lines(std::mem::take(
                &mut resp.header_lines,
            )),
        };
        let framing = std::mem::replace(&mut resp.framing, Framing::Empty);
        let body = if get.head_only {
            if resp.keep_alive {
                self.pool.put(conn);
            }
            ObjectBody::Empty
        } else {
            ObjectBody::S3(S3Body::new(conn, framing, resp.keep_alive, self.pool.clone(), self.io.io_timeout))
        };
        Ok(ObjectResponse { head, body })
    }

    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackendError> {
        let req = self.bodiless("DELETE", bucket, Some(key), "");
        let (conn, resp) = self.exchange(&req, Vec::new(), false).await?;
        match self.finish(conn, resp).await {
            Ok(_) | Err(BackendError::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reads a small 200 answer that may still carry an `<Error>` document.
    async fn read_result(
        &self,
        mut conn: BackendConn,
        mut resp: ResponseHead,
        wait: Option<Duration>,
    ) -> Result<Vec<u8>, BackendError> {
        let timeout = wait.unwrap_or(self.io.io_timeout);
        if resp.status != 200 {
            let err = read_error(&mut conn, &mut resp, timeout).await;
            if resp.keep_alive && resp.framing.is_done() {
                self.pool.put(conn);
            }
            return Err(err);
        }
        let body = read_body_to_vec(&mut conn, &mut resp.framing, MAX_LIST_BODY, timeout).await?;
        if resp.keep_alive {
            self.pool.put(conn);
        }
        if xml_read::is_error_document(&body) {
            return Err(BackendError::Status { status: 500, code: super::wire::error_code(&body) });
        }
        Ok(body)
    }

    /// Starts a multipart upload; returns the backend's upload id.
    pub async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        headers: &[(&str, &[u8])],
    ) -> Result<String, BackendError> {
        let req = Req {
            wait: None,
            method: "POST",
            bucket,
            key: Some(key),
            query: "uploads",
            headers,
            content_length: Some(0),
            payload_hash: sigv4::EMPTY_SHA256_HEX,
        };
        let (conn, resp) = self.exchange(&req, Vec::new(), false).await?;
        let body = self.read_result(conn, resp, req.wait).await?;
        xml_read::first_text(&body, "UploadId").filter(|u| !u.is_empty()).ok_or(BackendError::Protocol)
    }

    /// Completes a backend upload from (part number, quoted ETag) pairs;
    /// returns the object's ETag.
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u16, String)],
    ) -> Result<String, BackendError> {
        let mut body = Vec::with_capacity(64 + parts.len() * 80);
        body.extend_from_slice(
            b"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for (n, etag) in parts {
            body.extend_from_slice(format!("<Part><PartNumber>{n}</PartNumber>").as_bytes());
            crate::s3::xml::element("ETag", etag, &mut body);
            body.extend_from_slice(b"</Part>");
        }
        body.extend_from_slice(b"</CompleteMultipartUpload>");
        let hash = sha256_hex(&body);
        let query = upload_query(upload_id);
        let req = Req {
            wait: Some(LONG_OPERATION_TIMEOUT),
            method: "POST",
            bucket,
            key: Some(key),
            query: &query,
            headers: &[("content-type", b"application/xml")],
            content_length: Some(body.len() as u64),
            payload_hash: &hash,
        };
        let (conn, resp) = self.exchange(&req, body, false).await?;
        let etag_header = resp.etag.clone();
        let result = self.read_result(conn, resp, req.wait).await?;
        xml_read::first_text(&result, "ETag").or(etag_header).ok_or(BackendError::Protocol)
    }

    /// Aborts a backend upload; succeeds if it is already gone.
    pub async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), BackendError> {
        let query = upload_query(upload_id);
        let req = self.bodiless("DELETE", bucket, Some(key), &query);
        let (conn, resp) = self.exchange(&req, Vec::new(), false).await?;
        match self.finish(conn, resp).await {
            Ok(_) | Err(BackendError::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// CopyObject or UploadPartCopy inside this backend.
    pub async fn copy_object(&self, copy: &CopyRequest<'_>) -> Result<CopyOutcome, BackendError> {
        let mut source = Vec::with_capacity(2 + copy.src_bucket.len() + copy.src_key.len() * 3);
        source.push(b'/');
        source.extend_from_slice(copy.src_bucket.as_bytes());
        source.push(b'/');
        sigv4::uri_encode(copy.src_key.as_bytes(), false, &mut source);
        let range_value = copy.range.map(|(a, b)| format!("bytes={a}-{b}"));
        let mut headers: Vec<(&str, &[u8])> = vec![("x-amz-copy-source", &source)];
        if let Some(r) = &range_value {
            headers.push(("x-amz-copy-source-range", r.as_bytes()));
        }
        match copy.replace {
            Some(stored) if copy.part.is_none() => {
                headers.push(("x-amz-metadata-directive", b"REPLACE"));
                headers.extend_from_slice(stored);
            }
            _ if copy.part.is_none() => headers.push(("x-amz-metadata-directive", b"COPY")),
            _ => {}
        }
        let query = copy.part.map(part_query).unwrap_or_default();
        let req = Req {
            wait: Some(LONG_OPERATION_TIMEOUT),
            method: "PUT",
            bucket: copy.dst_bucket,
            key: Some(copy.dst_key),
            query: &query,
            headers: &headers,
            content_length: Some(0),
            payload_hash: sigv4::EMPTY_SHA256_HEX,
        };
        let (conn, resp) = self.exchange(&req, Vec::new(), false).await?;
        let body = self.read_result(conn, resp, req.wait).await?;
        let etag = xml_read::first_text(&body, "ETag").ok_or(BackendError::Protocol)?;
        let last_modified =
            xml_read::first_text(&body, "LastModified").and_then(|t| crate::time::parse_iso8601(&t));
        Ok(CopyOutcome { etag, last_modified })
    }

    /// One ListObjectsV2 call on the physical bucket. Backends are asked
    /// without `encoding-type=url` (s3s-fs echoes it without encoding), so keys
    /// are taken as sent.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<BackendPage, BackendError> {
        let mut q = format!("list-type=2&max-keys={max_keys}").into_bytes();
        for (name, value) in
            [("prefix", Some(prefix)), ("delimiter", delimiter), ("start-after", Some(start_after))]
        {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                q.push(b'&');
                q.extend_from_slice(name.as_bytes());
                q.push(b'=');
                sigv4::uri_encode(v.as_bytes(), true, &mut q);
            }
        }
        let query = String::from_utf8(q).unwrap_or_default();
        let req = self.bodiless("GET", bucket, None, &query);
        let (conn, resp) = self.exchange(&req, Vec::new(), false).await?;
        let body = self.read_result(conn, resp, req.wait).await?;
        parse_page(&body, KeyEncoding::Raw).map_err(|_| BackendError::Protocol)
    }

    fn bodiless<'a>(
        &self,
        method: &'a str,
        bucket: &'a str,
        key: Option<&'a str>,
        query: &'a str,
    ) -> Req<'a> {
        Req {
            wait: None,
            method,
            bucket,
            key,
            query,
            headers: &[],
            content_length: None,
            payload_hash: sigv4::EMPTY_SHA256_HEX,
        }
    }
}

/// Chunk size of the aws-chunked bodies sluice sends to backends.
const BACKEND_AWS_CHUNK: usize = 64 * 1024;

/// The encoded length of an unsigned aws-chunked body of `len` bytes cut in
/// `chunk`-byte chunks, ending with one trailer `name:value` of `value_len`.
fn aws_chunked_len(len: u64, chunk: u64, name_len: usize, value_len: usize) -> u64 {
    let hex_len = |n: u64| (64 - n.max(1).leading_zeros()).div_ceil(4) as u64;
    let full = len / chunk;
    let last = len % chunk;
    let mut total = full * (hex_len(chunk) + 2 + chunk + 2);
    if last > 0 {
        total += hex_len(last) + 2 + last + 2;
    }
    total + 3 + (name_len + 1 + value_len + 2) as u64 + 2
}

/// Writes one `hex\r\n<data>\r\n` aws-chunked frame of `data`.
async fn send_frame(
    mut conn: BackendConn,
    data: Vec<u8>,
    timeout: Duration,
) -> Result<BackendConn, BackendError> {
    let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
    frame.extend_from_slice(&data);
    frame.extend_from_slice(b"\r\n");
    let (r, _) = monoio::time::timeout(timeout, conn.stream.write_all(frame))
        .await
        .map_err(|_| BackendError::Timeout)?;
    r?;
    Ok(conn)
}

/// `partNumber=N&uploadId=...` for a part request.
fn part_query(part: PartTarget<'_>) -> String {
    let mut q = format!("partNumber={}&uploadId=", part.number).into_bytes();
    sigv4::uri_encode(part.upload_id.as_bytes(), true, &mut q);
    String::from_utf8(q).unwrap_or_default()
}

/// `uploadId=...` for requests on a whole upload.
fn upload_query(upload_id: &str) -> String {
    let mut q = b"uploadId=".to_vec();
    sigv4::uri_encode(upload_id.as_bytes(), true, &mut q);
    String::from_utf8(q).unwrap_or_default()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_length_matches_the_encoding() {
        for (len, chunk) in
            [(0u64, 4u64), (1, 4), (4, 4), (5, 4), (17, 4), (70_000, 65_536), (65_536, 65_536)]
        {
            let mut body = Vec::new();
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk);
                body.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                body.extend(std::iter::repeat_n(b'x', n as usize));
                body.extend_from_slice(b"\r\n");
                left -= n;
            }
            body.extend_from_slice(b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n");
            assert_eq!(
                aws_chunked_len(len, chunk, "x-amz-checksum-crc32".len(), 8),
                body.len() as u64,
                "{len}/{chunk}"
            );
        }
    }
}
