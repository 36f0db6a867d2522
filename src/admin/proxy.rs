//! `/proxy/{bucket}/{key}`: GET, HEAD, PUT and DELETE of objects for
//! clients that do not speak SigV4, with the same placement, replication,
//! conditional requests and checksums as the S3 routes (the S3 operations
//! serve them).
//!
//! Authentication is `Authorization: Bearer <credential>`: an API key
//! (`sluice_key_...`, created through the admin API) or a JWT from a
//! configured issuer ([`super::jwt`]). Both map to a tenant and optional
//! per-bucket permissions. Without a bearer credential, on the HTTPS
//! listener, a verified client certificate whose name `tls.client_tenants`
//! maps to a tenant authenticates as that tenant. Missing or invalid credentials get 401, other
//! failures the S3 error's status; errors are JSON:
//! `{"error": {"code", "message"}}`. A PUT needs `Content-Length`.
//!
//! # Security
//! - API keys are looked up by their keyed hash (never compared in clear).
//! - A credential only reaches its own tenant's buckets (another tenant's
//!   bucket answers 403 AccessDenied, an unknown name 404 NoSuchBucket).

use std::rc::Rc;

use super::jwt::JwtError;
use crate::error::S3Error;
use crate::http::{Exchange, Method, RequestHead};
use crate::meta::BucketPerm;
use crate::meta::admin_store::API_KEY_PREFIX;
use crate::runtime::core::CoreCtx;
use crate::s3::object_ops;
use crate::s3::route::{Operation, decode};
use crate::s3::service::{BucketAccess, Ctx};
use crate::sigv4::PayloadHash;

/// The path prefix of the proxy routes.
pub const PROXY_PREFIX: &str = "/proxy/";
const JSON: &[u8] = b"application/json";

/// Who the credential speaks for.
struct Identity {
    tenant: String,
    perms: Vec<BucketPerm>,
}

/// Serves one `/proxy` request; returns its status (Err only when the
/// response was already under way and the connection must be cut).
pub async fn serve(
    core: &Rc<CoreCtx>,
    head: &RequestHead<'_>,
    ex: &mut Exchange<'_>,
    request_id: &str,
) -> Result<u16, S3Error> {
    let snap = core.snapshot();
    let peer_tenant = ex.peer().and_then(|p| p.tenant.clone());
    let identity = match authenticate(core, head, &snap, peer_tenant) {
        Ok(id) => id,
        Err(message) => return send_error(ex, head, 401, "Unauthorized", message, request_id).await,
    };
    let Some((bucket, key)) = parse_path(head.path) else {
        let msg = "expected /proxy/{bucket}/{key}";
        return send_error(ex, head, 400, "InvalidRequest", msg, request_id).await;
    };
    let op = match head.method {
        Method::Get => Operation::GetObject,
        Method::Head => Operation::HeadObject,
        Method::Put => Operation::PutObject,
        Method::Delete => Operation::DeleteObject,
        _ => {
            let msg = "the proxy routes take GET, HEAD, PUT and DELETE";
            return send_error(ex, head, 405, "MethodNotAllowed", msg, request_id).await;
        }
    };
    let ctx = Ctx {
        core,
        head,
        request_id,
        snap: &snap,
        tenant: &identity.tenant,
        payload: PayloadHash::Unsigned,
        chunk_signer: None,
        perms: &identity.perms,
        access: BucketAccess::of(op),
    };
    let result = match op {
        Operation::PutObject => object_ops::put_object(&ctx, ex, &bucket, &key).await,
        Operation::DeleteObject => object_ops::delete_object(&ctx, ex, &bucket, &key).await,
        _ => object_ops::get_object(&ctx, ex, &bucket, &key).await,
    };
    match result {
        Ok(status) => Ok(status),
        Err(e) if ex.response_started() => Err(e),
        Err(e) => send_error(ex, head, e.status(), e.code.as_str(), &e.message, request_id).await,
    }
}

/// The bucket and the (decoded) key of a proxy path.
fn parse_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix(PROXY_PREFIX)?;
    let (bucket, key) = rest.split_once('/')?;
    let bucket = decode(bucket)?.into_owned();
    let key = decode(key)?.into_owned();
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// A bearer credential wins; without one, a verified client certificate
/// that `tls.client_tenants` maps to a tenant authenticates the request.
fn authenticate(
    core: &CoreCtx,
    head: &RequestHead<'_>,
    snap: &crate::meta::Snapshot,
    peer_tenant: Option<String>,
) -> Result<Identity, &'static str> {
    // Any Authorization header decides: a certificate is used only when
    // there is none, so a bad or revoked token never falls back to it.
    let credential = match (head.header("authorization"), peer_tenant) {
        (Some(raw), _) => {
            let value =
                std::str::from_utf8(raw).map_err(|_| "the Authorization header is not valid UTF-8")?;
            let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
            let token = rest.trim();
            if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
                return Err("the Authorization header must be: Bearer <API key or JWT>");
            }
            token
        }
        (None, Some(tenant)) => return Ok(Identity { tenant, perms: Vec::new() }),
        (None, None) => {
            return Err(
                "credentials are required: Authorization: Bearer <API key or JWT>, or a client certificate",
            );
        }
    };
    if credential.starts_with(API_KEY_PREFIX) {
        let hash = core.shared.store.credential_hash(credential);
        let key = snap.api_keys.get(&hash).ok_or("the API key is not valid")?;
        return Ok(Identity { tenant: key.tenant.clone(), perms: key.perms.clone() });
    }
    if snap.jwt.is_empty() {
        return Err("the API key is not valid");
    }
    snap.jwt
        .verify(credential)
        .map(|id| Identity { tenant: id.tenant, perms: id.perms })
        .map_err(|e: JwtError| e.message())
}

/// A JSON error; no body for HEAD and 304 (none may follow them).
async fn send_error(
    ex: &mut Exchange<'_>,
    head: &RequestHead<'_>,
    status: u16,
    code: &str,
    message: &str,
    request_id: &str,
) -> Result<u16, S3Error> {
    let lines: &[u8] = if status == 401 { b"WWW-Authenticate: Bearer\r\n" } else { b"" };
    if head.method == Method::Head || status == 304 {
        return crate::s3::respond::send(ex, status, request_id, lines, None, &[]).await;
    }
    let body = serde_json::to_vec(&serde_json::json!({"error": {"code": code, "message": message}}))
        .unwrap_or_default();
    crate::s3::respond::send(ex, status, request_id, lines, Some(JSON), &body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("/proxy/logs/a/b%20c"), Some(("logs".into(), "a/b c".into())));
        assert_eq!(parse_path("/proxy/logs/"), None);
        assert_eq!(parse_path("/proxy/logs"), None);
        assert_eq!(parse_path("/proxy//k"), None);
        assert_eq!(parse_path("/proxy/logs/%ff"), None);
    }
}
