//! CopyObject and UploadPartCopy, within a bucket and across buckets of one
//! tenant.
//!
//! When the source is read from the backend that is also the destination
//! (the key's primary, or the upload's backend), the backend copies it
//! itself; otherwise sluice streams the source through bounded buffers into
//! the destination. `x-amz-metadata-directive` COPY (the default) keeps the
//! source's stored headers, REPLACE takes the request's. The
//! `x-amz-copy-source-if-*` preconditions are evaluated by sluice on the
//! source's ETag and Last-Modified. Specs:
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html>.

use std::borrow::Cow;

use crate::backend::{
    AnyBackend, Backend, BackendError, BodySource, CopyOutcome, CopyRequest, GetRequest, ObjectBody,
    PartTarget, PutRequest,
};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::Exchange;
use crate::http::limits::MAX_OBJECT_SIZE;
use crate::meta::{BucketInfo, PartRecord};
use crate::replication::ObjectVersion;
use crate::s3::conditional::check_copy_source;
use crate::s3::multipart::normalize_etag;
use crate::s3::multipart::render::{CopyObjectResult, CopyPartResult};
use crate::s3::multipart_ops::{open_upload, part_number, record_part};
use crate::s3::object_ops::{
    WriteGuard, check_key, note_backend_error, read_with_failover, refuse_unsupported_write_headers,
    stored_headers, write_condition,
};
use crate::s3::replicate::{abandon_intent, after_write, begin_intent, needs_intent, plan_write};
use crate::s3::respond::{self, XML};
use crate::s3::service::{BucketAccess, Ctx};

/// The object an `x-amz-copy-source` header names.
struct CopySource<'a> {
    bucket: Cow<'a, str>,
    key: Cow<'a, str>,
}

fn parse_copy_source<'a>(ctx: &Ctx<'_, 'a>) -> Result<CopySource<'a>, S3Error> {
    let invalid = || S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid copy source.");
    let raw = ctx.head.header_str("x-amz-copy-source").ok_or_else(invalid)?;
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    if let Some(version) = crate::s3::route::query_value(query, "versionId")
        && version != "null"
    {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Copying object versions is not implemented.",
        ));
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = path.split_once('/').ok_or_else(invalid)?;
    let bucket = crate::s3::route::decode(bucket).ok_or_else(invalid)?;
    let key = crate::s3::route::decode(key).ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok(CopySource { bucket, key })
}

/// A source object's body as the body of a PUT.
struct SourceBody {
    body: ObjectBody,
    remaining: u64,
}

impl BodySource for SourceBody {
    async fn next(&mut self, buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>) {
        let (r, buf) = self.body.read(buf).await;
        match r {
            Ok(0) if self.remaining > 0 => (Err(S3Error::new(S3ErrorCode::InternalError)), buf),
            Ok(n) => {
                self.remaining = self.remaining.saturating_sub(n as u64);
                (Ok(n), buf)
            }
            Err(e) => (Err(S3Error::from(e)), buf),
        }
    }
}

/// Reads the source at `index` (with `range`) and streams it into `put` on `dst`.
async fn stream_copy(
    ctx: &Ctx<'_, '_>,
    src_bucket: &BucketInfo,
    src_key: &str,
    index: u16,
    range: Option<(u64, u64)>,
    dst: &AnyBackend,
    put: &PutRequest<'_>,
) -> Result<String, S3Error> {
    let src_backend = ctx.core.backend(ctx.snap, index).ok_or(S3ErrorCode::InternalError)?;
    let get = GetRequest {
        bucket: &src_bucket.physical,
        key: src_key,
        range: range.map(|(a, b)| crate::backend::ByteRange::From { first: a, last: Some(b) }),
        head_only: false,
        checksum_mode: false,
    };
    let resp = src_backend.get_object(&get).await.map_err(|e| {
        note_backend_error(ctx, index, &e);
        S3Error::from(e)
    })?;
    if resp.head.content_length != put.content_length {
        return Err(S3Error::new(S3ErrorCode::InternalError));
    }
    let mut body = SourceBody { body: resp.body, remaining: put.content_length };
    let out = dst.put_object(put, &mut body).await.map_err(|e| match e {
        BackendError::Source(err) => err,
        other => S3Error::from(other),
    })?;
    Ok(out.etag)
}

