//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation, and the start-up pass that makes sure every bucket's
//! physical buckets exist.
//!
//! Bucket names are global, as in AWS: a name owned by another tenant answers
//! BucketAlreadyExists on create and AccessDenied otherwise. A bucket's
//! physical buckets are created on every backend its residency allows before
//! the bucket is recorded, so a recorded bucket is always writable.
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>.
//!
//! # Invariants
//! - DeleteBucket refuses new writes, waits for in-flight writes to finish,
//!   then checks every eligible backend is empty before deleting anything.

use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::backend::Backend;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::Exchange;
use crate::http::limits::MAX_SMALL_BODY;
use crate::meta::{BucketInsert, BucketRecord, model::new_bucket_id};
use crate::runtime::core::CoreCtx;
use crate::s3::integrity::Integrity;
use crate::s3::names::check_bucket_name;
use crate::s3::respond::{self, XML};
use crate::s3::service::{BucketAccess, Ctx};
use crate::s3::xml::{S3_XMLNS, element};
use crate::sigv4::PayloadHash;

/// How long DeleteBucket waits for in-flight writes before giving up.
const DELETE_WAIT: Duration = Duration::from_secs(5);
const DELETE_POLL: Duration = Duration::from_millis(10);
/// Pause between start-up attempts to create missing physical buckets.
const ENSURE_RETRY: Duration = Duration::from_secs(5);

pub async fn list_buckets(ctx: &Ctx<'_, '_>, ex: &mut Exchange<'_>) -> Result<u16, S3Error> {
    // A key limited to some buckets sees only those it may list.
    let mut mine: Vec<_> = ctx
        .snap
        .buckets
        .values()
        .filter(|b| b.tenant == ctx.tenant && BucketAccess::List.allowed(ctx.perms, &b.name))
        .collect();
    mine.sort_by(|a, b| a.name.cmp(&b.name));
    let mut body = Vec::with_capacity(256 + mine.len() * 128);
    body.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"");
    body.extend_from_slice(S3_XMLNS.as_bytes());
    body.extend_from_slice(b"\"><Owner>");
    element("ID", ctx.tenant, &mut body);
    element("DisplayName", ctx.tenant, &mut body);
    body.extend_from_slice(b"</Owner><Buckets>");
    for b in mine {
        body.extend_from_slice(b"<Bucket>");
        element("Name", &b.name, &mut body);
        let created = crate::time::format_iso8601(b.created);
        element("CreationDate", std::str::from_utf8(&created).unwrap_or_default(), &mut body);
        body.extend_from_slice(b"</Bucket>");
    }
    body.extend_from_slice(b"</Buckets></ListAllMyBucketsResult>");
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &body).await
}

