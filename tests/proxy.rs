//! `/proxy/{bucket}/{key}` end to end: API keys and JWTs (HS256, EdDSA)
//! against the real binary and s3s-fs backends; placement and replication as
//! for S3; every bad token refused; tenants isolated, S3 and `/proxy` alike.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{Cluster, RawReq, TEST_ADMIN_TOKEN, physical, read_response, signed_request};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const HS_SECRET: &str = "proxy-test-shared-secret-0123456789";

/// An Ed25519 key pair as PEM (PKCS#8 private, SPKI public) from a fixed seed.
fn ed_pems() -> (String, String) {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    (private, key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap())
}

fn jwt_config() -> String {
    let (_, public) = ed_pems();
    format!(
        "[[jwt]]\nname = \"hs\"\nissuer = \"https://idp.test\"\naudience = \"sluice\"\nhs256_secret = \"{HS_SECRET}\"\n\n\
         [[jwt]]\nname = \"ed\"\nissuer = \"https://ed.test\"\naudience = \"sluice\"\ntenant = \"acme\"\n\
         ed25519_public_key = \"\"\"\n{public}\"\"\"\n\n"
    )
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn hs(claims: &Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()).unwrap())
        .unwrap()
}

fn ed(claims: &Value) -> String {
    let (private, _) = ed_pems();
    encode(&Header::new(Algorithm::EdDSA), claims, &EncodingKey::from_ed_pem(private.as_bytes()).unwrap())
        .unwrap()
}

fn claims(iss: &str) -> Value {
    json!({"iss": iss, "aud": "sluice", "exp": now() + 600, "tenant": "acme", "sub": "ingest"})
}

/// One request on a new connection: (status, head, body).
fn req(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut r = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n", body.len());
    if let Some(t) = bearer {
        r.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    r.push_str("\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(r.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    if method == "HEAD" {
        let (status, head) = common::read_head_response(&mut s);
        return (status, head, Vec::new());
    }
    read_response(&mut s)
}

fn error_code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or("").to_string()
}

fn admin(addr: SocketAddr, path: &str, body: Value) -> Value {
    let (status, _, out) = req(addr, "POST", path, Some(TEST_ADMIN_TOKEN), body.to_string().as_bytes());
    assert!((200..300).contains(&status), "{path}: {status} {}", String::from_utf8_lossy(&out));
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn api_keys_read_write_with_placement_and_replication() {
    let c = Cluster::start_with(common::any_driver(), &jwt_config());
    let addr = c.sluice.addr;
    let key = admin(addr, "/admin/v1/tenants/acme/api-keys", json!({"name": "ingest"}));
    let key = key["api_key"].as_str().unwrap().to_string();
    let body = b"through the proxy".repeat(1000);
    let (st, head, _) = req(addr, "PUT", "/proxy/logs/p/one%20two", Some(&key), &body);
    assert_eq!(st, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("etag:"), "{head}");
    let (st, _, got) = req(addr, "GET", "/proxy/logs/p/one%20two", Some(&key), b"");
    assert_eq!((st, got.len()), (200, body.len()));
    assert!(got == body);
    let (st, head, _) = req(addr, "HEAD", "/proxy/logs/p/one%20two", Some(&key), b"");
    let len = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()));
    assert!(st == 200 && len == Some(body.len().to_string()), "{head}");
    // A refused HEAD has no body: the next response on the connection is intact.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"HEAD /proxy/logs/p/one%20two HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let (st, _) = common::read_head_response(&mut s);
    assert_eq!(st, 401);
    s.write_all(
        format!("GET /proxy/logs/p/one%20two HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let (st, _, again) = read_response(&mut s);
    assert_eq!((st, again.len()), (200, body.len()));
    // `logs` has 2 replicas under eu residency: both eu backends hold it.
    c.wait_replicated(Duration::from_secs(60));
    let expected =
        format!("logs\tp/one two\t{}\n", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)));
    let v = common::verify_replicas(&c, &expected);
    assert_eq!((v.objects, v.copies), (1, 2));
    // The same object through S3 with the tenant's SigV4 key.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&signed_request(addr, &c.acme, &RawReq::new("GET", "/logs/p/one%20two"))).unwrap();
    assert_eq!(read_response(&mut s).2, body);
    let (st, _, _) = req(addr, "DELETE", "/proxy/logs/p/one%20two", Some(&key), b"");
    assert_eq!(st, 204);
    let (st, _, out) = req(addr, "GET", "/proxy/logs/p/one%20two", Some(&key), b"");
    assert_eq!((st, error_code(&out)), (404, "NoSuchKey".to_string()));
    // Other methods, bad paths.
    assert_eq!(req(addr, "POST", "/proxy/logs/x", Some(&key), b"").0, 405);
    assert_eq!(req(addr, "GET", "/proxy/logs/", Some(&key), b"").0, 400);
    // Deleting the API key revokes it at once.
    let id = {
        let (_, _, out) = req(addr, "GET", "/admin/v1/tenants/acme/api-keys", Some(TEST_ADMIN_TOKEN), b"");
        let v: Value = serde_json::from_slice(&out).unwrap();
        v["api_keys"][0]["id"].as_str().unwrap().to_string()
    };
    let (st, _, _) =
        req(addr, "DELETE", &format!("/admin/v1/tenants/acme/api-keys/{id}"), Some(TEST_ADMIN_TOKEN), b"");
    assert_eq!(st, 200);
    let (st, _, out) = req(addr, "GET", "/proxy/logs/anything", Some(&key), b"");
    assert_eq!((st, error_code(&out)), (401, "Unauthorized".to_string()));
}

