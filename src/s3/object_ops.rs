//! Object operations: PutObject, GetObject (with Range), HeadObject, DeleteObject.
//!
//! Writes go to the key's primary backend. Reads go to the primary and fail
//! over, in placement order, to the next replica when a backend is
//! unreachable or answers 5xx. Preconditions and response overrides are
//! applied by sluice itself. Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>.
//!
//! # Invariants
//! - A PUT body is verified (signed sha256, Content-MD5, x-amz-checksum-*)
//!   before its last byte reaches the backend (see `client_body`).
//! - Memory per request is bounded: bodies stream through `BODY_CHUNK` buffers.

use smallvec::SmallVec;

use crate::backend::{Backend, BackendError, BodySource, ByteRange, GetRequest, ObjectResponse, PutRequest};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::aws_chunked::declared_trailers;
use crate::http::limits::{BODY_CHUNK, MAX_OBJECT_SIZE, MAX_USER_METADATA_BYTES};
use crate::http::{AwsChunkedDecoder, AwsChunkedMode};
use crate::http::{BodyFraming, Exchange, Method, ResponseHead};
use crate::meta::{BucketInfo, BucketState};
use crate::placement;
use crate::s3::client_body::{ChunkedBody, ClientBody};
use crate::s3::conditional::{ConditionalLock, WriteCondition, check_read};
use crate::s3::integrity::ChecksumAlgorithm;
use crate::s3::integrity::Integrity;
use crate::s3::names::key_too_long;
use crate::s3::respond::{self, client_write};
use crate::s3::route::query_value;
use crate::s3::service::Ctx;
use crate::sigv4::PayloadHash;

/// Most headers a PUT stores (stored headers + user metadata).
const MAX_STORED_HEADERS: usize = 32;
/// `response-*` query parameters of GetObject and the headers they replace.
const RESPONSE_OVERRIDES: [(&str, &str); 6] = [
    ("response-cache-control", "Cache-Control"),
    ("response-content-disposition", "Content-Disposition"),
    ("response-content-encoding", "Content-Encoding"),
    ("response-content-language", "Content-Language"),
    ("response-content-type", "Content-Type"),
    ("response-expires", "Expires"),
];
/// Content-Type of objects stored without one, as in AWS.
const DEFAULT_CONTENT_TYPE: &[u8] = b"binary/octet-stream";

/// Counts a write as in flight on its bucket for as long as it lives, so that
/// DeleteBucket can wait for writes to finish.
pub struct WriteGuard<'a>(&'a BucketState);

impl<'a> WriteGuard<'a> {
    /// Registers a write, unless the bucket is being deleted.
    pub fn enter(state: &'a BucketState) -> Result<Self, S3Error> {
        use std::sync::atomic::Ordering::SeqCst;
        state.inflight_writes.fetch_add(1, SeqCst);
        let guard = WriteGuard(state);
        if state.deleting.load(SeqCst) {
            return Err(S3Error::with_message(S3ErrorCode::OperationAborted, "The bucket is being deleted."));
        }
        Ok(guard)
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.0.inflight_writes.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

pub fn check_key(key: &str) -> Result<(), S3Error> {
    if key_too_long(key) { Err(S3Error::new(S3ErrorCode::KeyTooLongError)) } else { Ok(()) }
}

/// The replica list of `key`, primary first.
pub fn replicas(bucket: &BucketInfo, key: &str) -> Result<placement::Replicas, S3Error> {
    placement::place(bucket.id, key.as_bytes(), &bucket.candidates, usize::from(bucket.replicas)).map_err(
        |e| {
            tracing::error!(bucket = %bucket.name, error = %e, "bucket policy cannot be placed");
            S3Error::with_message(
                S3ErrorCode::ServiceUnavailable,
                "The bucket's placement policy cannot be met.",
            )
        },
    )
}

/// Logs and counts a backend failure that is a fault (not a normal answer).
pub fn note_backend_error(ctx: &Ctx<'_, '_>, index: u16, err: &BackendError) {
    if err.is_fault() {
        let id = ctx.snap.backends.get(usize::from(index)).map_or("?", |b| b.id.as_str());
        tracing::warn!(backend = id, error = ?err, request_id = ctx.request_id, "backend request failed");
        ctx.core.metrics.backend_error(id);
    }
}

/// Refuses request headers that ask for features sluice does not implement.
pub fn refuse_unsupported_put_headers(ctx: &Ctx<'_, '_>) -> Result<(), S3Error> {
    refuse_unsupported_write_headers(ctx, false)
}

/// [`refuse_unsupported_put_headers`], letting `x-amz-copy-source` through for copies.
pub fn refuse_unsupported_write_headers(ctx: &Ctx<'_, '_>, copy: bool) -> Result<(), S3Error> {
    let not_impl = |what: &str| {
        Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!("{what} is not implemented by sluice."),
        ))
    };
    for h in ctx.head.headers {
        let name = h.name.to_ascii_lowercase();
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        match name.as_str() {
            "x-amz-copy-source" if !copy => return not_impl("CopyObject on this request"),
            "x-amz-tagging" => return not_impl("Object tagging"),
            "x-amz-website-redirect-location" => return not_impl("Website redirects"),
            "x-amz-acl" if !value.eq_ignore_ascii_case("private") => {
                return not_impl("Canned ACLs other than private");
            }
            "x-amz-storage-class" if !value.eq_ignore_ascii_case("STANDARD") => {
                return not_impl("Storage classes other than STANDARD");
            }
            n if n.starts_with("x-amz-server-side-encryption") => return not_impl("Server-side encryption"),
            n if n.starts_with("x-amz-object-lock") => return not_impl("Object lock"),
            n if n.starts_with("x-amz-grant-") => return not_impl("ACL grants"),
            _ => {}
        }
    }
    Ok(())
}

