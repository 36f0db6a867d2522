//! Multipart upload operations: CreateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts and
//! ListMultipartUploads (UploadPartCopy is in `copy_ops`).
//!
//! An upload lives on the key's primary backend (at creation time). The id
//! the client gets is an [`UploadToken`] naming that backend and its own
//! upload id, authenticated with the server key, so a forged or altered id,
//! or one used for another tenant, bucket or key, is NoSuchUpload. Every
//! accepted part is recorded in LMDB; ListParts, ListMultipartUploads and the
//! checks of CompleteMultipartUpload (InvalidPart, InvalidPartOrder,
//! EntityTooSmall, part checksums) use those records, so they follow S3
//! whatever the backend remembers. Spec:
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>.

use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::backend::{AnyBackend, Backend, BodySource, PartTarget, PutRequest};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::Exchange;
use crate::meta::{BucketInfo, PartRecord, UploadRecord};
use crate::replication::ObjectVersion;
use crate::s3::client_body::ClientBody;
use crate::s3::integrity::{ChecksumAlgorithm, Integrity};
use crate::s3::multipart::render::{
    ChecksumType, CompleteMultipartUploadResult, InitiateMultipartUploadResult, ListMultipartUploadsResult,
    ListPartsResult, ListedPart, ListedUpload, Owner,
};
use crate::s3::multipart::{UploadToken, normalize_etag, parse_complete_multipart_upload};
use crate::s3::object_ops::{
    Upload, WriteGuard, check_key, note_backend_error, push_line, refuse_unsupported_put_headers, replicas,
    stored_headers, write_condition,
};
use crate::s3::replicate::{WritePlan, abandon_intent, after_write, begin_intent, needs_intent, plan_write};
use crate::s3::respond::{self, XML};
use crate::s3::route::query_value;
use crate::s3::service::Ctx;
use crate::sigv4::PayloadHash;

/// Parts numbers S3 allows.
pub const MAX_PART_NUMBER: u16 = 10_000;
/// Smallest part other than the last, as in AWS.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest CompleteMultipartUpload body (10000 parts with SHA-256 checksums
/// written with indentation stay under it).
pub const MAX_COMPLETE_BODY: usize = 8 * 1024 * 1024;
/// Default and largest page of ListParts and ListMultipartUploads.
pub const MAX_LIST_PAGE: usize = 1000;
/// Most uploads of one bucket examined by one ListMultipartUploads.
pub const MAX_UPLOADS_SCAN: usize = 100_000;

/// An upload a request names, checked, with the backend that holds it.
pub struct OpenUpload {
    pub record: UploadRecord,
    pub backend: Rc<AnyBackend>,
    pub backend_index: u16,
}

/// Resolves the `uploadId` of a request on `key` of bucket `b`.
pub async fn open_upload(ctx: &Ctx<'_, '_>, b: &BucketInfo, key: &str) -> Result<OpenUpload, S3Error> {
    let token = query_value(ctx.head.query, "uploadId").ok_or(S3ErrorCode::NoSuchUpload)?;
    let token = crate::s3::route::decode(token).ok_or(S3ErrorCode::NoSuchUpload)?.into_owned();
    let server_key = ctx.core.shared.store.server_key();
    let (backend_id, backend_upload_id) = UploadToken::decode(server_key, ctx.tenant, b.id, key, &token)?;
    let id = token.clone();
    let record = ctx.core.meta(move |s| s.store.get_upload(&id)).await?.ok_or(S3ErrorCode::NoSuchUpload)?;
    if record.backend_id != backend_id || record.backend_upload_id != backend_upload_id || record.key != key {
        return Err(S3Error::new(S3ErrorCode::NoSuchUpload));
    }
    let Some(info) = ctx.snap.backends.iter().find(|x| x.id == backend_id) else {
        return Err(S3Error::with_message(
            S3ErrorCode::ServiceUnavailable,
            "The backend holding this upload is no longer configured.",
        ));
    };
    let backend = ctx.core.backend(ctx.snap, info.index).ok_or(S3ErrorCode::InternalError)?;
    Ok(OpenUpload { record, backend, backend_index: info.index })
}

