//! JWT bearer tokens for `/proxy`: HS256 and EdDSA (Ed25519), verified with
//! the `jsonwebtoken` crate against the issuers configured in `[[jwt]]`.
//!
//! A token is accepted when one issuer with the token's algorithm verifies
//! its signature, `iss`, `aud`, `exp` (required) and `nbf` (when present),
//! with [`JWT_LEEWAY_SECS`] of clock leeway. The claims map to a tenant (the
//! issuer's `tenant`, or else the `tenant` claim) and to per-bucket
//! permissions (`perms`, the same shape as an access key's; absent = the
//! whole tenant).
//!
//! # Security
//! - Each issuer has exactly one algorithm: an HS256 token is never checked
//!   against an EdDSA issuer's public key (the HS/EdDSA key confusion), and
//!   `alg: none` is not an algorithm the crate accepts.
//! - An issuer bound to a tenant cannot mint tokens for another tenant.
//! - Tokens longer than [`MAX_JWT_LEN`] are refused before any parsing.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use crate::meta::{BucketPerm, JwtIssuerRecord};

/// Longest token accepted.
pub const MAX_JWT_LEN: usize = 8 * 1024;
/// Clock leeway for `exp` and `nbf`.
pub const JWT_LEEWAY_SECS: u64 = 30;

/// Why a token was refused (the message of the 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not a JWT, or too long.
    Malformed,
    /// No configured issuer uses the token's algorithm.
    Algorithm,
    Expired,
    NotYetValid,
    /// Signature, issuer or audience did not match any issuer.
    Invalid,
    /// The claims name no tenant, or another tenant than the issuer's.
    Tenant,
    /// The `perms` claim is an empty list: the token grants nothing.
    NoAccess,
}

impl JwtError {
    pub fn message(&self) -> &'static str {
        match self {
            JwtError::Malformed => "the bearer token is not a valid JWT",
            JwtError::Algorithm => "no trusted issuer uses the token's algorithm",
            JwtError::Expired => "the token has expired",
            JwtError::NotYetValid => "the token is not valid yet",
            JwtError::Invalid => "the token's signature, issuer or audience is not trusted",
            JwtError::Tenant => "the token does not name a tenant its issuer may speak for",
            JwtError::NoAccess => "the token's perms claim grants no bucket",
        }
    }
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtIdentity {
    pub tenant: String,
    pub perms: Vec<BucketPerm>,
    pub issuer: String,
    pub subject: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    tenant: Option<String>,
    /// Absent: the whole tenant. Present: only these (an empty list grants
    /// nothing, so the token is refused).
    perms: Option<Vec<BucketPerm>>,
    sub: Option<String>,
}

struct Issuer {
    name: String,
    algorithm: Algorithm,
    key: DecodingKey,
    validation: Validation,
    tenant: Option<String>,
}

/// The trusted issuers, ready to verify.
#[derive(Default)]
pub struct JwtVerifier {
    issuers: Vec<Issuer>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.issuers.iter().map(|i| i.name.as_str()).collect();
        write!(f, "JwtVerifier({names:?})")
    }
}