/// What every upload (PutObject, UploadPart) checks before the body flows.
pub struct Upload<'h> {
    /// Exact length of the object (decoded length for aws-chunked bodies).
    pub len: u64,
    /// The signed payload hash, hex, when the client signed one.
    pub sha256_hex: Option<String>,
    pub integrity: Integrity,
    /// The aws-chunked decoding state, for `STREAMING-*` payloads.
    pub chunked: Option<ChunkedBody>,
    /// Integrity and condition headers S3 backends should see too.
    pub forwarded: SmallVec<[(&'h str, &'h [u8]); 4]>,
}

impl<'h> Upload<'h> {
    /// Checks the payload mode, the length and the integrity headers.
    pub fn from_request(ctx: &Ctx<'_, 'h>) -> Result<Upload<'h>, S3Error> {
        let encoded_len = match ctx.head.framing {
            BodyFraming::Length(n) if ctx.head.header("content-length").is_some() => n,
            _ => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
        };
        let signed_sha256 = match ctx.payload {
            PayloadHash::Sha256(h) => Some(h),
            _ => None,
        };
        let mut integrity = Integrity::from_request(ctx.head, signed_sha256)?;
        let (len, chunked) = match AwsChunkedMode::from_payload(ctx.payload) {
            None => (encoded_len, None),
            Some(mode) => {
                let decoded = ctx
                    .head
                    .header_str("x-amz-decoded-content-length")
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| {
                        S3Error::with_message(
                            S3ErrorCode::MissingContentLength,
                            "aws-chunked bodies need x-amz-decoded-content-length.",
                        )
                    })?;
                let declared: Vec<&str> = ctx
                    .head
                    .header_str("x-amz-trailer")
                    .map(|v| declared_trailers(v).collect())
                    .unwrap_or_default();
                if mode.has_trailer() && declared.is_empty() {
                    return Err(S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        "Missing x-amz-trailer header.",
                    ));
                }
                let mut checksum_trailer = None;
                for name in &declared {
                    let alg = ChecksumAlgorithm::ALL
                        .into_iter()
                        .find(|a| a.header().eq_ignore_ascii_case(name))
                        .ok_or_else(|| {
                            S3Error::with_message(
                                S3ErrorCode::InvalidRequest,
                                format!("The trailer {name} is not supported."),
                            )
                        })?;
                    integrity.expect_trailer(alg)?;
                    checksum_trailer = Some(alg.header());
                }
                let signer = if mode.is_signed() { ctx.chunk_signer.clone() } else { None };
                let decoder = AwsChunkedDecoder::new(mode, signer, decoded, &declared);
                (decoded, Some(ChunkedBody::new(decoder, decoded, checksum_trailer)))
            }
        };
        if len > MAX_OBJECT_SIZE {
            return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
        }
        // Conditions and header checksums go to S3 backends too (defence in
        // depth: sluice checks them itself); they are not stored headers.
        let mut forwarded = SmallVec::new();
        for h in ctx.head.headers {
            let name = h.name;
            let send =
                ["if-match", "if-none-match", "content-md5"].iter().any(|n| n.eq_ignore_ascii_case(name))
                    || (crate::backend::object::is_checksum_header(name) && chunked.is_none())
                    || (name.eq_ignore_ascii_case("x-amz-sdk-checksum-algorithm") && chunked.is_none());
            if send {
                forwarded.push((name, h.value));
            }
        }
        Ok(Upload { len, sha256_hex: signed_sha256.map(hex::encode), integrity, chunked, forwarded })
    }
}

