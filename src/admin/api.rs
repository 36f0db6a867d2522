//! The admin REST API under `/admin/v1`, in JSON.
//!
//! Each request: match the endpoint ([`super::rbac::ENDPOINTS`]),
//! authenticate the bearer token (stored only as a hash), find the tenant
//! that owns the resource, authorize with [`super::rbac::allowed`], run the
//! change off the event loop, publish a new metadata snapshot (every core
//! sees it at its next request, without a restart), answer, and append an
//! audit line.
//!
//! # Security
//! - A token's value never reaches a log; the audit log names its public id.
//! - Secrets (a new access key's secret, a new token, a new API key) are in
//!   the response to the call that creates them, and nowhere else, ever.
//! - Backend secret keys are never returned; endpoints are (operators need
//!   them), but only to `admin` and `viewer` tokens.

use std::rc::Rc;

use serde_json::{Value, json};

use super::audit::{AuditRecord, append, audit_path};
use super::backends::{backend_json, backend_json_record, backend_record, prepare_backend};
pub use super::bodies::check_body;
use super::bodies::{BackendBody, BucketBody, KeyBody, NameBody, PolicyBody, TokenBody, parse};
use super::error::AdminError;
use super::placement::{explain, rebalance};
use super::rbac::{Access, Endpoint, Matched, NoMatch, allowed, match_endpoint};
use crate::backend::Backend;
use crate::config::MAX_REPLICAS;
use crate::http::{Exchange, Method, RequestHead};
use crate::meta::{AdminTokenRecord, BucketPerm, BucketRecord, MetaError, Role, Snapshot};
use crate::runtime::core::CoreCtx;
use crate::s3::route::query_value;
use crate::server::Shared;

/// Largest admin request body.
pub const MAX_ADMIN_BODY: usize = 64 * 1024;
/// Content-Type of admin responses.
const JSON: &[u8] = b"application/json";

/// How often a change waiting for another one checks again.
const ADMIN_LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// Held while an admin change runs; released on drop (also on unwind).
struct AdminLock<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> AdminLock<'a> {
    async fn acquire(flag: &'a std::sync::atomic::AtomicBool) -> AdminLock<'a> {
        use std::sync::atomic::Ordering;
        while flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            monoio::time::sleep(ADMIN_LOCK_POLL).await;
        }
        AdminLock(flag)
    }
}

impl Drop for AdminLock<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Longest path (and result code) an audit line keeps, in bytes: admin paths
/// are short; a longer one is cut so no request can write a large line.
const MAX_AUDIT_PATH: usize = 512;

