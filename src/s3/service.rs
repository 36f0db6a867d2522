//! The request handler of a worker core: authenticate, route, authorize,
//! dispatch to an operation, answer errors, count metrics.
//!
//! # Security
//! - Every S3 request is authenticated with SigV4 before routing decides
//!   anything about buckets; there is no anonymous access.
//! - A key only reaches buckets of its own tenant: another tenant's bucket
//!   answers AccessDenied (bucket names are global, as in AWS).

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{S3Error, S3ErrorCode};
use crate::http::{Exchange, Handler, Method, RequestHead};
use crate::meta::{BucketInfo, BucketPerm, Snapshot};
use crate::replication::metrics::QueueGauges;
use crate::runtime::core::CoreCtx;
use crate::s3::route::{Operation, Route, route};
use crate::s3::{bucket_ops, copy_ops, delete_ops, list_ops, multipart_ops, object_ops, respond};
use crate::sigv4::{self, AuthInput, ChunkSigner, PayloadHash, VerifyCtx};

/// Everything an operation needs about its request.
pub struct Ctx<'r, 'h> {
    pub core: &'r CoreCtx,
    pub head: &'r RequestHead<'h>,
    pub request_id: &'r str,
    pub snap: &'r Snapshot,
    /// The tenant of the key that signed the request.
    pub tenant: &'r str,
    /// What the signature says about the body.
    pub payload: PayloadHash,
    /// The chunk-signature chain of a signed aws-chunked body.
    pub chunk_signer: Option<ChunkSigner>,
    /// The signing key's per-bucket limits (empty: the whole tenant).
    pub perms: &'r [BucketPerm],
    /// What the operation does to its bucket.
    pub access: BucketAccess,
}

/// What an operation does to a bucket, for per-key bucket permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketAccess {
    Read,
    Write,
    List,
}

impl BucketAccess {
    /// The access class of `op`.
    pub fn of(op: Operation) -> BucketAccess {
        match op {
            Operation::ListObjects
            | Operation::ListObjectsV2
            | Operation::ListMultipartUploads
            | Operation::ListParts
            | Operation::ListBuckets => BucketAccess::List,
            Operation::GetObject
            | Operation::HeadObject
            | Operation::HeadBucket
            | Operation::GetBucketLocation => BucketAccess::Read,
            _ => BucketAccess::Write,
        }
    }

    /// Whether `perms` (empty: no limits) allow this access to `bucket`.
    pub fn allowed(self, perms: &[BucketPerm], bucket: &str) -> bool {
        perms.is_empty()
            || perms.iter().any(|p| {
                p.bucket == bucket
                    && match self {
                        BucketAccess::Read => p.read,
                        BucketAccess::Write => p.write,
                        BucketAccess::List => p.list,
                    }
            })
    }
}

impl Ctx<'_, '_> {
    /// The bucket `name` if the caller's tenant owns it.
    pub fn owned_bucket(&self, name: &str) -> Result<&Arc<BucketInfo>, S3Error> {
        self.bucket_for(name, self.access)
    }

    /// The bucket `name` if the caller's tenant owns it and the key may do
    /// `access` there (a copy reads its source bucket).
    pub fn bucket_for(&self, name: &str, access: BucketAccess) -> Result<&Arc<BucketInfo>, S3Error> {
        match self.snap.bucket(name) {
            None => Err(S3Error::new(S3ErrorCode::NoSuchBucket)),
            Some(b) if b.tenant != self.tenant => Err(S3Error::new(S3ErrorCode::AccessDenied)),
            Some(_) if !access.allowed(self.perms, name) => Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "This access key may not do that in this bucket.",
            )),
            Some(b) => Ok(b),
        }
    }
}

/// The S3 service of one core.
pub struct S3Service {
    core: Rc<CoreCtx>,
}

impl S3Service {
    pub fn new(core: Rc<CoreCtx>) -> Self {
        S3Service { core }
    }

    /// Verifies the signature; returns the key's tenant and the payload mode.
    fn authenticate(
        &self,
        head: &RequestHead<'_>,
        snap: &Snapshot,
    ) -> Result<(String, Vec<BucketPerm>, PayloadHash, Option<ChunkSigner>), S3Error> {
        let input = AuthInput::from_head(head);
        let auth = sigv4::detect(&input)?;
        let Some(access_key) = auth.access_key() else {
            return Err(S3Error::with_message(S3ErrorCode::AccessDenied, "Anonymous access is not allowed."));
        };
        let key = snap.keys.get(access_key).filter(|k| k.enabled).ok_or(S3ErrorCode::InvalidAccessKeyId)?;
        let ctx = VerifyCtx { region: &self.core.shared.config.server.region, now: crate::time::now_unix() };
        let mut sig = self.core.sigv4.borrow_mut();
        let (scratch, cache) = &mut *sig;
        let verified = sigv4::verify(&input, &auth, &key.secret, snap.generation, &ctx, scratch, cache)?;
        let signer = verified.payload.has_chunk_signatures().then(|| ChunkSigner::new(&verified));
        Ok((key.tenant.clone(), key.perms.clone(), verified.payload, signer))
    }