/// The `partNumber` of a request: 1..=10000.
pub fn part_number(ctx: &Ctx<'_, '_>) -> Result<u16, S3Error> {
    query_value(ctx.head.query, "partNumber")
        .and_then(|v| v.parse::<u16>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

fn checksum_type(s: Option<&str>) -> Option<ChecksumType> {
    match s {
        Some(t) if t.eq_ignore_ascii_case("FULL_OBJECT") => Some(ChecksumType::FullObject),
        Some(_) => Some(ChecksumType::Composite),
        None => None,
    }
}

pub async fn create_multipart_upload(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    refuse_unsupported_put_headers(ctx)?;
    let stored = stored_headers(ctx)?;
    let algorithm = match ctx.head.header_str("x-amz-checksum-algorithm") {
        Some(a) => Some(ChecksumAlgorithm::from_name(a).ok_or_else(|| {
            S3Error::with_message(S3ErrorCode::InvalidRequest, "Invalid x-amz-checksum-algorithm value.")
        })?),
        None => None,
    };
    let ctype = match ctx.head.header_str("x-amz-checksum-type") {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("COMPOSITE") || t.eq_ignore_ascii_case("FULL_OBJECT") => {
            if algorithm.is_none() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "x-amz-checksum-type requires x-amz-checksum-algorithm.",
                ));
            }
            Some(t.to_ascii_uppercase())
        }
        Some(_) => {
            return Err(S3Error::with_message(S3ErrorCode::InvalidRequest, "Invalid x-amz-checksum-type."));
        }
    };
    // CRC64NVME only combines as a full-object checksum, SHA only as composite (AWS rules).
    let ctype = match (algorithm, ctype) {
        (Some(ChecksumAlgorithm::Crc64Nvme), None) => Some("FULL_OBJECT".to_string()),
        (Some(ChecksumAlgorithm::Crc64Nvme), Some(t)) if t == "COMPOSITE" => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "CRC64NVME supports only FULL_OBJECT.",
            ));
        }
        (Some(ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256), Some(t)) if t == "FULL_OBJECT" => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "SHA checksums support only COMPOSITE.",
            ));
        }
        (Some(_), None) => Some("COMPOSITE".to_string()),
        (_, t) => t,
    };
    // The upload lives where the object would be written now (the primary,
    // or a handoff backend while the primary is down).
    let target = plan_write(ctx, b, key)?.target;
    let backend = ctx.core.backend(ctx.snap, target).ok_or(S3ErrorCode::InternalError)?;
    let backend_id = ctx.snap.backends[usize::from(target)].id.clone();
    let backend_upload_id = backend.create_multipart(&b.physical, key, &stored).await.map_err(|e| {
        note_backend_error(ctx, target, &e);
        S3Error::from(e)
    })?;
    let server_key = ctx.core.shared.store.server_key();
    let upload_id = UploadToken::encode(server_key, ctx.tenant, b.id, key, &backend_id, &backend_upload_id)
        .map_err(|_| S3Error::new(S3ErrorCode::InternalError))?;
    let record = UploadRecord {
        upload_id: upload_id.clone(),
        tenant: ctx.tenant.to_string(),
        bucket: b.name.clone(),
        bucket_id: b.id_hex.clone(),
        key: key.to_string(),
        backend_id,
        backend_upload_id,
        initiated: crate::time::now_unix(),
        checksum_algorithm: algorithm.map(|a| a.name().to_string()),
        checksum_type: ctype.clone(),
    };
    ctx.core.meta(move |s| s.store.insert_upload(&record)).await?;
    let mut body = Vec::with_capacity(512);
    InitiateMultipartUploadResult { bucket: &b.name, key, upload_id: &upload_id }.write_xml(&mut body);
    let mut lines = Vec::new();
    if let Some(a) = algorithm {
        push_line(&mut lines, "x-amz-checksum-algorithm", a.name().as_bytes());
    }
    if let Some(t) = &ctype {
        push_line(&mut lines, "x-amz-checksum-type", t.as_bytes());
    }
    respond::send(ex, 200, ctx.request_id, &lines, Some(XML), &body).await
}