/// `s` cut to at most `max` bytes, on a character boundary.
fn bounded(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The caller, once authenticated.
struct Caller {
    token: AdminTokenRecord,
}

/// Serves one admin request; returns the status sent.
pub async fn serve(
    core: &Rc<CoreCtx>,
    head: &RequestHead<'_>,
    ex: &mut Exchange<'_>,
    request_id: &str,
) -> u16 {
    let (caller, action, result) = handle(core, head, ex).await;
    let (status, body) = match result {
        Ok((status, v)) => (status, serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => (e.status(), e.to_json()),
    };
    // Only authenticated requests are audited: a line per unauthenticated
    // request would let anyone who can reach the port grow the log.
    if let Some(caller) = &caller {
        let rec = AuditRecord {
            time: String::from_utf8_lossy(&crate::time::format_iso8601(crate::time::now_unix())).into_owned(),
            request_id: request_id.to_string(),
            token_id: caller.token.id.clone(),
            role: Some(caller.token.role.as_str()),
            tenant: caller.token.tenant.clone(),
            action: action.map_or_else(|| "-".to_string(), |e| format!("{e:?}")),
            method: head.method.as_str().to_string(),
            path: bounded(head.path, MAX_AUDIT_PATH).to_string(),
            status,
            result: if status < 300 {
                "ok".to_string()
            } else {
                serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["error"]["code"].as_str().map(|c| bounded(c, MAX_AUDIT_PATH).to_string()))
                    .unwrap_or_default()
            },
        };
        let path = audit_path(&core.shared.config);
        let _ = monoio::spawn_blocking(move || {
            if let Err(e) = append(&path, &rec) {
                tracing::error!(error = %e, "writing the audit log failed");
            }
        })
        .await;
    }
    let _ = crate::s3::respond::send(ex, status, request_id, &[], Some(JSON), &body).await;
    status
}

type Outcome = Result<(u16, Value), AdminError>;

async fn handle(
    core: &Rc<CoreCtx>,
    head: &RequestHead<'_>,
    ex: &mut Exchange<'_>,
) -> (Option<Caller>, Option<Endpoint>, Outcome) {
    let matched = match match_endpoint(head.method, head.path) {
        Ok(m) => m,
        Err(NoMatch::NotFound) => {
            return (None, None, Err(AdminError::NotFound("no such admin endpoint".into())));
        }
        Err(NoMatch::Method) => return (None, None, Err(AdminError::MethodNotAllowed)),
    };
    let endpoint = matched.row.endpoint;
    let caller = match authenticate(core, head).await {
        Ok(c) => c,
        Err(e) => return (None, Some(endpoint), Err(e)),
    };
    let body = match ex.read_small_body(MAX_ADMIN_BODY).await {
        Ok(b) => b,
        Err(crate::http::BodyError::TooLarge) => {
            return (Some(caller), Some(endpoint), Err(AdminError::TooLarge));
        }
        Err(_) => {
            return (
                Some(caller),
                Some(endpoint),
                Err(AdminError::BadRequest("the request body did not arrive".into())),
            );
        }
    };
    // Changes run one at a time (checks such as "replicas stay placeable"
    // read a snapshot, then write); reads never wait.
    let _one_change = if head.method != Method::Get {
        Some(AdminLock::acquire(&core.shared.admin_busy).await)
    } else {
        None
    };
    let result = dispatch(core, head, &matched, &caller, &body).await;
    (Some(caller), Some(endpoint), result)
}

async fn authenticate(core: &Rc<CoreCtx>, head: &RequestHead<'_>) -> Result<Caller, AdminError> {
    let token = head
        .header_str("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AdminError::Unauthorized("an admin token is required (Authorization: Bearer ...)"))?
        .to_string();
    let found = blocking(core, move |s| s.store.find_admin_token(&token)).await?;
    let token = found.ok_or(AdminError::Unauthorized("the admin token is not valid"))?;
    Ok(Caller { token })
}

/// Runs a store call on the blocking pool.
async fn blocking<R: Send + 'static>(
    core: &Rc<CoreCtx>,
    f: impl FnOnce(&Shared) -> Result<R, MetaError> + Send + 'static,
) -> Result<R, AdminError> {
    let shared = core.shared.clone();
    match monoio::spawn_blocking(move || f(&shared)).await {
        Ok(r) => r.map_err(AdminError::from),
        Err(_) => Err(AdminError::Internal),
    }
}

/// Runs a change and publishes the new snapshot to every core.
async fn change<R: Send + 'static>(
    core: &Rc<CoreCtx>,
    f: impl FnOnce(&Shared) -> Result<R, MetaError> + Send + 'static,
) -> Result<R, AdminError> {
    blocking(core, move |s| {
        let r = f(s)?;
        s.hub.reload(&s.store)?;
        Ok(r)
    })
    .await
}

/// Checks the caller's role against the endpoint's access class for a
/// resource of tenant `owner`.
fn authorize(caller: &Caller, access: Access, owner: Option<&str>) -> Result<(), AdminError> {
    if allowed(caller.token.role, caller.token.tenant.as_deref(), access, owner) {
        Ok(())
    } else {
        Err(AdminError::Forbidden)
    }
}

/// Whether a listing entry of `tenant` is visible to the caller.
fn visible(caller: &Caller, tenant: &str) -> bool {
    caller.token.role != Role::TenantAdmin || caller.token.tenant.as_deref() == Some(tenant)
}