impl JwtVerifier {
    /// Prepares `records`; an unusable key is an error naming the issuer.
    pub fn new(records: &[JwtIssuerRecord]) -> Result<JwtVerifier, String> {
        let mut issuers = Vec::with_capacity(records.len());
        for r in records {
            let (algorithm, key) = match (&r.hs256_secret, &r.ed25519_public_pem) {
                (Some(secret), None) => {
                    let key = DecodingKey::from_secret(secret.expose().as_bytes())
                        .map_err(|e| format!("jwt issuer {:?}: the HS256 secret: {e}", r.name))?;
                    (Algorithm::HS256, key)
                }
                (None, Some(pem)) => {
                    let key = DecodingKey::from_ed_pem(pem.as_bytes())
                        .map_err(|e| format!("jwt issuer {:?}: the Ed25519 public key: {e}", r.name))?;
                    (Algorithm::EdDSA, key)
                }
                _ => {
                    return Err(format!(
                        "jwt issuer {:?}: give hs256_secret or an Ed25519 public key",
                        r.name
                    ));
                }
            };
            let mut validation = Validation::new(algorithm);
            validation.set_issuer(&[&r.issuer]);
            validation.set_audience(&[&r.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            validation.validate_nbf = true;
            validation.leeway = JWT_LEEWAY_SECS;
            issuers.push(Issuer {
                name: r.name.clone(),
                algorithm,
                key,
                validation,
                tenant: r.tenant.clone(),
            });
        }
        Ok(JwtVerifier { issuers })
    }

    /// Like [`JwtVerifier::new`], leaving out (and logging) issuers whose key
    /// does not load, so one bad record never disables the others.
    pub fn lenient(records: &[JwtIssuerRecord]) -> JwtVerifier {
        let mut out = JwtVerifier::default();
        for r in records {
            match JwtVerifier::new(std::slice::from_ref(r)) {
                Ok(mut v) => out.issuers.append(&mut v.issuers),
                Err(e) => tracing::error!(error = %e, "a JWT issuer is unusable"),
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// Verifies `token` against the issuers of its algorithm.
    pub fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
        if token.len() > MAX_JWT_LEN {
            return Err(JwtError::Malformed);
        }
        let header = decode_header(token).map_err(|_| JwtError::Malformed)?;
        let mut worst = JwtError::Algorithm;
        for issuer in self.issuers.iter().filter(|i| i.algorithm == header.alg) {
            match decode::<Claims>(token, &issuer.key, &issuer.validation) {
                Ok(data) => return identity(issuer, data.claims),
                Err(e) => {
                    let err = match e.kind() {
                        ErrorKind::ExpiredSignature => JwtError::Expired,
                        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
                        ErrorKind::InvalidToken
                        | ErrorKind::Base64(_)
                        | ErrorKind::Json(_)
                        | ErrorKind::Utf8(_) => JwtError::Malformed,
                        _ => JwtError::Invalid,
                    };
                    // Report the most specific reason any issuer gave.
                    if worst == JwtError::Algorithm || err != JwtError::Invalid {
                        worst = err;
                    }
                }
            }
        }
        Err(worst)
    }
}

fn identity(issuer: &Issuer, claims: Claims) -> Result<JwtIdentity, JwtError> {
    let tenant = match (&issuer.tenant, claims.tenant) {
        (Some(bound), None) => bound.clone(),
        (Some(bound), Some(t)) if *bound == t => t,
        (None, Some(t)) if !t.is_empty() => t,
        _ => return Err(JwtError::Tenant),
    };
    let perms = match claims.perms {
        None => Vec::new(),
        Some(p) if p.is_empty() => return Err(JwtError::NoAccess),
        Some(p) => p,
    };
    Ok(JwtIdentity { tenant, perms, issuer: issuer.name.clone(), subject: claims.sub })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;
    use crate::secret::Secret;

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn hs_issuer(tenant: Option<&str>) -> JwtIssuerRecord {
        JwtIssuerRecord {
            name: "idp".into(),
            issuer: "https://idp.example".into(),
            audience: "sluice".into(),
            hs256_secret: Some(Secret::new("a-shared-secret-of-enough-length")),
            ed25519_public_pem: None,
            tenant: tenant.map(str::to_string),
        }
    }

    fn hs(claims: serde_json::Value, secret: &str) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()).unwrap())
            .unwrap()
    }

    fn good_claims() -> serde_json::Value {
        json!({"iss": "https://idp.example", "aud": "sluice", "exp": now() + 600, "tenant": "acme", "sub": "svc"})
    }

    #[test]
    fn hs256_tokens_map_to_a_tenant_and_bad_ones_are_refused() {
        let v = JwtVerifier::new(&[hs_issuer(None)]).unwrap();
        let secret = "a-shared-secret-of-enough-length";
        let id = v.verify(&hs(good_claims(), secret)).unwrap();
        assert_eq!((id.tenant.as_str(), id.subject.as_deref()), ("acme", Some("svc")));
        let mut c = good_claims();
        c["exp"] = json!(now() - 3600);
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::Expired));
        let mut c = good_claims();
        c["nbf"] = json!(now() + 3600);
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::NotYetValid));
        let mut c = good_claims();
        c["aud"] = json!("someone-else");
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::Invalid));
        let mut c = good_claims();
        c["iss"] = json!("https://evil.example");
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::Invalid));
        assert_eq!(v.verify(&hs(good_claims(), "the-wrong-secret-of-some-length")), Err(JwtError::Invalid));
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("exp");
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::Invalid), "exp is required");
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("tenant");
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::Tenant));
        assert_eq!(v.verify("not.a.jwt"), Err(JwtError::Malformed));
        assert_eq!(v.verify(&"a".repeat(MAX_JWT_LEN + 1)), Err(JwtError::Malformed));
    }

    #[test]
    fn alg_none_and_key_confusion_are_refused() {
        use base64::Engine;
        let b64 =
            |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let v = JwtVerifier::new(&[hs_issuer(None)]).unwrap();
        let none = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(good_claims()));
        assert!(v.verify(&none).is_err());
        // An EdDSA issuer: an HS256 token signed with its public key as the
        // HMAC secret must not pass.
        let (private, pem) = ed_pems();
        let ed = JwtIssuerRecord {
            name: "ed".into(),
            issuer: "https://idp.example".into(),
            audience: "sluice".into(),
            hs256_secret: None,
            ed25519_public_pem: Some(pem.clone()),
            tenant: None,
        };
        let v = JwtVerifier::new(&[ed]).unwrap();
        let forged = hs(good_claims(), &pem);
        assert_eq!(v.verify(&forged), Err(JwtError::Algorithm));
        let signed = encode(
            &Header::new(Algorithm::EdDSA),
            &good_claims(),
            &EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(v.verify(&signed).unwrap().tenant, "acme");
    }

    #[test]
    fn a_tenant_bound_issuer_speaks_only_for_its_tenant() {
        let v = JwtVerifier::new(&[hs_issuer(Some("acme"))]).unwrap();
        let secret = "a-shared-secret-of-enough-length";
        assert_eq!(v.verify(&hs(good_claims(), secret)).unwrap().tenant, "acme");
        let mut c = good_claims();
        c["tenant"] = json!("umbrella");
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::Tenant));
        let mut c = good_claims();
        c["perms"] = json!([{"bucket": "logs", "read": true}]);
        assert_eq!(v.verify(&hs(c, secret)).unwrap().perms[0].bucket, "logs");
        let mut c = good_claims();
        c["perms"] = json!([]);
        assert_eq!(v.verify(&hs(c, secret)), Err(JwtError::NoAccess), "an empty list never means everything");
    }

    /// An Ed25519 key pair as PEM (PKCS#8 private, SPKI public) from a fixed seed.
    fn ed_pems() -> (String, String) {
        use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
        let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
        let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let public = key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
        (private, public)
    }
}
