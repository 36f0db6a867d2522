//! Keys never escape their physical bucket (issue 11, item 1).
//!
//! s3s-fs joins a key to the bucket's directory and resolves `.` and `..`,
//! so a key like `../sl-<other>/k` would reach another tenant's objects if
//! sluice forwarded it. These tests try every such key shape, in several
//! encodings, through S3 (SigV4) and `/proxy` (API key), as another tenant,
//! and then check on every backend's disk that nothing outside the caller's
//! physical bucket was read, written or deleted.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{Cluster, RawReq, TEST_ADMIN_TOKEN, physical, read_response, signed_request};
use serde_json::{Value, json};

/// Every file under `root` outside `skip` (a physical bucket directory),
/// with its length and modification time.
fn files_outside(root: &Path, skip: &str) -> BTreeMap<String, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == skip || rel.starts_with(&format!("{skip}/")) {
                continue;
            }
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    out
}

/// One request with an optional bearer credential, on a new connection.
fn bearer(addr: SocketAddr, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let r = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nauthorization: Bearer {token}\r\n\r\n",
        body.len()
    );
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(r.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    if method == "HEAD" {
        return (common::read_head_response(&mut s).0, Vec::new());
    }
    let (status, _, body) = read_response(&mut s);
    (status, body)
}

fn admin(addr: SocketAddr, path: &str, body: Value) -> Value {
    let (status, out) = bearer(addr, "POST", path, TEST_ADMIN_TOKEN, body.to_string().as_bytes());
    assert!((200..300).contains(&status), "{path}: {status} {}", String::from_utf8_lossy(&out));
    serde_json::from_slice(&out).unwrap()
}

/// A SigV4 request as `creds` with `body`: (status, response body).
fn s3(c: &Cluster, creds: &common::Creds, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let addr = c.sluice.addr;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(&signed_request(addr, creds, &RawReq { body, ..RawReq::new(method, path) })).unwrap();
    s.write_all(body).unwrap();
    if method == "HEAD" {
        return (common::read_head_response(&mut s).0, Vec::new());
    }
    let (status, _, out) = read_response(&mut s);
    (status, out)
}

/// The key shapes that a path-resolving backend would take out of the
/// bucket, each as written on the wire (raw, and percent-encoded).
fn hostile_keys(victim_physical: &str) -> Vec<String> {
    let plain = [
        format!("../{victim_physical}/secret"),
        format!("../{victim_physical}/planted"),
        format!("./../{victim_physical}/secret"),
        format!("a/../../{victim_physical}/secret"),
        "../../x".to_string(),
        "./../x".to_string(),
        "a/../../x".to_string(),
        "..".to_string(),
        "a/./b".to_string(),
        "a//b".to_string(),
        format!("../.bucket-{victim_physical}.metadata.json"),
    ];
    let mut out: Vec<String> = plain.to_vec();
    for k in &plain {
        // Dots and slashes percent-encoded, as a client that escapes everything sends them.
        out.push(k.replace('.', "%2E").replace('/', "%2F"));
        out.push(k.replace("..", "%2e%2e"));
    }
    // Absolute: the key starts with '/' (a path of `/bucket//abs`).
    out.push("/abs".to_string());
    out.push("%2Fabs".to_string());
    out.push("a%00b".to_string());
    out
}