#[test]
fn jwts_are_verified_and_every_bad_one_refused() {
    let c = Cluster::start_with(common::any_driver(), &jwt_config());
    let addr = c.sluice.addr;
    let good = hs(&claims("https://idp.test"), HS_SECRET);
    assert_eq!(req(addr, "PUT", "/proxy/any/jwt-object", Some(&good), b"signed in").0, 200);
    assert_eq!(req(addr, "GET", "/proxy/any/jwt-object", Some(&good), b"").2, b"signed in");
    // EdDSA, from the issuer bound to acme.
    let ed_good = ed(&claims("https://ed.test"));
    assert_eq!(req(addr, "GET", "/proxy/any/jwt-object", Some(&ed_good), b"").0, 200);

    let (_, ed_public) = ed_pems();
    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut c1 = claims("https://idp.test");
    c1["exp"] = json!(now() - 3600);
    cases.push(("expired", hs(&c1, HS_SECRET)));
    let mut c2 = claims("https://idp.test");
    c2["nbf"] = json!(now() + 3600);
    cases.push(("not yet valid", hs(&c2, HS_SECRET)));
    cases.push(("wrong signature", hs(&claims("https://idp.test"), "another-secret-entirely-0123456789")));
    let mut c3 = claims("https://idp.test");
    c3["aud"] = json!("not-sluice");
    cases.push(("wrong audience", hs(&c3, HS_SECRET)));
    let b64 = |v: Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    cases.push((
        "alg none",
        format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims("https://idp.test"))),
    ));
    // HS/EdDSA key confusion: HS256 with the EdDSA issuer's public key as the secret.
    cases.push(("key confusion", hs(&claims("https://ed.test"), &ed_public)));
    let mut c4 = claims("https://ed.test");
    c4["tenant"] = json!("umbrella");
    cases.push(("another tenant than the issuer's", ed(&c4)));
    cases.push(("garbage", "abc.def.ghi".to_string()));
    for (what, token) in cases {
        let (st, head, out) = req(addr, "GET", "/proxy/any/jwt-object", Some(&token), b"");
        assert_eq!((st, error_code(&out)), (401, "Unauthorized".to_string()), "{what}");
        assert!(head.contains("WWW-Authenticate: Bearer"), "{what}: {head}");
    }
    let (st, _, out) = req(addr, "GET", "/proxy/any/jwt-object", None, b"");
    assert_eq!((st, error_code(&out)), (401, "Unauthorized".to_string()));
    // Claims carry permissions: read-only on `any`.
    let mut ro = claims("https://idp.test");
    ro["perms"] = json!([{"bucket": "any", "read": true}]);
    let ro = hs(&ro, HS_SECRET);
    assert_eq!(req(addr, "GET", "/proxy/any/jwt-object", Some(&ro), b"").0, 200);
    let (st, _, out) = req(addr, "PUT", "/proxy/any/jwt-object", Some(&ro), b"no");
    assert_eq!((st, error_code(&out)), (403, "AccessDenied".to_string()));
}