/// Headers a new object stores, borrowed from the request head.
pub type StoredHeaders<'h> = SmallVec<[(&'h str, &'h [u8]); MAX_STORED_HEADERS]>;

/// The headers a new object stores (Content-Type, user metadata...), checked
/// against the metadata size limit.
pub fn stored_headers<'h>(ctx: &Ctx<'_, 'h>) -> Result<StoredHeaders<'h>, S3Error> {
    let mut stored = SmallVec::new();
    let mut meta_bytes = 0;
    for h in ctx.head.headers {
        if crate::backend::object::is_stored_header(h.name) {
            if crate::backend::object::is_user_metadata(h.name) {
                meta_bytes += h.name.len() - "x-amz-meta-".len() + h.value.len();
            }
            let value = if h.name.eq_ignore_ascii_case("content-encoding") {
                // aws-chunked is how the request was sent, not how the object is.
                match without_aws_chunked(h.value) {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                h.value
            };
            stored.push((h.name, value));
        }
    }
    if meta_bytes > MAX_USER_METADATA_BYTES || stored.len() > MAX_STORED_HEADERS {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge));
    }
    Ok(stored)
}

/// A Content-Encoding value without its `aws-chunked` coding (first or last
/// in the list); `None` when nothing is left.
fn without_aws_chunked(value: &[u8]) -> Option<&[u8]> {
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

/// Takes the conditional-write lock and checks `If-None-Match`/`If-Match`
/// against the current object; `None` when the request has no condition.
pub async fn write_condition<'c>(
    ctx: &'c Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
) -> Result<Option<ConditionalLock<'c>>, S3Error> {
    let Some(condition) = WriteCondition::from_request(ctx.head)? else { return Ok(None) };
    let lock = ConditionalLock::acquire(&ctx.core.shared.conditional_writes, b.id, key)?;
    condition.check(current_etag(ctx, b, key).await?.as_deref())?;
    Ok(Some(lock))
}

pub async fn put_object(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    refuse_unsupported_put_headers(ctx)?;
    let Upload { len, sha256_hex, integrity, chunked, forwarded } = Upload::from_request(ctx)?;
    let stored = stored_headers(ctx)?;
    let _cond_lock = write_condition(ctx, b, key).await?;
    let primary = replicas(b, key)?[0];
    let _guard = WriteGuard::enter(&b.state)?;
    let backend = ctx.core.backend(ctx.snap, primary).ok_or(S3ErrorCode::InternalError)?;
    let put = PutRequest {
        bucket: &b.physical,
        key,
        content_length: len,
        headers: &stored,
        payload_sha256: sha256_hex.as_deref(),
        forwarded: &forwarded,
        part: None,
    };
    let mut body = ClientBody::new(ex, integrity, chunked);
    let outcome = backend.put_object(&put, &mut body).await.map_err(|e| {
        note_backend_error(ctx, primary, &e);
        S3Error::from(e)
    })?;
    let mut lines = Vec::with_capacity(128);
    push_line(&mut lines, "ETag", outcome.etag.as_bytes());
    if let Some((name, value)) = body.checksum() {
        push_line(&mut lines, name, value.as_bytes());
    }
    respond::send(ex, 200, ctx.request_id, &lines, None, &[]).await
}