    async fn serve(
        &self,
        head: &RequestHead<'_>,
        ex: &mut Exchange<'_>,
        request_id: &str,
    ) -> (Operation, Result<u16, S3Error>) {
        let domain = self.core.shared.config.server.domain.as_deref();
        // `/admin/...` on the endpoint itself; on a virtual-hosted bucket
        // (`<bucket>.<domain>`) the same path is an object key.
        if (head.path == "/admin" || head.path.starts_with("/admin/")) && !is_virtual_hosted(head, domain) {
            return (Operation::Admin, Ok(crate::admin::api::serve(&self.core, head, ex, request_id).await));
        }
        if head.path.starts_with(crate::admin::proxy::PROXY_PREFIX) && !is_virtual_hosted(head, domain) {
            return (Operation::Proxy, crate::admin::proxy::serve(&self.core, head, ex, request_id).await);
        }
        let route = match route(head.method, head.path, head.query, head.header_str("host"), domain) {
            Ok(r) => r,
            Err(e) => return (Operation::Rejected, Err(e)),
        };
        if let Some(op) = internal_endpoint(head, &route) {
            return (op, self.serve_internal(op, head, ex, request_id).await);
        }
        let snap = self.core.snapshot();
        let (tenant, perms, payload, chunk_signer) = match self.authenticate(head, &snap) {
            Ok(a) => a,
            Err(e) => return (Operation::Rejected, Err(e)),
        };
        // A copy source turns a PUT into CopyObject or UploadPartCopy.
        let op = match route.op {
            Operation::PutObject if head.header("x-amz-copy-source").is_some() => Operation::CopyObject,
            Operation::UploadPart if head.header("x-amz-copy-source").is_some() => Operation::UploadPartCopy,
            op => op,
        };
        let ctx = Ctx {
            core: &self.core,
            head,
            request_id,
            snap: &snap,
            tenant: &tenant,
            payload,
            chunk_signer,
            perms: &perms,
            access: BucketAccess::of(op),
        };
        let bucket = route.bucket.as_deref().unwrap_or("");
        let key = route.key.as_deref().unwrap_or("");
        let result = match op {
            Operation::ListBuckets => bucket_ops::list_buckets(&ctx, ex).await,
            Operation::CreateBucket => bucket_ops::create_bucket(&ctx, ex, bucket).await,
            Operation::HeadBucket => bucket_ops::head_bucket(&ctx, ex, bucket).await,
            Operation::DeleteBucket => bucket_ops::delete_bucket(&ctx, ex, bucket).await,
            Operation::GetBucketLocation => bucket_ops::get_bucket_location(&ctx, ex, bucket).await,
            Operation::ListObjects | Operation::ListObjectsV2 => {
                list_ops::list_objects(&ctx, ex, bucket).await
            }
            Operation::PutObject => object_ops::put_object(&ctx, ex, bucket, key).await,
            Operation::GetObject | Operation::HeadObject => {
                object_ops::get_object(&ctx, ex, bucket, key).await
            }
            Operation::DeleteObject => object_ops::delete_object(&ctx, ex, bucket, key).await,
            Operation::DeleteObjects => delete_ops::delete_objects(&ctx, ex, bucket).await,
            Operation::CopyObject => copy_ops::copy_object(&ctx, ex, bucket, key).await,
            Operation::UploadPartCopy => copy_ops::upload_part_copy(&ctx, ex, bucket, key).await,
            Operation::CreateMultipartUpload => {
                multipart_ops::create_multipart_upload(&ctx, ex, bucket, key).await
            }
            Operation::UploadPart => multipart_ops::upload_part(&ctx, ex, bucket, key).await,
            Operation::CompleteMultipartUpload => {
                multipart_ops::complete_multipart_upload(&ctx, ex, bucket, key).await
            }
            Operation::AbortMultipartUpload => {
                multipart_ops::abort_multipart_upload(&ctx, ex, bucket, key).await
            }
            Operation::ListParts => multipart_ops::list_parts(&ctx, ex, bucket, key).await,
            Operation::ListMultipartUploads => multipart_ops::list_multipart_uploads(&ctx, ex, bucket).await,
            Operation::Unsupported(name) => Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                format!("{name} is not implemented by sluice."),
            )),
            Operation::MethodNotAllowed => Err(S3Error::new(S3ErrorCode::MethodNotAllowed)),
            Operation::Rejected
            | Operation::Health
            | Operation::Metrics
            | Operation::Admin
            | Operation::Proxy => Err(S3Error::new(S3ErrorCode::InternalError)),
        };
        (op, result)
    }

    async fn serve_internal(
        &self,
        op: Operation,
        head: &RequestHead<'_>,
        ex: &mut Exchange<'_>,
        request_id: &str,
    ) -> Result<u16, S3Error> {
        let shared = &self.core.shared;
        let (status, ctype, body): (u16, &[u8], Vec<u8>) = match (op, head.path) {
            (Operation::Metrics, _) => {
                let mut text = shared.metrics.render(shared.workers);
                let gauges = self.replication_gauges().await?;
                shared.replication_metrics.render(&gauges, &shared.health.states(), &mut text);
                let (used, map, intents) = self
                    .core
                    .meta_read(|s| {
                        Ok((s.store.usage().0, s.store.usage().1, s.store.tasks().intent_count()?))
                    })
                    .await?;
                crate::observe::metrics::render_metadata(used, map, intents, &mut text);
                (200, b"text/plain; version=0.0.4", text.into_bytes())
            }
            (_, "/ready") => {
                let ready = !shared.is_stopping()
                    && shared.workers_running.load(std::sync::atomic::Ordering::Acquire) == shared.workers;
                if ready {
                    (200, b"text/plain", b"ready\n".to_vec())
                } else {
                    (503, b"text/plain", b"not ready\n".to_vec())
                }
            }
            _ => (200, b"text/plain", b"ok\n".to_vec()),
        };
        let body = if head.method == Method::Head { &[][..] } else { &body[..] };
        respond::send(ex, status, request_id, &[], Some(ctype), body).await
    }
}