/// Records an accepted part; a part of an upload completed or aborted
/// meanwhile is NoSuchUpload.
pub async fn record_part(ctx: &Ctx<'_, '_>, upload_id: &str, part: PartRecord) -> Result<(), S3Error> {
    let id = upload_id.to_string();
    if !ctx.core.meta(move |s| s.store.put_part(&id, &part)).await? {
        return Err(S3Error::new(S3ErrorCode::NoSuchUpload));
    }
    Ok(())
}

pub async fn upload_part(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let number = part_number(ctx)?;
    let Upload { len, sha256_hex, integrity, chunked, forwarded } = Upload::from_request(ctx)?;
    let open = open_upload(ctx, b, key).await?;
    let _guard = WriteGuard::enter(&b.state)?;
    let put = PutRequest {
        bucket: &b.physical,
        key,
        content_length: len,
        headers: &[],
        payload_sha256: sha256_hex.as_deref(),
        forwarded: &forwarded,
        part: Some(PartTarget { upload_id: &open.record.backend_upload_id, number }),
    };
    let mut body = ClientBody::new(ex, integrity, chunked);
    let outcome = open.backend.put_object(&put, &mut body).await.map_err(|e| {
        note_backend_error(ctx, open.backend_index, &e);
        S3Error::from(e)
    })?;
    let checksum = body.checksum();
    let record = PartRecord {
        number,
        etag: outcome.etag.clone(),
        size: len,
        last_modified: crate::time::now_unix(),
        checksum: checksum.as_ref().map(|(n, v)| (header_algorithm(n).to_string(), v.clone())),
        crc64: Some(body.crc64()),
    };
    record_part(ctx, &open.record.upload_id, record).await?;
    let mut lines = Vec::with_capacity(128);
    push_line(&mut lines, "ETag", outcome.etag.as_bytes());
    if let Some((name, value)) = checksum {
        push_line(&mut lines, name, value.as_bytes());
    }
    respond::send(ex, 200, ctx.request_id, &lines, None, &[]).await
}

/// The CRC-64/NVME of the whole object, combined from its parts' (None when
/// a part has none: it was uploaded by an older sluice or copied).
fn object_crc64(parts: &[&PartRecord]) -> Option<u64> {
    let mut parts = parts.iter();
    let first = parts.next()?;
    let mut crc = first.crc64?;
    for p in parts {
        crc = crc_fast::checksum_combine(crc_fast::CrcAlgorithm::Crc64Nvme, crc, p.crc64?, p.size);
    }
    Some(crc)
}

/// "CRC32" for "x-amz-checksum-crc32".
fn header_algorithm(header: &str) -> &'static str {
    ChecksumAlgorithm::ALL.into_iter().find(|a| a.header() == header).map_or("", ChecksumAlgorithm::name)
}

/// The object checksum of a completed upload from its parts' checksums:
/// COMPOSITE = checksum of the concatenated part checksums, `-N`; FULL_OBJECT
/// (CRC only) = the CRCs combined into the CRC of the whole object.
fn combine_checksums(
    alg: ChecksumAlgorithm,
    full_object: bool,
    parts: &[&PartRecord],
) -> Result<String, S3Error> {
    let missing = || {
        S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!("The upload was created using a {} checksum; every part must include it.", alg.name()),
        )
    };
    let mut digests = Vec::with_capacity(parts.len());
    for p in parts {
        let (name, value) = p.checksum.as_ref().ok_or_else(missing)?;
        if name != alg.name() {
            return Err(missing());
        }
        digests.push((B64.decode(value).map_err(|_| missing())?, p.size));
    }
    if !full_object {
        let mut h = alg.hasher();
        for (d, _) in &digests {
            h.update(d);
        }
        return Ok(format!("{}-{}", B64.encode(h.finish()), parts.len()));
    }
    let crc_alg = match alg {
        ChecksumAlgorithm::Crc32 => crc_fast::CrcAlgorithm::Crc32IsoHdlc,
        ChecksumAlgorithm::Crc32c => crc_fast::CrcAlgorithm::Crc32Iscsi,
        ChecksumAlgorithm::Crc64Nvme => crc_fast::CrcAlgorithm::Crc64Nvme,
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "FULL_OBJECT needs a CRC checksum.",
            ));
        }
    };
    let value = |d: &[u8]| d.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut iter = digests.iter();
    let Some((first, _)) = iter.next() else { return Err(missing()) };
    let mut crc = value(first);
    for (d, len) in iter {
        crc = crc_fast::checksum_combine(crc_alg, crc, value(d), *len);
    }
    let bytes = if alg == ChecksumAlgorithm::Crc64Nvme {
        crc.to_be_bytes().to_vec()
    } else {
        (crc as u32).to_be_bytes().to_vec()
    };
    Ok(B64.encode(bytes))
}