fn key_json(k: &crate::meta::KeyInfo, access_key: &str) -> Value {
    json!({"access_key": access_key, "tenant": k.tenant, "enabled": k.enabled, "perms": k.perms})
}

fn bucket_json(b: &crate::meta::BucketInfo) -> Value {
    json!({"name": b.name, "tenant": b.tenant, "residency": b.residency, "replicas": b.replicas, "min_write_replicas": b.min_write_replicas, "created": b.created})
}

/// The tenant owning `bucket`, or 404.
fn bucket_owner(snap: &Snapshot, bucket: &str) -> Result<String, AdminError> {
    snap.bucket(bucket)
        .map(|b| b.tenant.clone())
        .ok_or_else(|| AdminError::NotFound(format!("no bucket {bucket:?}")))
}

/// Checks `min_write_replicas` against the replica count.
fn check_min_write(min_write_replicas: u8, replicas: u8) -> Result<(), AdminError> {
    if min_write_replicas == 0 || min_write_replicas > replicas {
        return Err(AdminError::BadRequest(format!("min_write_replicas must be 1..=replicas ({replicas})")));
    }
    Ok(())
}

/// Checks a residency + replicas policy against the backends.
fn check_policy(snap: &Snapshot, residency: &[String], replicas: u8) -> Result<(), AdminError> {
    if replicas == 0 || replicas > MAX_REPLICAS {
        return Err(AdminError::BadRequest(format!("replicas must be 1..={MAX_REPLICAS}")));
    }
    let eligible = snap.candidates(residency).len();
    if usize::from(replicas) > eligible {
        return Err(AdminError::BadRequest(format!(
            "the policy needs {replicas} replicas but only {eligible} backend(s) are eligible"
        )));
    }
    Ok(())
}