pub async fn copy_object(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    refuse_unsupported_write_headers(ctx, true)?;
    let src = parse_copy_source(ctx)?;
    let src_b = ctx.bucket_for(&src.bucket, BucketAccess::Read)?;
    check_key(&src.key)?;
    let replace = match ctx.head.header_str("x-amz-metadata-directive") {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("COPY") => false,
        Some(d) if d.eq_ignore_ascii_case("REPLACE") => true,
        Some(_) => {
            return Err(S3Error::with_message(S3ErrorCode::InvalidArgument, "Unknown metadata directive."));
        }
    };
    if !replace && src_b.id == b.id && src.key == key {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the \
             object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let request_headers = stored_headers(ctx)?;
    let head_req = GetRequest {
        bucket: &src_b.physical,
        key: &src.key,
        range: None,
        head_only: true,
        checksum_mode: false,
    };
    let (src_index, source) = read_with_failover(ctx, src_b, &src.key, &head_req).await?;
    check_copy_source(ctx.head, source.head.etag.as_deref(), source.head.last_modified)?;
    if source.head.content_length > MAX_OBJECT_SIZE {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
        ));
    }
    let _cond_lock = write_condition(ctx, b, key).await?;
    let plan = plan_write(ctx, b, key)?;
    let primary = plan.target;
    let _guard = WriteGuard::enter(&b.state)?;
    let dst = ctx.core.backend(ctx.snap, primary).ok_or(S3ErrorCode::InternalError)?;
    // The copy appears whole on the backend: its intent is durable first.
    let intent = if needs_intent(ctx, b, &plan, source.head.content_length) {
        let (id, durable) = begin_intent(ctx, b, key, &plan)?;
        durable.await.map_err(|_| S3Error::new(S3ErrorCode::ServiceUnavailable))?;
        Some(id)
    } else {
        None
    };
    let outcome = async {
        let outcome = if src_index == primary {
            let copy = CopyRequest {
                src_bucket: &src_b.physical,
                src_key: &src.key,
                dst_bucket: &b.physical,
                dst_key: key,
                replace: replace.then_some(&request_headers[..]),
                part: None,
                range: None,
            };
            dst.copy_object(&copy).await.map_err(|e| {
                note_backend_error(ctx, primary, &e);
                S3Error::from(e)
            })?
        } else {
            let copied = crate::backend::object::stored_headers_from_lines(&source.head.header_lines);
            let copied_refs: Vec<(&str, &[u8])> =
                copied.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
            let headers: &[(&str, &[u8])] = if replace { &request_headers } else { &copied_refs };
            let put = PutRequest {
                bucket: &b.physical,
                key,
                content_length: source.head.content_length,
                headers,
                payload_sha256: None,
                forwarded: &[],
                part: None,
            };
            let etag = stream_copy(ctx, src_b, &src.key, src_index, None, &dst, &put).await?;
            CopyOutcome { etag, last_modified: None }
        };
        Ok::<_, S3Error>(outcome)
    }
    .await
    .inspect_err(|_| abandon_intent(ctx, intent))?;
    // The same bytes as the source: its recorded CRC, when the record is of
    // the version just copied.
    let crc64 = source_crc64(ctx, src_b, &src.key, &source.head).await;
    let version =
        ObjectVersion { etag: outcome.etag.clone(), size: source.head.content_length, checksum: None, crc64 };
    after_write(ctx, b, key, &plan, version, Vec::new(), intent).await?;
    let mut body = Vec::with_capacity(256);
    CopyObjectResult {
        etag: normalize_etag(&outcome.etag),
        last_modified: outcome.last_modified.unwrap_or_else(crate::time::now_unix),
        checksum: None,
        checksum_type: None,
    }
    .write_xml(&mut body);
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &body).await
}