/// Parses the optional CreateBucketConfiguration body: its LocationConstraint.
fn location_constraint(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    let mut reader = Reader::from_reader(body);
    let mut in_constraint = false;
    let mut seen_root = false;
    let mut depth = 0usize;
    let mut found = None;
    loop {
        match reader.read_event().map_err(|_| malformed())? {
            Event::Start(e) => {
                let name = e.local_name();
                if !seen_root {
                    if name.as_ref() != b"CreateBucketConfiguration" {
                        return Err(malformed());
                    }
                    seen_root = true;
                }
                depth += 1;
                in_constraint = name.as_ref() == b"LocationConstraint";
            }
            Event::Empty(e) if !seen_root => {
                if e.local_name().as_ref() != b"CreateBucketConfiguration" {
                    return Err(malformed());
                }
                seen_root = true;
            }
            Event::Text(t) if in_constraint => {
                let text = t.unescape().map_err(|_| malformed())?;
                found = Some(text.trim().to_string());
            }
            Event::End(_) => {
                in_constraint = false;
                depth = depth.checked_sub(1).ok_or_else(malformed)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root || depth != 0 {
        return Err(malformed());
    }
    Ok(found.filter(|s| !s.is_empty()))
}

pub async fn create_bucket(ctx: &Ctx<'_, '_>, ex: &mut Exchange<'_>, name: &str) -> Result<u16, S3Error> {
    if !ctx.perms.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "This access key is limited to some buckets and may not create buckets.",
        ));
    }
    if let Err(why) = check_bucket_name(name) {
        return Err(S3Error::with_message(S3ErrorCode::InvalidBucketName, why.to_string()));
    }
    let signed = match ctx.payload {
        PayloadHash::Sha256(h) => Some(h),
        PayloadHash::Unsigned => None,
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "aws-chunked bodies are not implemented yet.",
            ));
        }
    };
    let mut integrity = Integrity::from_request(ctx.head, signed)?;
    let body = ex.read_small_body(MAX_SMALL_BODY).await?;
    integrity.update(&body);
    integrity.finish()?;
    let server_region = &ctx.core.shared.config.server.region;
    // A constraint equal to the region clients sign for is what SDKs send by
    // default: it means "no residency", like an absent one.
    let residency: Vec<String> = match location_constraint(&body)? {
        Some(r) if &r != server_region => vec![r],
        _ => Vec::new(),
    };
    match ctx.snap.bucket(name) {
        Some(b) if b.tenant == ctx.tenant => return Err(S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou)),
        Some(_) => return Err(S3Error::new(S3ErrorCode::BucketAlreadyExists)),
        None => {}
    }
    let candidates = ctx.snap.candidates(&residency);
    let replicas = ctx.core.shared.config.server.default_replicas;
    if candidates.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidLocationConstraint,
            format!("No backend is in region {:?}.", residency.first().map_or("", String::as_str)),
        ));
    }
    if usize::from(replicas) > candidates.len() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidLocationConstraint,
            format!(
                "The bucket needs {replicas} replicas but only {} backend(s) are eligible.",
                candidates.len()
            ),
        ));
    }
    let physical = crate::placement::physical_bucket_name(ctx.tenant, name);
    for c in &candidates {
        let backend = ctx.core.backend(ctx.snap, c.index).ok_or(S3ErrorCode::InternalError)?;
        if let Err(e) = backend.create_bucket(&physical).await {
            let id = &ctx.snap.backends[usize::from(c.index)].id;
            tracing::warn!(backend = %id, error = ?e, "creating a physical bucket failed");
            ctx.core.metrics.backend_error(id);
            return Err(S3Error::with_message(
                S3ErrorCode::ServiceUnavailable,
                "A storage backend is unavailable.",
            ));
        }
    }
    let rec = BucketRecord {
        name: name.to_string(),
        tenant: ctx.tenant.to_string(),
        id: new_bucket_id(),
        residency,
        replicas,
        min_write_replicas: 1,
        created: crate::time::now_unix(),
    };
    let outcome = ctx
        .core
        .meta(move |shared| {
            let outcome = shared.store.insert_bucket(&rec)?;
            if outcome == BucketInsert::Created {
                shared.hub.reload(&shared.store)?;
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        BucketInsert::Created => {}
        BucketInsert::AlreadyOwnedByYou => return Err(S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou)),
        BucketInsert::AlreadyExists => return Err(S3Error::new(S3ErrorCode::BucketAlreadyExists)),
    }
    let location = format!("Location: /{name}\r\n");
    respond::send(ex, 200, ctx.request_id, location.as_bytes(), None, &[]).await
}

pub async fn head_bucket(ctx: &Ctx<'_, '_>, ex: &mut Exchange<'_>, name: &str) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(name)?;
    let region = b.residency.first().unwrap_or(&ctx.core.shared.config.server.region);
    let line = format!("x-amz-bucket-region: {region}\r\n");
    respond::send(ex, 200, ctx.request_id, line.as_bytes(), None, &[]).await
}

pub async fn get_bucket_location(
    ctx: &Ctx<'_, '_>,
    ex: &mut Exchange<'_>,
    name: &str,
) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(name)?;
    let server_region = &ctx.core.shared.config.server.region;
    let region = b.residency.first().unwrap_or(server_region);
    // us-east-1 is spelled as an empty constraint, as in AWS.
    let region = if region == "us-east-1" { "" } else { region.as_str() };
    let mut body = Vec::with_capacity(160);
    body.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"");
    body.extend_from_slice(S3_XMLNS.as_bytes());
    body.extend_from_slice(b"\">");
    crate::s3::xml::escape_into(region, &mut body);
    body.extend_from_slice(b"</LocationConstraint>");
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &body).await
}

pub async fn delete_bucket(ctx: &Ctx<'_, '_>, ex: &mut Exchange<'_>, name: &str) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(name)?.clone();
    if b.state.deleting.swap(true, SeqCst) {
        return Err(S3Error::with_message(
            S3ErrorCode::OperationAborted,
            "The bucket is already being deleted.",
        ));
    }
    let result = delete_bucket_inner(ctx, &b).await;
    if result.is_err() {
        b.state.deleting.store(false, SeqCst);
    }
    result?;
    respond::send(ex, 204, ctx.request_id, &[], None, &[]).await
}