async fn dispatch(
    core: &Rc<CoreCtx>,
    head: &RequestHead<'_>,
    m: &Matched<'_>,
    caller: &Caller,
    body: &[u8],
) -> Outcome {
    let snap = core.snapshot();
    let access = m.row.access;
    let now = crate::time::now_unix();
    let p0 = m.params[0].to_string();
    let p1 = m.params[1].to_string();
    match m.row.endpoint {
        Endpoint::ListTenants => {
            authorize(caller, access, None)?;
            let tenants = blocking(core, |s| s.store.tenants()).await?;
            let list: Vec<Value> = tenants
                .iter()
                .filter(|t| visible(caller, &t.name))
                .map(|t| json!({"name": t.name, "created": t.created}))
                .collect();
            Ok((200, json!({ "tenants": list })))
        }
        Endpoint::CreateTenant => {
            authorize(caller, access, None)?;
            let b: NameBody = parse(body)?;
            let t = change(core, move |s| s.store.create_tenant(&b.name, now)).await?;
            Ok((201, json!({"name": t.name, "created": t.created})))
        }
        Endpoint::DeleteTenant => {
            authorize(caller, access, Some(&p0))?;
            let name = p0.clone();
            match change(core, move |s| s.store.delete_tenant(&name)).await? {
                true => Ok((200, json!({"deleted": p0}))),
                false => Err(AdminError::NotFound(format!("no tenant {p0:?}"))),
            }
        }
        Endpoint::ListKeys => {
            authorize(caller, access, Some(&p0))?;
            let mut list: Vec<(&String, &crate::meta::KeyInfo)> =
                snap.keys.iter().filter(|(_, k)| k.tenant == p0).collect();
            list.sort_by(|a, b| a.0.cmp(b.0));
            let list: Vec<Value> = list.into_iter().map(|(ak, k)| key_json(k, ak)).collect();
            Ok((200, json!({ "keys": list })))
        }
        Endpoint::CreateKey => {
            authorize(caller, access, Some(&p0))?;
            let b: KeyBody = parse(body)?;
            check_perms(&snap, &p0, &b.perms)?;
            let tenant = p0.clone();
            let k = change(core, move |s| s.store.create_key(&tenant, b.perms, now)).await?;
            Ok((
                201,
                json!({"access_key": k.access_key, "secret_key": k.secret_key.expose(), "tenant": k.tenant,
                       "enabled": k.enabled, "perms": k.perms}),
            ))
        }
        Endpoint::EnableKey | Endpoint::DisableKey | Endpoint::DeleteKey => {
            let owner = snap.keys.get(&p0).map(|k| k.tenant.clone());
            authorize(caller, access, Some(owner.as_deref().unwrap_or("")))?;
            if owner.is_none() {
                return Err(AdminError::NotFound(format!("no access key {p0:?}")));
            }
            let ak = p0.clone();
            if m.row.endpoint == Endpoint::DeleteKey {
                change(core, move |s| s.store.delete_key(&ak)).await?;
                return Ok((200, json!({"deleted": p0})));
            }
            let enabled = m.row.endpoint == Endpoint::EnableKey;
            change(core, move |s| s.store.update_key(&ak, |r| r.enabled = enabled)).await?;
            Ok((200, json!({"access_key": p0, "enabled": enabled})))
        }
        Endpoint::ListBuckets => {
            authorize(caller, access, None)?;
            let mut list: Vec<&std::sync::Arc<crate::meta::BucketInfo>> =
                snap.buckets.values().filter(|b| visible(caller, &b.tenant)).collect();
            list.sort_by(|a, b| a.name.cmp(&b.name));
            Ok((200, json!({ "buckets": list.into_iter().map(|b| bucket_json(b)).collect::<Vec<_>>() })))
        }
        Endpoint::CreateBucket => {
            let b: BucketBody = parse(body)?;
            authorize(caller, access, Some(&b.tenant))?;
            create_bucket(core, &snap, b, now).await
        }
        Endpoint::UpdateBucketPolicy => {
            let owner = bucket_owner(&snap, &p0);
            authorize(caller, access, Some(owner.as_deref().unwrap_or("")))?;
            owner?;
            let b: PolicyBody = parse(body)?;
            let current = snap.bucket(&p0).ok_or(AdminError::Internal)?;
            let residency = b.residency.clone().unwrap_or_else(|| current.residency.clone());
            let replicas = b.replicas.unwrap_or(current.replicas);
            check_policy(&snap, &residency, replicas)?;
            if let Some(m) = b.min_write_replicas {
                check_min_write(m, replicas)?;
            }
            // The physical bucket must exist on every backend the policy makes eligible.
            for c in snap.candidates(&residency) {
                let backend = core.backend(&snap, c.index).ok_or(AdminError::Internal)?;
                if backend.create_bucket(&current.physical).await.is_err() {
                    let id = &snap.backends[usize::from(c.index)].id;
                    return Err(AdminError::Unavailable(format!("backend {id:?} is unavailable")));
                }
            }
            let name = p0.clone();
            let rec = change(core, move |s| {
                s.store.update_bucket_policy(&name, b.residency, b.replicas, b.min_write_replicas)
            })
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no bucket {p0:?}")))?;
            rebalance(core, Some(p0.clone()));
            Ok((
                200,
                json!({"name": rec.name, "tenant": rec.tenant, "residency": rec.residency,
                             "replicas": rec.replicas, "min_write_replicas": rec.min_write_replicas,
                             "rebalance": "started"}),
            ))
        }
        Endpoint::ListBackends => {
            authorize(caller, access, None)?;
            let up = core.shared.health.states();
            let list: Vec<Value> = snap
                .backends
                .iter()
                .map(|b| backend_json(b, up.iter().find(|(id, _)| *id == b.id).is_none_or(|(_, u)| *u)))
                .collect();
            Ok((200, json!({ "backends": list })))
        }
        Endpoint::AddBackend | Endpoint::UpdateBackend => {
            authorize(caller, access, None)?;
            let b: BackendBody = parse(body)?;
            let adding = m.row.endpoint == Endpoint::AddBackend;
            let id = if adding {
                b.id.clone().ok_or_else(|| AdminError::BadRequest("id is required".into()))?
            } else {
                p0.clone()
            };
            let existing_id = id.clone();
            let existing = blocking(core, move |s| s.store.backend(&existing_id)).await?;
            let old = existing.clone();
            let rec = backend_record(&id, existing, b, adding)?;
            let out = backend_json_record(&rec);
            // A region change must leave every bucket placeable.
            if let Some(old) = &old
                && old.region != rec.region
            {
                for bucket in snap.buckets.values() {
                    let eligible = snap
                        .backends
                        .iter()
                        .filter(|x| !x.draining)
                        .map(|x| if x.id == rec.id { rec.region.as_str() } else { x.region.as_str() })
                        .filter(|region| crate::placement::is_allowed(region, &bucket.residency))
                        .count();
                    if usize::from(bucket.replicas) > eligible {
                        return Err(AdminError::Conflict(format!(
                            "bucket {:?} needs {} replicas; with region {:?} only {eligible} backend(s) are eligible",
                            bucket.name, bucket.replicas, rec.region
                        )));
                    }
                }
            }
            // Placement may choose the backend only once it holds the
            // physical bucket of every bucket it becomes eligible for: those
            // are created through a backend built outside the snapshot, and
            // the record is written (one change) only when that worked.
            let moved = old.as_ref().is_none_or(|o| o.region != rec.region || o.endpoint != rec.endpoint);
            if moved {
                prepare_backend(core, &snap, &rec).await?;
            }
            change(core, move |s| s.store.put_backend(&rec)).await?;
            rebalance(core, None);
            Ok((if adding { 201 } else { 200 }, out))
        }
        Endpoint::DrainBackend => {
            authorize(caller, access, None)?;
            let id = p0.clone();
            let Some(mut rec) = blocking(core, move |s| s.store.backend(&id)).await? else {
                return Err(AdminError::NotFound(format!("no backend {p0:?}")));
            };
            rec.draining = true;
            for b in snap.buckets.values() {
                let eligible =
                    b.candidates.iter().filter(|c| snap.backends[usize::from(c.index)].id != rec.id).count();
                if usize::from(b.replicas) > eligible {
                    return Err(AdminError::Conflict(format!(
                        "bucket {:?} needs {} replicas; without {p0:?} only {eligible} backend(s) are eligible",
                        b.name, b.replicas
                    )));
                }
            }
            change(core, move |s| s.store.put_backend(&rec)).await?;
            rebalance(core, None);
            Ok((200, json!({"id": p0, "draining": true, "rebalance": "started"})))
        }
        Endpoint::RemoveBackend => {
            authorize(caller, access, None)?;
            let Some(b) = snap.backends.iter().find(|b| b.id == p0) else {
                return Err(AdminError::NotFound(format!("no backend {p0:?}")));
            };
            if !b.draining {
                return Err(AdminError::Conflict(format!(
                    "drain backend {p0:?} first, and remove it once repair has moved its objects"
                )));
            }
            // Nothing may be lost: no object left on it, no task still using it.
            let index = b.index;
            let backend = core.backend(&snap, index).ok_or(AdminError::Internal)?;
            // Every bucket, eligible or not: a policy change may have left
            // copies there that repair has not moved yet.
            for bucket in snap.buckets.values() {
                match backend.bucket_is_empty(&bucket.physical).await {
                    Ok(true) => {}
                    // No physical bucket there: nothing of it to lose.
                    Err(crate::backend::BackendError::Status { status: 404, .. }) => {}
                    Ok(false) => {
                        return Err(AdminError::Conflict(format!(
                            "backend {p0:?} still holds objects of bucket {:?}; wait for repair to move them",
                            bucket.name
                        )));
                    }
                    Err(_) => return Err(AdminError::Unavailable(format!("backend {p0:?} is unavailable"))),
                }
            }
            let id = p0.clone();
            let busy = blocking(core, move |s| {
                Ok(s.store
                    .tasks()
                    .all_pending()?
                    .iter()
                    .any(|t| t.source == id || t.targets.contains(&id) || t.cleanup.contains(&id)))
            })
            .await?;
            if busy {
                return Err(AdminError::Conflict(format!(
                    "replication tasks still use backend {p0:?}; remove it once they are done"
                )));
            }
            let id = p0.clone();
            let uploads = blocking(core, move |s| s.store.uploads_on_backend(&id)).await?;
            if uploads > 0 {
                return Err(AdminError::Conflict(format!(
                    "{uploads} multipart upload(s) are in progress on backend {p0:?}; complete or abort them first"
                )));
            }
            let id = p0.clone();
            change(core, move |s| s.store.delete_backend(&id)).await?;
            Ok((200, json!({"deleted": p0})))
        }
        Endpoint::ReplicationStatus => {
            authorize(caller, access, None)?;
            let (backlog, dead) =
                blocking(core, |s| Ok((s.store.tasks().pending()?, s.store.tasks().dead_count()?))).await?;
            let now_ms = crate::replication::now_ms();
            let lag = backlog.oldest_created_ms.map_or(0.0, |t| now_ms.saturating_sub(t) as f64 / 1000.0);
            let backends: Vec<Value> =
                core.shared.health.states().into_iter().map(|(id, up)| json!({"id": id, "up": up})).collect();
            Ok((
                200,
                json!({"pending": backlog.pending, "dead": dead, "lag_seconds": lag, "backends": backends}),
            ))
        }
        Endpoint::DeadLetters => {
            authorize(caller, access, None)?;
            let tasks = blocking(core, |s| s.store.tasks().list_dead(0, 1000)).await?;
            let list: Vec<Value> = tasks
                .iter()
                .map(|t| {
                    let bucket =
                        snap.buckets.values().find(|b| b.id_hex == t.bucket_id).map(|b| b.name.clone());
                    json!({"id": t.id, "bucket": bucket, "key": t.key, "kind": format!("{:?}", t.kind),
                           "attempts": t.attempts, "error": t.last_error})
                })
                .collect();
            Ok((200, json!({ "dead_letters": list })))
        }
        Endpoint::ExplainPlacement => {
            let owner = bucket_owner(&snap, &p0);
            authorize(caller, access, Some(owner.as_deref().unwrap_or("")))?;
            owner?;
            let key = query_value(head.query, "key")
                .and_then(crate::s3::route::decode)
                .ok_or_else(|| AdminError::BadRequest("give the object key as ?key=".into()))?;
            explain(core, &snap, &p0, &key)
        }
        Endpoint::ListTokens => {
            authorize(caller, access, None)?;
            let list = blocking(core, |s| s.store.list_admin_tokens()).await?;
            Ok((200, json!({ "tokens": list })))
        }
        Endpoint::CreateToken => {
            authorize(caller, access, None)?;
            let b: TokenBody = parse(body)?;
            let role = Role::parse(&b.role)
                .ok_or_else(|| AdminError::BadRequest("role must be admin, tenant-admin or viewer".into()))?;
            let (token, rec) =
                blocking(core, move |s| s.store.create_admin_token(&b.name, role, b.tenant.as_deref(), now))
                    .await?;
            Ok((
                201,
                json!({"token": token.expose(), "id": rec.id, "name": rec.name, "role": rec.role, "tenant": rec.tenant}),
            ))
        }
        Endpoint::DeleteToken => {
            authorize(caller, access, None)?;
            let id = p0.clone();
            match blocking(core, move |s| s.store.delete_admin_token(&id)).await? {
                true => Ok((200, json!({"deleted": p0}))),
                false => Err(AdminError::NotFound(format!("no token {p0:?}"))),
            }
        }
        Endpoint::ListApiKeys => {
            authorize(caller, access, Some(&p0))?;
            let all = blocking(core, |s| s.store.api_keys()).await?;
            let list: Vec<Value> = all
                .into_iter()
                .filter(|(_, k)| k.tenant == p0)
                .map(|(_, k)| json!({"id": k.id, "name": k.name, "tenant": k.tenant, "perms": k.perms, "created": k.created}))
                .collect();
            Ok((200, json!({ "api_keys": list })))
        }
        Endpoint::CreateApiKey => {
            authorize(caller, access, Some(&p0))?;
            let b: KeyBody = parse(body)?;
            check_perms(&snap, &p0, &b.perms)?;
            let tenant = p0.clone();
            let (key, rec) =
                change(core, move |s| s.store.create_api_key(&tenant, &b.name, b.perms, now)).await?;
            Ok((
                201,
                json!({"api_key": key.expose(), "id": rec.id, "name": rec.name, "tenant": rec.tenant, "perms": rec.perms}),
            ))
        }
        Endpoint::DeleteApiKey => {
            authorize(caller, access, Some(&p0))?;
            let all = blocking(core, |s| s.store.api_keys()).await?;
            if !all.iter().any(|(_, k)| k.id == p1 && k.tenant == p0) {
                return Err(AdminError::NotFound(format!("no API key {p1:?} in tenant {p0:?}")));
            }
            let id = p1.clone();
            change(core, move |s| s.store.delete_api_key(&id)).await?;
            Ok((200, json!({"deleted": p1})))
        }
    }
}