/// Tenant A's keys, tokens and signatures never reach tenant B's buckets,
/// by name or by guessing the physical bucket name.
#[test]
fn tenants_are_isolated_through_s3_and_the_proxy() {
    let c = Cluster::start_with(common::any_driver(), &jwt_config());
    let addr = c.sluice.addr;
    admin(addr, "/admin/v1/buckets", json!({"tenant": "umbrella", "name": "umbrella-data", "replicas": 1}));
    let b_key = admin(addr, "/admin/v1/tenants/umbrella/api-keys", json!({"name": "b"}));
    let b_key = b_key["api_key"].as_str().unwrap().to_string();
    assert_eq!(req(addr, "PUT", "/proxy/umbrella-data/secret", Some(&b_key), b"umbrella only").0, 200);
    let a_key = admin(addr, "/admin/v1/tenants/acme/api-keys", json!({"name": "a"}));
    let a_key = a_key["api_key"].as_str().unwrap().to_string();
    let a_jwt = hs(&claims("https://idp.test"), HS_SECRET);
    let guessed = physical("umbrella", "umbrella-data");
    for cred in [&a_key, &a_jwt] {
        for (method, path) in [
            ("GET", "/proxy/umbrella-data/secret".to_string()),
            ("HEAD", "/proxy/umbrella-data/secret".to_string()),
            ("PUT", "/proxy/umbrella-data/planted".to_string()),
            ("DELETE", "/proxy/umbrella-data/secret".to_string()),
        ] {
            let (st, _, _) = req(addr, method, &path, Some(cred), b"x");
            assert_eq!(st, 403, "{method} {path}");
        }
        for method in ["GET", "PUT", "DELETE"] {
            let (st, _, out) = req(addr, method, &format!("/proxy/{guessed}/secret"), Some(cred), b"x");
            assert_eq!((st, error_code(&out)), (404, "NoSuchBucket".to_string()), "{method} physical name");
        }
    }
    // Through S3 with acme's SigV4 key: list, read, write, delete, by name and by physical name.
    for (method, path, query) in [
        ("GET", "/umbrella-data", "list-type=2"),
        ("GET", "/umbrella-data/secret", ""),
        ("PUT", "/umbrella-data/planted", ""),
        ("DELETE", "/umbrella-data/secret", ""),
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&signed_request(addr, &c.acme, &RawReq { query, ..RawReq::new(method, path) })).unwrap();
        let (st, _, body) = read_response(&mut s);
        assert!(
            st == 403 && String::from_utf8_lossy(&body).contains("AccessDenied"),
            "{method} {path}: {st}"
        );
        let phys = path.replacen("umbrella-data", &guessed, 1);
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&signed_request(addr, &c.acme, &RawReq { query, ..RawReq::new(method, &phys) })).unwrap();
        let (st, _, body) = read_response(&mut s);
        assert!(
            st == 404 && String::from_utf8_lossy(&body).contains("NoSuchBucket"),
            "{method} {phys}: {st}"
        );
    }
    // ListBuckets shows only the caller's buckets.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&signed_request(addr, &c.acme, &RawReq::new("GET", "/"))).unwrap();
    let (_, _, body) = read_response(&mut s);
    assert!(!String::from_utf8_lossy(&body).contains("umbrella-data"));
    // Umbrella's object is intact.
    let (st, _, got) = req(addr, "GET", "/proxy/umbrella-data/secret", Some(&b_key), b"");
    assert_eq!((st, got), (200, b"umbrella only".to_vec()));
}