pub async fn complete_multipart_upload(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let open = open_upload(ctx, b, key).await?;
    let signed = match ctx.payload {
        PayloadHash::Sha256(h) => Some(h),
        PayloadHash::Unsigned => None,
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "aws-chunked bodies are not implemented here.",
            ));
        }
    };
    let mut integrity = Integrity::from_request(ctx.head, signed)?;
    let body = ex.read_small_body(MAX_COMPLETE_BODY).await?;
    integrity.update(&body);
    integrity.finish()?;
    let listed = parse_complete_multipart_upload(&body)?;
    let _cond_lock = write_condition(ctx, b, key).await?;

    let id = open.record.upload_id.clone();
    let (records, _) =
        ctx.core.meta(move |s| s.store.list_parts(&id, 0, usize::from(MAX_PART_NUMBER))).await?;
    let mut chosen: Vec<&PartRecord> = Vec::with_capacity(listed.len());
    for (i, part) in listed.iter().enumerate() {
        let rec = records
            .iter()
            .find(|r| r.number == part.number)
            .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidPart))?;
        if normalize_etag(&rec.etag) != part.etag {
            return Err(S3Error::new(S3ErrorCode::InvalidPart));
        }
        if let Some((alg, value)) = &part.checksum {
            let matches = rec.checksum.as_ref().is_some_and(|(n, v)| n == alg.name() && v == value);
            if !matches {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidPart,
                    "A part checksum does not match.",
                ));
            }
        }
        if i + 1 < listed.len() && rec.size < MIN_PART_SIZE {
            return Err(S3Error::new(S3ErrorCode::EntityTooSmall));
        }
        chosen.push(rec);
    }
    let algorithm = open.record.checksum_algorithm.as_deref().and_then(ChecksumAlgorithm::from_name);
    let full_object = open.record.checksum_type.as_deref() == Some("FULL_OBJECT");
    let checksum = match algorithm {
        Some(alg) => Some((alg, combine_checksums(alg, full_object, &chosen)?)),
        None => None,
    };

    let _guard = WriteGuard::enter(&b.state)?;
    let parts: Vec<(u16, String)> = chosen.iter().map(|r| (r.number, r.etag.clone())).collect();
    let plan =
        WritePlan { target: open.backend_index, replicas: replicas(b, key)?.iter().copied().collect() };
    // The object appears whole on the backend: its intent is durable first.
    let intent = if needs_intent(ctx, b, &plan, chosen.iter().map(|r| r.size).sum()) {
        let (id, durable) = begin_intent(ctx, b, key, &plan)?;
        durable.await.map_err(|_| S3Error::new(S3ErrorCode::ServiceUnavailable))?;
        Some(id)
    } else {
        None
    };
    let etag = open
        .backend
        .complete_multipart(&b.physical, key, &open.record.backend_upload_id, &parts)
        .await
        .map_err(|e| {
            note_backend_error(ctx, open.backend_index, &e);
            abandon_intent(ctx, intent);
            S3Error::from(e)
        })?;
    let id = open.record.upload_id.clone();
    ctx.core.meta(move |s| s.store.remove_upload(&id)).await?;
    let version = ObjectVersion {
        etag: etag.clone(),
        size: chosen.iter().map(|r| r.size).sum(),
        checksum: checksum.as_ref().map(|(a, v)| (a.header().to_string(), v.clone())),
        crc64: object_crc64(&chosen),
    };
    after_write(ctx, b, key, &plan, version, chosen.iter().map(|r| r.size).collect(), intent).await?;
    let location = format!("/{}/{}", b.name, key);
    let mut out = Vec::with_capacity(512);
    CompleteMultipartUploadResult {
        location: &location,
        bucket: &b.name,
        key,
        etag: normalize_etag(&etag),
        checksum: checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
        checksum_type: checksum_type(open.record.checksum_type.as_deref()),
    }
    .write_xml(&mut out);
    let mut lines = Vec::new();
    if let Some((alg, value)) = &checksum {
        push_line(&mut lines, alg.header(), value.as_bytes());
    }
    respond::send(ex, 200, ctx.request_id, &lines, Some(XML), &out).await
}

