//! Backends through the admin API: records built from request bodies,
//! their JSON form, and preparing a backend (its physical buckets) before it
//! is published.

use std::rc::Rc;

use serde_json::{Value, json};

use super::bodies::BackendBody;
use super::error::AdminError;
use crate::backend::Backend;
use crate::config::{Endpoint as BackendEndpoint, check_name};
use crate::meta::{BackendRecord, Snapshot};
use crate::runtime::core::CoreCtx;
use crate::secret::Secret;

pub(super) fn backend_json(b: &crate::meta::BackendInfo, up: bool) -> Value {
    let endpoint = match &b.endpoint {
        BackendEndpoint::Http { host, port, tls } => {
            format!("http{}://{host}:{port}", if *tls { "s" } else { "" })
        }
        BackendEndpoint::File { root } => format!("file://{}", root.display()),
    };
    json!({"id": b.id, "endpoint": endpoint, "region": b.region, "weight": b.weight, "draining": b.draining, "up": up})
}

/// A backend record from a request body: a new one (`adding`) or the
/// existing one with the fields given replaced.
pub(super) fn backend_record(
    id: &str,
    existing: Option<BackendRecord>,
    b: BackendBody,
    adding: bool,
) -> Result<BackendRecord, AdminError> {
    let bad = |m: String| AdminError::BadRequest(m);
    check_name("id", id).map_err(|e| bad(e.to_string()))?;
    let mut rec = match (existing, adding) {
        (Some(_), true) => return Err(AdminError::Conflict(format!("backend {id:?} already exists"))),
        (None, false) => return Err(AdminError::NotFound(format!("no backend {id:?}"))),
        (Some(r), false) => r,
        (None, true) => {
            let endpoint = b.endpoint.as_deref().ok_or_else(|| bad("endpoint is required".into()))?;
            let region = b.region.clone().ok_or_else(|| bad("region is required".into()))?;
            BackendRecord {
                id: id.to_string(),
                endpoint: BackendEndpoint::parse(endpoint).map_err(|e| bad(format!("endpoint: {e}")))?,
                region,
                access_key: String::new(),
                secret_key: Secret::new(""),
                weight: 1.0,
                signing_region: crate::config::DEFAULT_REGION.to_string(),
                draining: false,
            }
        }
    };
    if let Some(e) = &b.endpoint {
        rec.endpoint = BackendEndpoint::parse(e).map_err(|e| bad(format!("endpoint: {e}")))?;
    }
    if let Some(r) = b.region {
        check_name("region", &r).map_err(|e| bad(e.to_string()))?;
        rec.region = r;
    }
    if let Some(a) = b.access_key {
        rec.access_key = a;
    }
    if let Some(s) = b.secret_key {
        rec.secret_key = s;
    }
    if let Some(w) = b.weight {
        if !crate::placement::is_valid_weight(w) {
            return Err(bad("weight must be a positive finite number".into()));
        }
        rec.weight = w;
    }
    if let Some(r) = b.signing_region {
        rec.signing_region = r;
    }
    if matches!(rec.endpoint, BackendEndpoint::Http { .. })
        && (rec.access_key.is_empty() || rec.secret_key.is_empty())
    {
        return Err(bad("S3 backends need access_key and secret_key".into()));
    }
    Ok(rec)
}

pub(super) fn backend_json_record(b: &BackendRecord) -> Value {
    let endpoint = match &b.endpoint {
        BackendEndpoint::Http { host, port, tls } => {
            format!("http{}://{host}:{port}", if *tls { "s" } else { "" })
        }
        BackendEndpoint::File { root } => format!("file://{}", root.display()),
    };
    json!({"id": b.id, "endpoint": endpoint, "region": b.region, "weight": b.weight, "draining": b.draining})
}

/// Creates, on backend `rec` (not published yet), the physical bucket of
/// every bucket whose residency allows it.
pub(super) async fn prepare_backend(
    core: &Rc<CoreCtx>,
    snap: &Snapshot,
    rec: &BackendRecord,
) -> Result<(), AdminError> {
    let for_info = rec.clone();
    // Resolving the host name may block: off the event loop.
    let info = monoio::spawn_blocking(move || crate::meta::BackendInfo::from_record(0, &for_info))
        .await
        .map_err(|_| AdminError::Internal)?;
    let backend = core.standalone_backend(&info);
    for bucket in snap.buckets.values() {
        if crate::placement::is_allowed(&rec.region, &bucket.residency)
            && backend.create_bucket(&bucket.physical).await.is_err()
        {
            return Err(AdminError::Unavailable(format!("backend {:?} is unavailable", rec.id)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_bodies_validate() {
        let body = |j: &str| -> BackendBody { serde_json::from_str(j).unwrap() };
        let r =
            backend_record("b1", None, body(r#"{"endpoint":"file:///tmp/x","region":"r1"}"#), true).unwrap();
        assert_eq!(r.region, "r1");
        let e =
            backend_record("b1", None, body(r#"{"endpoint":"http://h:1","region":"r1"}"#), true).unwrap_err();
        assert!(matches!(e, AdminError::BadRequest(m) if m.contains("access_key")));
        let e = backend_record("b1", Some(r.clone()), body("{}"), true).unwrap_err();
        assert_eq!(e.status(), 409);
        let e = backend_record("b1", None, body("{}"), false).unwrap_err();
        assert_eq!(e.status(), 404);
        let w = backend_record("b1", Some(r), body(r#"{"weight":2.5}"#), false).unwrap();
        assert_eq!(w.weight, 2.5);
        assert!(serde_json::from_str::<BackendBody>(r#"{"nope":1}"#).is_err());
    }
}
