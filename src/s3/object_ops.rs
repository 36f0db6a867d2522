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
use crate::replication::ObjectVersion;
use crate::replication::copy::{RESERVED_META_PREFIX, logical_etag};
use crate::s3::client_body::{ChunkedBody, ClientBody};
use crate::s3::conditional::{ConditionalLock, WriteCondition, check_read};
use crate::s3::integrity::ChecksumAlgorithm;
use crate::s3::integrity::Integrity;
use crate::s3::names::{KeyError, check_object_key};
use crate::s3::read_resume::ReadResume;
use crate::s3::replicate::{
    ReadPlan, abandon_intent, after_delete, after_write, begin_intent, needs_intent, plan_read, plan_write,
    plan_write_excluding,
};
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
/// Backends a PutObject tries when they fail before taking any of the body.
const MAX_WRITE_ATTEMPTS: usize = 3;
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

/// Refuses keys S3 or sluice's path rules do not accept (`s3::names`).
pub fn check_key(key: &str) -> Result<(), S3Error> {
    match check_object_key(key) {
        Ok(()) => Ok(()),
        Err(KeyError::TooLong) => Err(S3Error::new(S3ErrorCode::KeyTooLongError)),
        Err(e) => Err(S3Error::with_message(S3ErrorCode::InvalidArgument, e.message())),
    }
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
    if err.is_connection_failure()
        && let Some(h) = ctx.core.health(ctx.snap, index)
        && h.record_failure()
    {
        let id = ctx.snap.backends.get(usize::from(index)).map_or("?", |b| b.id.as_str());
        tracing::warn!(backend = id, "backend marked down after repeated failures");
    }
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
        // An aws-chunked body may come with `Transfer-Encoding: chunked`
        // (botocore does so over HTTPS): its decoded length is declared.
        // Any other body needs a Content-Length, as in S3.
        let encoded_len = match ctx.head.framing {
            BodyFraming::Length(n) if ctx.head.header("content-length").is_some() => Some(n),
            BodyFraming::Chunked if AwsChunkedMode::from_payload(ctx.payload).is_some() => None,
            _ => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
        };
        let signed_sha256 = match ctx.payload {
            PayloadHash::Sha256(h) => Some(h),
            _ => None,
        };
        let mut integrity = Integrity::from_request(ctx.head, signed_sha256)?;
        let (len, chunked) = match AwsChunkedMode::from_payload(ctx.payload) {
            None => (encoded_len.ok_or(S3ErrorCode::MissingContentLength)?, None),
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
        if is_reserved_meta(h.name.as_bytes()) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "User metadata starting with x-amz-meta-sluice- is reserved.",
            ));
        }
        if crate::backend::object::is_stored_header(h.name) {
            if crate::backend::object::is_user_metadata(h.name) {
                meta_bytes += h.name.len() - "x-amz-meta-".len() + h.value.len();
            }
            let value = if h.name.eq_ignore_ascii_case("content-encoding") {
                // aws-chunked is how the request was sent, not how the object is.
                match crate::backend::object::without_aws_chunked(h.value) {
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

/// Whether a header name is sluice's reserved user metadata.
pub fn is_reserved_meta(name: &[u8]) -> bool {
    let prefix = RESERVED_META_PREFIX.as_bytes();
    name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
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
    let mut plan = plan_write(ctx, b, key)?;
    let _guard = WriteGuard::enter(&b.state)?;
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
    // A large body records its intent first; its last bytes wait for the
    // intent to be durable (it nearly always is by then).
    let mut intent = None;
    if needs_intent(ctx, b, &plan, len) {
        let (id, durable) = begin_intent(ctx, b, key, &plan)?;
        body.gate_end(len, durable);
        intent = Some(id);
    }
    let mut failed: SmallVec<[u16; 4]> = SmallVec::new();
    let outcome = loop {
        let backend = ctx.core.backend(ctx.snap, plan.target).ok_or(S3ErrorCode::InternalError)?;
        match backend.put_object(&put, &mut body).await {
            Ok(outcome) => break outcome,
            Err(e) => {
                note_backend_error(ctx, plan.target, &e);
                // A backend that could not be reached, or broke, before
                // taking any of the body (it died and the health check has
                // not noticed yet): the write goes to the next healthy
                // backend, as a handoff would. An error answer is about this
                // object and goes back to the client.
                if e.is_connection_failure() && body.untouched() && failed.len() < MAX_WRITE_ATTEMPTS {
                    failed.push(plan.target);
                    plan = match plan_write_excluding(ctx, b, key, &failed) {
                        Ok(p) => p,
                        Err(e) => {
                            abandon_intent(ctx, intent);
                            return Err(e);
                        }
                    };
                    continue;
                }
                abandon_intent(ctx, intent);
                return Err(e.into());
            }
        }
    };
    let checksum = body.checksum();
    let version = ObjectVersion {
        etag: outcome.etag.clone(),
        size: len,
        checksum: checksum.as_ref().map(|(n, v)| (n.to_string(), v.clone())),
        crc64: Some(body.crc64()),
    };
    after_write(ctx, b, key, &plan, version, Vec::new(), intent).await?;
    let mut lines = Vec::with_capacity(128);
    push_line(&mut lines, "ETag", outcome.etag.as_bytes());
    if let Some((name, value)) = checksum {
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
    let (index, ObjectResponse { head, mut body }) = read_with_failover(ctx, b, key, &req).await?;
    let etag = logical_etag(&head);
    check_read(ctx.head, etag.as_deref(), head.last_modified)?;

    let mut out = Vec::with_capacity(512 + head.header_lines.len());
    let mut h = ResponseHead::start(&mut out, head.status, ctx.request_id);
    h.header_u64("Content-Length", head.content_length);
    if let Some(e) = &etag {
        h.header("ETag", e.as_bytes());
    }
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
        // The ETag is written above (the logical one); sluice's own metadata never leaves.
        if name.eq_ignore_ascii_case(b"etag") || is_reserved_meta(name) {
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
    // Stream the body: backend -> client, one bounded buffer. When the
    // backend fails mid-body, another copy continues it (`read_resume`).
    buf.clear();
    buf.reserve(BODY_CHUNK);
    let mut sent: u64 = 0;
    let mut resume = ReadResume::new(index, &head);
    loop {
        let (res, chunk) = body.read(buf).await;
        buf = chunk;
        let err = match res {
            Ok(0) if sent == head.content_length => return Ok(head.status),
            Ok(0) => BackendError::Io, // the backend closed early
            Ok(n) => {
                sent += n as u64;
                resume.advance(n);
                buf = client_write(ex, buf).await?;
                continue;
            }
            Err(e) => e,
        };
        match resume.reopen(ctx, b, key, &err).await {
            Some(next) => body = next,
            None => return Err(S3Error::with_message(S3ErrorCode::InternalError, "object body ended early")),
        }
    }
}

/// The ETag of the current object (`None` when there is none), read with failover.
pub async fn current_etag(ctx: &Ctx<'_, '_>, b: &BucketInfo, key: &str) -> Result<Option<String>, S3Error> {
    let req = GetRequest { bucket: &b.physical, key, range: None, head_only: true, checksum_mode: false };
    match read_with_failover(ctx, b, key, &req).await {
        Ok((_, resp)) => Ok(Some(logical_etag(&resp.head).unwrap_or_default())),
        Err(e) if e.code == S3ErrorCode::NoSuchKey => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads `key`: from the primary, or, while pending tasks say the primary is
/// stale or when it fails, from the newest copy and then the replicas that
/// completed, in placement order (see `s3::replicate`). Returns the index of
/// the backend that answered.
pub async fn read_with_failover(
    ctx: &Ctx<'_, '_>,
    b: &BucketInfo,
    key: &str,
    req: &GetRequest<'_>,
) -> Result<(u16, ObjectResponse), S3Error> {
    let mut plan = plan_read(ctx, b, key, false);
    let mut consulted = false;
    let mut widened = false;
    let mut not_found: Option<BackendError> = None;
    let mut tried: SmallVec<[u16; 8]> = SmallVec::new();
    let mut last = BackendError::Unreachable;
    let mut i = 0;
    loop {
        if plan.deleted {
            return Err(S3Error::new(S3ErrorCode::NoSuchKey));
        }
        let Some(&index) = plan.order.get(i) else { break };
        i += 1;
        if tried.contains(&index) {
            continue;
        }
        tried.push(index);
        let failed = if !ctx.core.is_up(ctx.snap, index) {
            last = BackendError::Unreachable;
            true
        } else {
            let Some(backend) = ctx.core.backend(ctx.snap, index) else { continue };
            match backend.get_object(req).await {
                Ok(resp) => {
                    if let Some(h) = ctx.core.health(ctx.snap, index) {
                        h.record_success();
                    }
                    return Ok((index, resp));
                }
                Err(e) if e.is_failover() => {
                    note_backend_error(ctx, index, &e);
                    last = e;
                    true
                }
                Err(e) if e.is_not_found() && !widened => {
                    // A copy may sit outside its replica set (the placement
                    // changed and repair has not moved it yet): look at every
                    // eligible backend before answering NoSuchKey, unless a
                    // pending delete says the key is gone.
                    widened = true;
                    consulted = true;
                    not_found = Some(e);
                    let wide = plan_read(ctx, b, key, true);
                    if wide.deleted {
                        return Err(S3Error::new(S3ErrorCode::NoSuchKey));
                    }
                    let mut order = wide.order;
                    for c in placement::placement_order(b.id, key.as_bytes(), &b.candidates).iter() {
                        if !order.contains(c) {
                            order.push(*c);
                        }
                    }
                    for d in &b.draining {
                        if !order.contains(d) {
                            order.push(*d);
                        }
                    }
                    plan = ReadPlan { order, deleted: false };
                    i = 0;
                    false
                }
                Err(e) if e.is_not_found() => {
                    not_found = Some(e);
                    false
                }
                Err(e) => {
                    note_backend_error(ctx, index, &e);
                    return Err(e.into());
                }
            }
        };
        if failed && !consulted {
            // The first choice failed: only copies known to be complete count now.
            consulted = true;
            plan = plan_read(ctx, b, key, true);
            i = 0;
        }
    }
    // A backend that answered says the key does not exist; the ones that
    // could not answer do not outweigh it.
    Err(not_found.unwrap_or(last).into())
}

pub async fn delete_object(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let _guard = WriteGuard::enter(&b.state)?;
    delete_key(ctx, b, key).await?;
    respond::send(ex, 204, ctx.request_id, &[], None, &[]).await
}

/// One backend's delete of a key, run concurrently with the others.
type DeleteFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BackendError>> + 'a>>;

/// Deletes `key` on every backend that may hold it and is up (replicas,
/// handoff and misplaced copies) and leaves a task for the ones that are
/// down or failed. So once the delete is acknowledged, no listing, read or
/// DeleteBucket finds the key on a healthy backend; the task (and the
/// pending index, which reads and listings consult) covers the backends that
/// come back with a stale copy. The primary goes first: when it refuses the
/// delete (an error answer, not an outage), that is the client's answer and
/// no other copy was touched. The others go concurrently.
pub async fn delete_key(ctx: &Ctx<'_, '_>, b: &BucketInfo, key: &str) -> Result<(), S3Error> {
    let primary = replicas(b, key)?[0];
    let mut deleted: SmallVec<[u16; 8]> = SmallVec::new();
    if ctx.core.is_up(ctx.snap, primary) {
        let backend = ctx.core.backend(ctx.snap, primary).ok_or(S3ErrorCode::InternalError)?;
        match backend.delete_object(&b.physical, key).await {
            Ok(()) => deleted.push(primary),
            Err(e) if e.is_not_found() => deleted.push(primary),
            Err(e) if e.is_failover() => note_backend_error(ctx, primary, &e),
            Err(e) => {
                note_backend_error(ctx, primary, &e);
                return Err(e.into());
            }
        }
    }
    let others: SmallVec<[u16; 8]> =
        b.holders().filter(|&i| i != primary && ctx.core.is_up(ctx.snap, i)).collect();
    let mut futures: Vec<DeleteFuture<'_>> = Vec::with_capacity(others.len());
    for &i in &others {
        let backend = ctx.core.backend(ctx.snap, i).ok_or(S3ErrorCode::InternalError)?;
        let physical = b.physical.as_str();
        futures.push(Box::pin(async move { backend.delete_object(physical, key).await }));
    }
    let results = crate::s3::listing::merge::join_all(futures).await;
    for (&i, result) in others.iter().zip(results) {
        match result {
            Ok(()) => deleted.push(i),
            Err(e) if e.is_not_found() => deleted.push(i),
            Err(e) => note_backend_error(ctx, i, &e),
        }
    }
    if deleted.is_empty() && plan_write(ctx, b, key).is_err() {
        return Err(S3Error::with_message(S3ErrorCode::SlowDown, "Too few storage backends are available."));
    }
    after_delete(ctx, b, key, &deleted).await
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