pub async fn abort_multipart_upload(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let open = open_upload(ctx, b, key).await?;
    open.backend.abort_multipart(&b.physical, key, &open.record.backend_upload_id).await.map_err(|e| {
        note_backend_error(ctx, open.backend_index, &e);
        S3Error::from(e)
    })?;
    let id = open.record.upload_id.clone();
    ctx.core.meta(move |s| s.store.remove_upload(&id)).await?;
    respond::send(ex, 204, ctx.request_id, &[], None, &[]).await
}

/// A numeric query parameter within `0..=max` (absent: `default`).
fn query_number(query: &str, name: &str, default: usize, max: usize) -> Result<usize, S3Error> {
    match query_value(query, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.min(max))
            .map_err(|_| S3Error::with_message(S3ErrorCode::InvalidArgument, format!("Invalid {name}."))),
    }
}

pub async fn list_parts(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
    key: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    check_key(key)?;
    let open = open_upload(ctx, b, key).await?;
    let marker = query_number(ctx.head.query, "part-number-marker", 0, usize::from(MAX_PART_NUMBER))? as u16;
    let max = query_number(ctx.head.query, "max-parts", MAX_LIST_PAGE, MAX_LIST_PAGE)?;
    let id = open.record.upload_id.clone();
    let (parts, truncated) = ctx.core.meta(move |s| s.store.list_parts(&id, marker, max)).await?;
    let algorithm = open.record.checksum_algorithm.as_deref().and_then(ChecksumAlgorithm::from_name);
    let listed: Vec<ListedPart<'_>> = parts
        .iter()
        .map(|p| ListedPart {
            number: p.number,
            last_modified: p.last_modified,
            etag: normalize_etag(&p.etag),
            size: p.size,
            checksum: p
                .checksum
                .as_ref()
                .and_then(|(n, v)| ChecksumAlgorithm::from_name(n).map(|a| (a, v.as_str()))),
        })
        .collect();
    let owner = Owner { id: ctx.tenant, display_name: Some(ctx.tenant) };
    let mut out = Vec::with_capacity(512 + listed.len() * 200);
    ListPartsResult {
        bucket: &b.name,
        key,
        upload_id: &open.record.upload_id,
        initiator: owner,
        owner,
        storage_class: "STANDARD",
        checksum_algorithm: algorithm,
        checksum_type: checksum_type(open.record.checksum_type.as_deref()),
        part_number_marker: u32::from(marker),
        next_part_number_marker: parts.last().map_or(0, |p| u32::from(p.number)),
        max_parts: max as u32,
        is_truncated: truncated,
        parts: &listed,
    }
    .write_xml(&mut out);
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &out).await
}