pub async fn get_object(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let head_only = ctx.head.method == Method::Head;
    let overrides = response_overrides(ctx.head.query)?;
    let range = ctx.head.header_str("range").and_then(ByteRange::parse);
    let checksum_mode =
        ctx.head.header_str("x-amz-checksum-mode").is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"));
    let req = GetRequest { bucket: &b.physical, key, range, head_only, checksum_mode };
    let (_, ObjectResponse { head, mut body }) = read_with_failover(ctx, b, key, &req).await?;
    check_read(ctx.head, head.etag.as_deref(), head.last_modified)?;

    let mut out = Vec::with_capacity(512 + head.header_lines.len());
    let mut h = ResponseHead::start(&mut out, head.status, ctx.request_id);
    h.header_u64("Content-Length", head.content_length);
    let mut has_type = false;
    // Checksums describe the whole object: only on request, never for a range.
    let show_checksums = checksum_mode && head.status == 200;
    for line in head.header_lines.split_inclusive(|&c| c == b'\n') {
        let name = line.split(|&c| c == b':').next().unwrap_or_default();
        if overrides.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name)) {
            continue;
        }
        let is_checksum = std::str::from_utf8(name).is_ok_and(crate::backend::object::is_checksum_header);
        if is_checksum && !show_checksums {
            continue;
        }
        has_type |= name.eq_ignore_ascii_case(b"content-type");
        h.raw_lines(line);
    }
    for (name, value) in &overrides {
        has_type |= name.eq_ignore_ascii_case("content-type");
        h.header(name, value.as_bytes());
    }
    if !has_type {
        h.header("Content-Type", DEFAULT_CONTENT_TYPE);
    }
    h.finish(ex.keep_alive());
    let mut buf = client_write(ex, out).await?;
    if head_only {
        return Ok(head.status);
    }
    // Stream the body: backend -> client, one bounded buffer.
    buf.clear();
    buf.reserve(BODY_CHUNK);
    let mut sent: u64 = 0;
    loop {
        let (res, b) = body.read(buf).await;
        let n = res.map_err(S3Error::from)?;
        if n == 0 {
            break;
        }
        sent += n as u64;
        buf = client_write(ex, b).await?;
    }
    if sent != head.content_length {
        return Err(S3Error::with_message(S3ErrorCode::InternalError, "object body ended early"));
    }
    Ok(head.status)
}

/// The ETag of the current object (`None` when there is none), read with failover.
pub async fn current_etag(ctx: &Ctx<'_, '_>, b: &BucketInfo, key: &str) -> Result<Option<String>, S3Error> {
    let req = GetRequest { bucket: &b.physical, key, range: None, head_only: true, checksum_mode: false };
    match read_with_failover(ctx, b, key, &req).await {
        Ok((_, resp)) => Ok(Some(resp.head.etag.unwrap_or_default())),
        Err(e) if e.code == S3ErrorCode::NoSuchKey => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads from the primary, then the next replicas in order (returning the
/// index of the backend that answered), while backends are
/// unreachable or answer 5xx.
pub async fn read_with_failover(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
    req: &GetRequest<'_>,
) -> Result<(u16, ObjectResponse), S3Error> {
    let mut last = BackendError::Unreachable;
    for index in replicas(b, key)? {
        let Some(backend) = ctx.core.backend(ctx.snap, index) else { continue };
        match backend.get_object(req).await {
            Ok(resp) => return Ok((index, resp)),
            Err(e) if e.is_failover() => {
                note_backend_error(ctx, index, &e);
                last = e;
            }
            Err(e) => {
                note_backend_error(ctx, index, &e);
                return Err(e.into());
            }
        }
    }
    Err(last.into())
}

pub async fn delete_object(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let primary = replicas(b, key)?[0];
    let _guard = WriteGuard::enter(&b.state)?;
    let backend = ctx.core.backend(ctx.snap, primary).ok_or(S3ErrorCode::InternalError)?;
    backend.delete_object(&b.physical, key).await.map_err(|e| {
        note_backend_error(ctx, primary, &e);
        S3Error::from(e)
    })?;
    respond::send(ex, 204, ctx.request_id, &[], None, &[]).await
}

/// The `response-*` overrides of a GetObject query, decoded.
fn response_overrides(query: &str) -> Result<SmallVec<[(&'static str, String); 2]>, S3Error> {
    let mut out = SmallVec::new();
    for (param, header) in RESPONSE_OVERRIDES {
        if let Some(raw) = query_value(query, param) {
            let value = crate::s3::route::decode(raw).ok_or(S3ErrorCode::InvalidArgument)?;
            if value.bytes().any(|c| c == b'\r' || c == b'\n') {
                return Err(S3Error::with_message(S3ErrorCode::InvalidArgument, format!("Invalid {param}.")));
            }
            out.push((header, value.into_owned()));
        }
    }
    Ok(out)
}

pub fn push_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}