impl S3Service {
    /// Queue gauges for `/metrics`: the LMDB backlog (read on the blocking
    /// pool) and the per-core queue counters.
    async fn replication_gauges(&self) -> Result<QueueGauges, S3Error> {
        let (backlog, dead) =
            self.core.meta_read(|s| Ok((s.store.tasks().pending()?, s.store.tasks().dead_count()?))).await?;
        let now = crate::replication::now_ms();
        let lag_secs = backlog.oldest_created_ms.map_or(0.0, |t| now.saturating_sub(t) as f64 / 1000.0);
        let mut stats = self.core.shared.queue_stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        stats.sort_by_key(|q| q.core);
        Ok(QueueGauges {
            queued_per_core: stats.iter().map(|q| q.depth.get() as u64).collect(),
            enqueued_per_core: stats.iter().map(|q| q.stats.enqueued()).collect(),
            pending: backlog.pending,
            lag_secs,
            dead,
        })
    }
}

/// Whether the request addresses a bucket through its Host (`<bucket>.<domain>`).
fn is_virtual_hosted(head: &RequestHead<'_>, domain: Option<&str>) -> bool {
    let (Some(domain), Some(host)) = (domain, head.header_str("host")) else { return false };
    let host = host
        .rsplit_once(':')
        .map_or(host, |(h, p)| if p.bytes().all(|c| c.is_ascii_digit()) { h } else { host });
    let (h, d) = (host.as_bytes(), domain.as_bytes());
    h.len() > d.len() + 1
        && h[h.len() - d.len()..].eq_ignore_ascii_case(d)
        && h[h.len() - d.len() - 1] == b'.'
}

/// `/health`, `/ready` and `/metrics` on path-style URLs (those names are
/// reserved, so they can never be buckets).
fn internal_endpoint(head: &RequestHead<'_>, route: &Route<'_>) -> Option<Operation> {
    if !matches!(head.method, Method::Get | Method::Head) || route.key.is_some() {
        return None;
    }
    match (route.bucket.as_deref(), head.path) {
        (Some("health"), "/health") | (Some("ready"), "/ready") => Some(Operation::Health),
        (Some("metrics"), "/metrics") => Some(Operation::Metrics),
        _ => None,
    }
}

impl Handler for S3Service {
    async fn handle(&self, head: &RequestHead<'_>, ex: &mut Exchange<'_>) -> io::Result<()> {
        let started = Instant::now();
        let id = self.core.next_request_id();
        let request_id = std::str::from_utf8(&id).unwrap_or_default();
        let (op, outcome) = self.serve(head, ex, request_id).await;
        let status = match outcome {
            Ok(status) => status,
            Err(err) if ex.response_started() => {
                // The response head is already out: the only honest signal left
                // is to cut the connection.
                tracing::debug!(op = op.name(), error = %err, "request failed mid-response");
                ex.set_close();
                self.core.metrics.request(op, 500, started.elapsed(), ex.bytes_in, ex.bytes_out);
                return Err(io::ErrorKind::ConnectionAborted.into());
            }
            Err(err) => {
                respond::error(ex, &err, head.path, request_id, head.method == Method::Head).await?;
                err.status()
            }
        };
        self.core.metrics.request(op, status, started.elapsed(), ex.bytes_in, ex.bytes_out);
        tracing::debug!(target: "sluice::access", op = op.name(), status, request_id, "request");
        Ok(())
    }

    async fn reject(&self, code: S3ErrorCode, ex: &mut Exchange<'_>) -> io::Result<()> {
        let id = self.core.next_request_id();
        let request_id = std::str::from_utf8(&id).unwrap_or_default();
        ex.set_close();
        let result = respond::error(ex, &S3Error::new(code), "", request_id, false).await;
        self.core.metrics.request(
            Operation::Rejected,
            code.status(),
            std::time::Duration::ZERO,
            0,
            ex.bytes_out,
        );
        result
    }
}
