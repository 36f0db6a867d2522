//! ListObjects and ListObjectsV2: the merge of every eligible backend's
//! listing (see `s3::listing` for the semantics and the merge).
//!
//! Replica duplicates are resolved by placement: the copy on the backend that
//! comes first in the key's placement order wins, so a listing shows the
//! primary's ETag and size.
//!
//! # Read-your-deletes and overwrites
//! While a key has a pending replication task, the pending index decides
//! which copies may be listed: none for a pending delete (a replica that has
//! not applied it yet, or a backend that was down when it was acknowledged),
//! and for a pending write only the copy on its source and on targets that
//! completed (a replica still holding the older version is hidden).
//!
//! # Backends that are down
//! A listing is answered from the backends that are up when that is complete:
//! fewer of the bucket's eligible backends are down than its replica count
//! (every key has a replica on a backend that is up), no draining backend is
//! down (its objects may not be anywhere else yet), and no pending write has
//! its only copies on the backends that are down. Otherwise it is
//! `503 ServiceUnavailable`: for example any listing of a 1-replica bucket
//! while one of its eligible backends is down.

use std::rc::Rc;

use crate::backend::{AnyBackend, Backend};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::Exchange;
use crate::placement;
use crate::replication::TaskKind;
use crate::s3::listing::page::BackendPage;
use crate::s3::listing::render::{Owner, render};
use crate::s3::listing::request::{ListRequest, ListVersion};
use crate::s3::listing::{ListSource, MergeError, merge_page, token};
use crate::s3::respond::{self, XML};
use crate::s3::service::Ctx;

/// One eligible backend as a listing source.
struct BackendSource {
    backend: Rc<AnyBackend>,
    physical: String,
}

impl ListSource for BackendSource {
    async fn list(
        &mut self,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<BackendPage, MergeError> {
        Ok(self.backend.list_objects(&self.physical, prefix, delimiter, start_after, max_keys).await?)
    }
}

pub async fn list_objects(ctx: &Ctx<'_, '_>, ex: &mut Exchange<'_>, bucket: &str) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    let req = ListRequest::parse(ctx.head.query)?;
    let server_key = ctx.core.shared.store.server_key();
    let last = match (&req.version, &req.continuation_token) {
        (ListVersion::V2, Some(t)) => Some(token::decode(server_key, b.id, t)?),
        _ => None,
    };
    let after = req.resume_point(last.as_ref());
    // Draining backends too: their objects are listed until repair moved them.
    let mut sources = Vec::with_capacity(b.candidates.len() + b.draining.len());
    let mut source_index = Vec::with_capacity(b.candidates.len() + b.draining.len());
    let mut down: Vec<&str> = Vec::new();
    for index in b.holders() {
        if !ctx.core.is_up(ctx.snap, index) {
            down.push(ctx.snap.backends[usize::from(index)].id.as_str());
            continue;
        }
        if let Some(backend) = ctx.core.backend(ctx.snap, index) {
            sources.push(BackendSource { backend, physical: b.physical.clone() });
            source_index.push(index);
        }
    }
    let pending = &ctx.core.shared.pending;
    if !down.is_empty() {
        let candidates_down = b.candidates.iter().filter(|c| !ctx.core.is_up(ctx.snap, c.index)).count();
        let draining_down = b.draining.iter().any(|&i| !ctx.core.is_up(ctx.snap, i));
        if candidates_down >= usize::from(b.replicas)
            || draining_down
            || pending.has_stranded_write(b.id, &down)
        {
            return Err(S3Error::with_message(
                S3ErrorCode::ServiceUnavailable,
                "A storage backend holding some of this bucket's objects is unavailable.",
            ));
        }
    }
    let check_pending = !pending.is_empty_now();
    let rank = |key: &str, source: usize| -> Option<u32> {
        let order = placement::placement_order(b.id, key.as_bytes(), &b.candidates);
        let index = source_index[source];
        let position = order.iter().position(|&i| i == index).map_or(u32::MAX, |p| p as u32);
        if check_pending && let Some(e) = pending.get(b.id, key) {
            let id = ctx.snap.backends[usize::from(index)].id.as_str();
            let current = e.kind == TaskKind::Put && (e.source == id || e.done.iter().any(|d| d == id));
            return current.then_some(position);
        }
        Some(position)
    };
    let page = merge_page(&mut sources, &req, after, req.max_keys, rank).await.map_err(|e| {
        tracing::warn!(bucket = %b.name, error = ?e, "listing a backend failed");
        S3Error::from(e)
    })?;
    let next = match (&req.version, page.is_truncated, &page.last) {
        (ListVersion::V2, true, Some(last)) => Some(token::encode(server_key, b.id, last)),
        _ => None,
    };
    let mut body = Vec::with_capacity(512 + page.entries.len() * 256);
    let owner = Owner { id: ctx.tenant, display_name: ctx.tenant };
    render(&b.name, &req, &page, next.as_deref(), &owner, &mut body);
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &body).await
}