/// `x-amz-copy-source-range: bytes=first-last` within an object of `size`.
/// The recorded CRC-64/NVME of `key` in `b` when the record describes the
/// version `head` shows (same logical ETag and size).
async fn source_crc64(
    ctx: &Ctx<'_, '_>,
    b: &crate::meta::BucketInfo,
    key: &str,
    head: &crate::backend::ObjectHead,
) -> Option<u64> {
    let (bid, k) = (b.id_hex.clone(), key.to_string());
    let record = ctx.core.meta_read(move |s| s.store.tasks().record(&bid, &k)).await.ok().flatten()?;
    let etag = crate::replication::copy::logical_etag(head)?;
    (record.etag == etag && record.size == head.content_length).then_some(record.crc64).flatten()
}

fn copy_range(ctx: &Ctx<'_, '_>, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(raw) = ctx.head.header_str("x-amz-copy-source-range") else { return Ok(None) };
    let invalid = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Range specified is not valid for source object of size: {size}"),
        )
    };
    let (a, b) = raw.strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(invalid)?;
    let (first, last) = (a.parse::<u64>().map_err(|_| invalid())?, b.parse::<u64>().map_err(|_| invalid())?);
    if first > last || last >= size {
        return Err(invalid());
    }
    Ok(Some((first, last)))
}

pub async fn upload_part_copy(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let number = part_number(ctx)?;
    let open = open_upload(ctx, b, key).await?;
    let src = parse_copy_source(ctx)?;
    let src_b = ctx.bucket_for(&src.bucket, BucketAccess::Read)?;
    check_key(&src.key)?;
    let head_req = GetRequest {
        bucket: &src_b.physical,
        key: &src.key,
        range: None,
        head_only: true,
        checksum_mode: false,
    };
    let (src_index, source) = read_with_failover(ctx, src_b, &src.key, &head_req).await?;
    check_copy_source(ctx.head, source.head.etag.as_deref(), source.head.last_modified)?;
    let size = source.head.content_length;
    let range = copy_range(ctx, size)?;
    let len = match range {
        Some((a, b)) => b - a + 1,
        None => size,
    };
    if len > MAX_OBJECT_SIZE {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
    }
    let _guard = WriteGuard::enter(&b.state)?;
    let target = PartTarget { upload_id: &open.record.backend_upload_id, number };
    let outcome = if src_index == open.backend_index {
        let copy = CopyRequest {
            src_bucket: &src_b.physical,
            src_key: &src.key,
            dst_bucket: &b.physical,
            dst_key: key,
            replace: None,
            part: Some(target),
            range,
        };
        open.backend.copy_object(&copy).await.map_err(|e| {
            note_backend_error(ctx, open.backend_index, &e);
            S3Error::from(e)
        })?
    } else {
        let put = PutRequest {
            bucket: &b.physical,
            key,
            content_length: len,
            headers: &[],
            payload_sha256: None,
            forwarded: &[],
            part: Some(target),
        };
        let etag = stream_copy(ctx, src_b, &src.key, src_index, range, &open.backend, &put).await?;
        CopyOutcome { etag, last_modified: None }
    };
    let now = crate::time::now_unix();
    let record = PartRecord {
        number,
        etag: outcome.etag.clone(),
        size: len,
        last_modified: now,
        checksum: None,
        crc64: None,
    };
    record_part(ctx, &open.record.upload_id, record).await?;
    let mut body = Vec::with_capacity(256);
    CopyPartResult {
        etag: normalize_etag(&outcome.etag),
        last_modified: outcome.last_modified.unwrap_or(now),
        checksum: None,
    }
    .write_xml(&mut body);
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &body).await
}
