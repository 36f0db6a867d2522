//! Fuzz target: JWT parsing and verification (`sluice::admin::jwt`).
//!
//! - Arbitrary text as a bearer token against an HS256 and an EdDSA issuer:
//!   no panic, and never accepted (nothing here knows the keys).
//! - Arbitrary bytes as the claims of a token correctly signed with the
//!   HS256 issuer's secret (and with its `iss`/`aud`/`exp` forced valid when
//!   the claims are a JSON object): no panic; an accepted token names a
//!   non-empty tenant, and the same token re-signed with another secret or
//!   as `alg: none` is refused.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run jwt -- -max_total_time=60`.

#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use libfuzzer_sys::fuzz_target;
use sluice::admin::jwt::JwtVerifier;
use sluice::meta::JwtIssuerRecord;
use sluice::secret::Secret;

const SECRET: &str = "fuzz-shared-secret-0123456789abcdef";
const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

fn verifier() -> &'static JwtVerifier {
    static V: OnceLock<JwtVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let hs = JwtIssuerRecord {
            name: "hs".into(),
            issuer: "https://idp".into(),
            audience: "sluice".into(),
            hs256_secret: Some(Secret::new(SECRET)),
            ed25519_public_pem: None,
            tenant: None,
        };
        let ed = JwtIssuerRecord {
            name: "ed".into(),
            issuer: "https://ed".into(),
            audience: "sluice".into(),
            hs256_secret: None,
            ed25519_public_pem: Some(ED_PUBLIC.into()),
            tenant: Some("acme".into()),
        };
        JwtVerifier::new(&[hs, ed]).expect("valid issuers")
    })
}

fuzz_target!(|data: &[u8]| {
    let v = verifier();
    // 1. Arbitrary text as a token.
    let text = String::from_utf8_lossy(data);
    assert!(v.verify(&text).is_err(), "an unsigned input was accepted");

    // 2. Arbitrary claims, correctly signed.
    let mut claims: serde_json::Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(_) => serde_json::Value::String(text.into_owned()),
    };
    if let Some(obj) = claims.as_object_mut() {
        obj.insert("iss".into(), "https://idp".into());
        obj.insert("aud".into(), "sluice".into());
        obj.insert("exp".into(), (jsonwebtoken::get_current_timestamp() + 600).into());
    }
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    let Ok(token) = encode(&Header::new(Algorithm::HS256), &claims, &key) else { return };
    if let Ok(id) = v.verify(&token) {
        assert!(!id.tenant.is_empty());
    }
    let other = EncodingKey::from_secret(b"another-secret-0123456789abcdefgh").unwrap();
    if let Ok(forged) = encode(&Header::new(Algorithm::HS256), &claims, &other) {
        assert!(v.verify(&forged).is_err(), "a token signed with another secret was accepted");
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let none = format!("{}.{payload}.", b64.encode(br#"{"alg":"none","typ":"JWT"}"#));
    assert!(v.verify(&none).is_err(), "alg none was accepted");
});