async fn delete_bucket_inner(ctx: &Ctx<'_, '_>, b: &crate::meta::BucketInfo) -> Result<(), S3Error> {
    let deadline = Instant::now() + DELETE_WAIT;
    while b.state.inflight_writes.load(SeqCst) > 0 {
        if Instant::now() > deadline {
            return Err(S3Error::new(S3ErrorCode::OperationAborted));
        }
        monoio::time::sleep(DELETE_POLL).await;
    }
    let unavailable = |ctx: &Ctx<'_, '_>, index: u16, e: crate::backend::BackendError| {
        let id = &ctx.snap.backends[usize::from(index)].id;
        tracing::warn!(backend = %id, error = ?e, "bucket deletion: backend failed");
        ctx.core.metrics.backend_error(id);
        S3Error::with_message(S3ErrorCode::ServiceUnavailable, "A storage backend is unavailable.")
    };
    // Draining backends count: their objects are the bucket's until moved.
    for index in b.holders() {
        let backend = ctx.core.backend(ctx.snap, index).ok_or(S3ErrorCode::InternalError)?;
        match backend.bucket_is_empty(&b.physical).await {
            Ok(true) => {}
            Ok(false) => clear_deleted_keys(ctx, b, &backend).await.map_err(|e| match e {
                Clear::NotEmpty => S3Error::new(S3ErrorCode::BucketNotEmpty),
                Clear::Backend(e) => unavailable(ctx, index, e),
            })?,
            Err(e) => return Err(unavailable(ctx, index, e)),
        }
    }
    for index in b.holders() {
        let backend = ctx.core.backend(ctx.snap, index).ok_or(S3ErrorCode::InternalError)?;
        backend.delete_bucket(&b.physical).await.map_err(|e| unavailable(ctx, index, e))?;
    }
    let (name, id) = (b.name.clone(), b.id_hex.clone());
    ctx.core
        .meta(move |shared| {
            if shared.store.remove_bucket(&name, &id)? {
                shared.hub.reload(&shared.store)?;
            }
            Ok(())
        })
        .await
}

/// Why [`clear_deleted_keys`] stopped.
enum Clear {
    /// A key that is not deleted: the bucket is not empty.
    NotEmpty,
    Backend(crate::backend::BackendError),
}

/// Removes, from one backend, the copies of keys whose delete was
/// acknowledged but not yet applied there (a pending delete task: the
/// backend was down at the time). Any other key means the bucket is not
/// empty. The delete tasks find the bucket gone later and complete.
async fn clear_deleted_keys(
    ctx: &Ctx<'_, '_>,
    b: &crate::meta::BucketInfo,
    backend: &crate::backend::AnyBackend,
) -> Result<(), Clear> {
    use crate::s3::listing::page::Entry;
    let pending = &ctx.core.shared.pending;
    let mut after = String::new();
    loop {
        let page = backend
            .list_objects(&b.physical, "", None, &after, crate::s3::listing::BACKEND_MAX_KEYS)
            .await
            .map_err(Clear::Backend)?;
        for entry in &page.entries {
            let Entry::Object(o) = entry else { return Err(Clear::NotEmpty) };
            if !pending.get(b.id, &o.key).is_some_and(|e| e.kind == crate::replication::TaskKind::Delete) {
                return Err(Clear::NotEmpty);
            }
            match backend.delete_object(&b.physical, &o.key).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(Clear::Backend(e)),
            }
        }
        match page.entries.last() {
            Some(last) if page.is_truncated => after = last.name().to_owned(),
            _ => break,
        }
    }
    match backend.bucket_is_empty(&b.physical).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Clear::NotEmpty),
        Err(e) => Err(Clear::Backend(e)),
    }
}

/// Creates every bucket's physical buckets on its eligible backends, retrying
/// the ones that fail until they succeed or the server stops. Runs on worker 0
/// at start.
pub async fn ensure_physical_buckets(core: Rc<CoreCtx>) {
    let snap = core.snapshot();
    let mut pending: Vec<(String, u16)> = snap
        .buckets
        .values()
        .flat_map(|b| b.candidates.iter().map(move |c| (b.physical.clone(), c.index)))
        .collect();
    while !pending.is_empty() && !core.shared.is_stopping() {
        let mut failed = Vec::new();
        for (physical, index) in pending {
            let Some(backend) = core.backend(&snap, index) else { continue };
            if let Err(e) = backend.create_bucket(&physical).await {
                let id = &snap.backends[usize::from(index)].id;
                tracing::warn!(backend = %id, error = ?e, "creating a physical bucket failed; will retry");
                failed.push((physical, index));
            }
        }
        pending = failed;
        if !pending.is_empty() {
            monoio::time::sleep(ENSURE_RETRY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints() {
        assert_eq!(location_constraint(b"").unwrap(), None);
        let body = b"<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <LocationConstraint>eu-west</LocationConstraint></CreateBucketConfiguration>";
        assert_eq!(location_constraint(body).unwrap().as_deref(), Some("eu-west"));
        let empty = b"<CreateBucketConfiguration><LocationConstraint></LocationConstraint></CreateBucketConfiguration>";
        assert_eq!(location_constraint(empty).unwrap(), None);
        assert_eq!(location_constraint(b"<nope/>").unwrap_err().code, S3ErrorCode::MalformedXML);
        assert_eq!(
            location_constraint(b"<CreateBucketConfiguration><x>").unwrap_err().code,
            S3ErrorCode::MalformedXML
        );
        assert_eq!(location_constraint(b"garbage").unwrap_err().code, S3ErrorCode::MalformedXML);
    }
}