/// Per-bucket permissions may only name the tenant's own buckets.
fn check_perms(snap: &Snapshot, tenant: &str, perms: &[BucketPerm]) -> Result<(), AdminError> {
    for p in perms {
        match snap.bucket(&p.bucket) {
            Some(b) if b.tenant == tenant => {}
            _ => {
                return Err(AdminError::BadRequest(format!(
                    "tenant {tenant:?} has no bucket {:?}",
                    p.bucket
                )));
            }
        }
    }
    Ok(())
}

async fn create_bucket(core: &Rc<CoreCtx>, snap: &Snapshot, b: BucketBody, now: i64) -> Outcome {
    if let Err(why) = crate::s3::names::check_bucket_name(&b.name) {
        return Err(AdminError::BadRequest(format!("bucket name {:?}: {why}", b.name)));
    }
    if !tenant_exists(core, &b.tenant).await? {
        return Err(AdminError::BadRequest(format!("no tenant {:?}", b.tenant)));
    }
    let replicas = b.replicas.unwrap_or(core.shared.config.server.default_replicas);
    check_policy(snap, &b.residency, replicas)?;
    let min_write_replicas = b.min_write_replicas.unwrap_or(1);
    check_min_write(min_write_replicas, replicas)?;
    if snap.bucket(&b.name).is_some() {
        return Err(AdminError::Conflict(format!("bucket {:?} already exists", b.name)));
    }
    let physical = crate::placement::physical_bucket_name(&b.tenant, &b.name);
    for c in snap.candidates(&b.residency) {
        let backend = core.backend(snap, c.index).ok_or(AdminError::Internal)?;
        if let Err(e) = backend.create_bucket(&physical).await {
            let id = &snap.backends[usize::from(c.index)].id;
            tracing::warn!(backend = %id, error = ?e, "creating a physical bucket failed");
            return Err(AdminError::Unavailable(format!("backend {id:?} is unavailable")));
        }
    }
    let rec = BucketRecord {
        name: b.name.clone(),
        tenant: b.tenant.clone(),
        id: crate::meta::model::new_bucket_id(),
        residency: b.residency,
        replicas,
        min_write_replicas,
        created: now,
    };
    let out = json!({"name": rec.name, "tenant": rec.tenant, "residency": rec.residency,
                     "replicas": rec.replicas, "min_write_replicas": rec.min_write_replicas});
    let inserted = change(core, move |s| s.store.insert_bucket(&rec)).await?;
    match inserted {
        crate::meta::BucketInsert::Created => Ok((201, out)),
        _ => Err(AdminError::Conflict(format!("bucket {:?} already exists", b.name))),
    }
}

async fn tenant_exists(core: &Rc<CoreCtx>, tenant: &str) -> Result<bool, AdminError> {
    let t = tenant.to_string();
    blocking(core, move |s| s.store.tenant_exists(&t)).await
}
