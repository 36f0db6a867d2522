//! ListObjects and ListObjectsV2: the merge of every eligible backend's
//! listing (see `s3::listing` for the semantics and the merge).
//!
//! Replica duplicates are resolved by placement: the copy on the backend that
//! comes first in the key's placement order wins, so a listing shows the
//! primary's ETag and size.

use std::rc::Rc;

use crate::backend::{AnyBackend, Backend};
use crate::error::S3Error;
use crate::http::Exchange;
use crate::placement;
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
    for index in b.holders() {
        if let Some(backend) = ctx.core.backend(ctx.snap, index) {
            sources.push(BackendSource { backend, physical: b.physical.clone() });
            source_index.push(index);
        }
    }
    let rank = |key: &str, source: usize| -> u32 {
        let order = placement::placement_order(b.id, key.as_bytes(), &b.candidates);
        let index = source_index[source];
        order.iter().position(|&i| i == index).map_or(u32::MAX, |p| p as u32)
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