pub async fn list_multipart_uploads(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    bucket: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    let q = ctx.head.query;
    let text = |name: &str| -> Result<String, S3Error> {
        Ok(match query_value(q, name) {
            Some(v) => crate::s3::route::decode(v).ok_or(S3ErrorCode::InvalidURI)?.into_owned(),
            None => String::new(),
        })
    };
    if query_value(q, "encoding-type").is_some() {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "encoding-type is not implemented for ListMultipartUploads.",
        ));
    }
    let (prefix, delimiter, key_marker, id_marker) =
        (text("prefix")?, text("delimiter")?, text("key-marker")?, text("upload-id-marker")?);
    let max = query_number(q, "max-uploads", MAX_LIST_PAGE, MAX_LIST_PAGE)?;
    let (bucket_id, p, km, im) = (b.id_hex.clone(), prefix.clone(), key_marker.clone(), id_marker.clone());
    let all =
        ctx.core.meta(move |s| s.store.list_uploads(&bucket_id, &p, &km, &im, MAX_UPLOADS_SCAN)).await?;
    // A key-marker that is a common prefix skips every key under it.
    let skip_prefix =
        (!delimiter.is_empty() && key_marker.starts_with(&prefix) && key_marker.ends_with(&delimiter))
            .then_some(&key_marker);
    let mut uploads: Vec<&UploadRecord> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut truncated = false;
    let mut last: Option<(String, String)> = None;
    for u in &all.uploads {
        if skip_prefix.is_some_and(|p| u.key.starts_with(p.as_str())) {
            continue;
        }
        let rolled = (!delimiter.is_empty())
            .then(|| {
                u.key[prefix.len()..]
                    .find(&delimiter)
                    .map(|i| u.key[..prefix.len() + i + delimiter.len()].to_string())
            })
            .flatten();
        if let Some(cp) = &rolled
            && prefixes.last() == Some(cp)
        {
            continue;
        }
        if uploads.len() + prefixes.len() == max {
            truncated = true;
            break;
        }
        match rolled {
            Some(cp) => {
                last = Some((cp.clone(), String::new()));
                prefixes.push(cp);
            }
            None => {
                last = Some((u.key.clone(), u.upload_id.clone()));
                uploads.push(u);
            }
        }
    }
    truncated |= all.is_truncated;
    let owner = Owner { id: ctx.tenant, display_name: Some(ctx.tenant) };
    let listed: Vec<ListedUpload<'_>> = uploads
        .iter()
        .map(|u| ListedUpload {
            key: &u.key,
            upload_id: &u.upload_id,
            initiator: owner,
            owner,
            storage_class: "STANDARD",
            initiated: u.initiated,
            checksum_algorithm: u.checksum_algorithm.as_deref().and_then(ChecksumAlgorithm::from_name),
            checksum_type: checksum_type(u.checksum_type.as_deref()),
        })
        .collect();
    let prefix_refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let (next_key, next_id) = if truncated { last.unwrap_or_default() } else { Default::default() };
    let mut out = Vec::with_capacity(512 + listed.len() * 300);
    ListMultipartUploadsResult {
        bucket: &b.name,
        key_marker: &key_marker,
        upload_id_marker: &id_marker,
        next_key_marker: &next_key,
        next_upload_id_marker: &next_id,
        delimiter: (!delimiter.is_empty()).then_some(delimiter.as_str()),
        prefix: Some(prefix.as_str()),
        max_uploads: max as u32,
        is_truncated: truncated,
        uploads: &listed,
        common_prefixes: &prefix_refs,
    }
    .write_xml(&mut out);
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: u16, size: u64, alg: ChecksumAlgorithm, data: &[u8]) -> PartRecord {
        let mut h = alg.hasher();
        h.update(data);
        PartRecord {
            number: n,
            etag: String::new(),
            size,
            last_modified: 0,
            checksum: Some((alg.name().to_string(), B64.encode(h.finish()))),
            crc64: None,
        }
    }

    #[test]
    fn full_object_crc_combines_to_the_crc_of_the_whole() {
        for alg in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Crc64Nvme] {
            let (a, b) = (b"hello, ".as_slice(), b"world".as_slice());
            let parts = [part(1, a.len() as u64, alg, a), part(2, b.len() as u64, alg, b)];
            let got = combine_checksums(alg, true, &parts.iter().collect::<Vec<_>>()).unwrap();
            let mut whole = alg.hasher();
            whole.update(b"hello, world");
            assert_eq!(got, B64.encode(whole.finish()), "{alg:?}");
        }
    }

    #[test]
    fn composite_is_the_checksum_of_checksums() {
        let alg = ChecksumAlgorithm::Sha256;
        let parts = [part(1, 1, alg, b"a"), part(2, 1, alg, b"b")];
        let got = combine_checksums(alg, false, &parts.iter().collect::<Vec<_>>()).unwrap();
        let mut h = alg.hasher();
        for p in &parts {
            h.update(&B64.decode(&p.checksum.as_ref().unwrap().1).unwrap());
        }
        assert_eq!(got, format!("{}-2", B64.encode(h.finish())));
        let mut missing = parts[1].clone();
        missing.checksum = None;
        assert!(combine_checksums(alg, false, &[&parts[0], &missing]).is_err());
    }
}