#[test]
fn no_key_escapes_its_physical_bucket() {
    let c = Cluster::start(common::any_driver());
    let addr = c.sluice.addr;
    // The victim: acme's object in `any`. The attacker: umbrella, with its own bucket.
    let (st, _) = s3(&c, &c.acme, "PUT", "/any/secret", b"acme only");
    assert_eq!(st, 200);
    admin(addr, "/admin/v1/buckets", json!({"tenant": "umbrella", "name": "umbrella-data", "replicas": 2}));
    let api_key = admin(addr, "/admin/v1/tenants/umbrella/api-keys", json!({"name": "b"}));
    let api_key = api_key["api_key"].as_str().unwrap().to_string();
    let own = physical("umbrella", "umbrella-data");
    let victim = physical("acme", "any");
    let before: Vec<_> = c.backends.iter().map(|b| files_outside(&b.root, &own)).collect();

    let mut tried = 0;
    for key in hostile_keys(&victim) {
        let path = format!("/umbrella-data/{key}");
        for method in ["GET", "HEAD", "PUT", "DELETE"] {
            let (st, body) = s3(&c, &c.umbrella, method, &path, b"planted by umbrella");
            let text = String::from_utf8_lossy(&body);
            assert_eq!(st, 400, "S3 {method} {path}: {st} {text}");
            if method != "HEAD" {
                assert!(text.contains("<Code>InvalidArgument</Code>"), "S3 {method} {path}: {text}");
            }
            let ppath = format!("/proxy/umbrella-data/{key}");
            let (st, body) = bearer(addr, method, &ppath, &api_key, b"planted by umbrella");
            assert_eq!(st, 400, "proxy {method} {ppath}: {st} {}", String::from_utf8_lossy(&body));
            tried += 2;
        }
        // As a copy source and as a DeleteObjects entry.
        let copy = format!("umbrella-data/{key}");
        let mut s = TcpStream::connect(addr).unwrap();
        let headers = [("x-amz-copy-source", copy.as_str())];
        s.write_all(&signed_request(
            addr,
            &c.umbrella,
            &RawReq { headers: &headers, ..RawReq::new("PUT", "/umbrella-data/copied") },
        ))
        .unwrap();
        let (st, _, body) = read_response(&mut s);
        assert_eq!(st, 400, "copy from {copy}: {}", String::from_utf8_lossy(&body));
    }
    // DeleteObjects with every hostile key (decoded form, XML-escaped).
    let mut xml = String::from("<Delete><Quiet>false</Quiet>");
    for key in hostile_keys(&victim).iter().filter(|k| !k.contains('%')) {
        xml.push_str(&format!("<Object><Key>{key}</Key></Object>"));
    }
    xml.push_str("</Delete>");
    let md5 = {
        use base64::Engine;
        use md5::Digest;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(xml.as_bytes()))
    };
    let mut s = TcpStream::connect(addr).unwrap();
    let headers = [("content-md5", md5.as_str())];
    s.write_all(&signed_request(
        addr,
        &c.umbrella,
        &RawReq {
            query: "delete",
            headers: &headers,
            body: xml.as_bytes(),
            ..RawReq::new("POST", "/umbrella-data")
        },
    ))
    .unwrap();
    s.write_all(xml.as_bytes()).unwrap();
    let (st, _, body) = read_response(&mut s);
    let text = String::from_utf8_lossy(&body);
    assert_eq!(st, 200, "{text}");
    assert!(!text.contains("<Deleted>"), "a hostile key was deleted: {text}");
    assert!(text.matches("<Code>InvalidArgument</Code>").count() >= 10, "{text}");
    assert!(tried > 100);

    // Nothing outside umbrella's physical bucket changed, on any backend.
    for (b, before) in c.backends.iter().zip(&before) {
        let after = files_outside(&b.root, &own);
        assert_eq!(&after, before, "{}: files outside {own} changed", b.id);
    }
    // The victim's object is intact, and umbrella's bucket holds nothing.
    let (st, body) = s3(&c, &c.acme, "GET", "/any/secret", b"");
    assert_eq!((st, body.as_slice()), (200, b"acme only".as_slice()));
    for b in &c.backends {
        assert!(b.keys(&own).is_empty(), "{}: {:?}", b.id, b.keys(&own));
    }
    // Keys that merely contain dots stay usable.
    for key in ["a..b", ".hidden", "dir/.x", "x/...", "..."] {
        let (st, body) = s3(&c, &c.umbrella, "PUT", &format!("/umbrella-data/{key}"), b"fine");
        assert_eq!(st, 200, "{key}: {}", String::from_utf8_lossy(&body));
        let (st, body) = s3(&c, &c.umbrella, "GET", &format!("/umbrella-data/{key}"), b"");
        assert_eq!((st, body.as_slice()), (200, b"fine".as_slice()), "{key}");
    }
}
