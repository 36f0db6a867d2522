//! The JSON bodies of admin requests, and the checks each endpoint runs on
//! its body before it touches the store ([`check_body`], also the fuzz
//! target's entry point). Unknown fields are refused.

use serde::Deserialize;

use super::backends::backend_record;
use super::error::AdminError;
use super::rbac::Endpoint;
use crate::config::{Endpoint as BackendEndpoint, MAX_REPLICAS, check_name};
use crate::meta::{BackendRecord, BucketPerm, Role};
use crate::secret::Secret;

pub(super) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, AdminError> {
    serde_json::from_slice(if body.is_empty() { b"{}" } else { body })
        .map_err(|e| AdminError::BadRequest(format!("invalid JSON body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NameBody {
    pub(super) name: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct KeyBody {
    pub(super) perms: Vec<BucketPerm>,
    pub(super) name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BucketBody {
    pub(super) tenant: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) residency: Vec<String>,
    pub(super) replicas: Option<u8>,
    pub(super) min_write_replicas: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyBody {
    pub(super) residency: Option<Vec<String>>,
    pub(super) replicas: Option<u8>,
    pub(super) min_write_replicas: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BackendBody {
    pub(super) id: Option<String>,
    pub(super) endpoint: Option<String>,
    pub(super) region: Option<String>,
    pub(super) access_key: Option<String>,
    pub(super) secret_key: Option<Secret>,
    pub(super) weight: Option<f64>,
    pub(super) signing_region: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    pub(super) name: String,
    pub(super) role: String,
    pub(super) tenant: Option<String>,
}

/// Parses and checks a request body as `endpoint` does before it touches
/// the store (the fuzz target drives this). Never panics; an error is a
/// 4xx [`AdminError`].
pub fn check_body(endpoint: Endpoint, body: &[u8]) -> Result<(), AdminError> {
    let bad = |m: String| AdminError::BadRequest(m);
    match endpoint {
        Endpoint::CreateTenant => {
            let b: NameBody = parse(body)?;
            check_name("name", &b.name).map_err(|e| bad(e.to_string()))
        }
        Endpoint::CreateKey | Endpoint::CreateApiKey => parse::<KeyBody>(body).map(drop),
        Endpoint::CreateBucket => {
            let b: BucketBody = parse(body)?;
            crate::s3::names::check_bucket_name(&b.name).map_err(|why| bad(why.to_string()))?;
            if b.replicas.is_some_and(|r| r == 0 || r > MAX_REPLICAS) {
                return Err(bad(format!("replicas must be 1..={MAX_REPLICAS}")));
            }
            Ok(())
        }
        Endpoint::UpdateBucketPolicy => parse::<PolicyBody>(body).map(drop),
        Endpoint::AddBackend | Endpoint::UpdateBackend => {
            let b: BackendBody = parse(body)?;
            let adding = endpoint == Endpoint::AddBackend;
            let existing = (!adding).then(|| BackendRecord {
                id: "b".into(),
                endpoint: BackendEndpoint::File { root: "/tmp/b".into() },
                region: "r".into(),
                access_key: String::new(),
                secret_key: Secret::new(""),
                weight: 1.0,
                signing_region: crate::config::DEFAULT_REGION.into(),
                draining: false,
            });
            let id = if adding { b.id.clone().unwrap_or_default() } else { "b".into() };
            backend_record(&id, existing, b, adding).map(drop)
        }
        Endpoint::CreateToken => {
            let b: TokenBody = parse(body)?;
            Role::parse(&b.role)
                .map(drop)
                .ok_or_else(|| bad("role must be admin, tenant-admin or viewer".into()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_before_the_store() {
        assert!(check_body(Endpoint::CreateTenant, br#"{"name":"acme"}"#).is_ok());
        assert_eq!(check_body(Endpoint::CreateTenant, b"{").unwrap_err().status(), 400);
        assert_eq!(check_body(Endpoint::CreateTenant, br#"{"name":"a b"}"#).unwrap_err().status(), 400);
        assert_eq!(check_body(Endpoint::CreateTenant, br#"{"name":"a","x":1}"#).unwrap_err().status(), 400);
        assert!(check_body(Endpoint::CreateBucket, br#"{"tenant":"t","name":"ok-bucket"}"#).is_ok());
        assert_eq!(
            check_body(Endpoint::CreateBucket, br#"{"tenant":"t","name":"NO"}"#).unwrap_err().status(),
            400
        );
        assert_eq!(
            check_body(Endpoint::CreateToken, br#"{"name":"n","role":"root"}"#).unwrap_err().status(),
            400
        );
        assert!(check_body(Endpoint::UpdateBackend, br#"{"weight":2.0}"#).is_ok());
        assert_eq!(check_body(Endpoint::AddBackend, br#"{"id":"x"}"#).unwrap_err().status(), 400);
    }
}
