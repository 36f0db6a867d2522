//! The admin API end to end: the RBAC matrix (generated from the endpoint
//! table), a secret's lifecycle seen through S3, changes reaching every core
//! without a restart, and the audit log.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use common::{Cluster, RawReq, TEST_ADMIN_TOKEN, read_response, signed_request};
use serde_json::{Value, json};
use sluice::admin::rbac::{Access, ENDPOINTS, Endpoint, allowed};
use sluice::meta::Role;

/// One admin call on a new connection: (status, JSON body).
fn call(
    addr: SocketAddr,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n", body.len());
    if let Some(t) = token {
        req.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let (status, head, body) = read_response(&mut s);
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn ok(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, v) = call(addr, Some(TEST_ADMIN_TOKEN), method, path, body);
    assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
    v
}

/// A PUT of `body` to `path` signed with (access key, secret): the status.
fn s3_put(addr: SocketAddr, ak: &str, sk: &str, path: &str, body: &[u8]) -> (u16, String) {
    let creds = common::Creds { access_key: ak.into(), secret_key: sk.into() };
    let req = RawReq { body, ..RawReq::new("PUT", path) };
    let mut bytes = signed_request(addr, &creds, &req);
    bytes.extend_from_slice(body);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&bytes).unwrap();
    let (status, _, body) = read_response(&mut s);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The request for `endpoint`, after setting up what it acts on (with the
/// bootstrap token). `n` makes names unique.
fn request_for(
    addr: SocketAddr,
    endpoint: Endpoint,
    n: usize,
    scratch: &std::path::Path,
) -> (String, Option<Value>) {
    let v1 = "/admin/v1";
    let file_backend = |id: &str| {
        let dir = scratch.join(id);
        json!({"id": id, "endpoint": format!("file://{}", dir.display()), "region": "nowhere"})
    };
    match endpoint {
        Endpoint::ListTenants => (format!("{v1}/tenants"), None),
        Endpoint::CreateTenant => (format!("{v1}/tenants"), Some(json!({"name": format!("t{n}")}))),
        Endpoint::DeleteTenant => {
            ok(addr, "POST", &format!("{v1}/tenants"), Some(&json!({"name": format!("d{n}")})));
            (format!("{v1}/tenants/d{n}"), None)
        }
        Endpoint::ListKeys => (format!("{v1}/tenants/acme/keys"), None),
        Endpoint::CreateKey => (format!("{v1}/tenants/acme/keys"), Some(json!({}))),
        Endpoint::EnableKey | Endpoint::DisableKey | Endpoint::DeleteKey => {
            let k = ok(addr, "POST", &format!("{v1}/tenants/acme/keys"), Some(&json!({})));
            let ak = k["access_key"].as_str().unwrap().to_string();
            let suffix = match endpoint {
                Endpoint::EnableKey => "/enable",
                Endpoint::DisableKey => "/disable",
                _ => "",
            };
            (format!("{v1}/keys/{ak}{suffix}"), None)
        }
        Endpoint::ListBuckets => (format!("{v1}/buckets"), None),
        Endpoint::CreateBucket => (
            format!("{v1}/buckets"),
            Some(json!({"tenant": "acme", "name": format!("rbac-{n}"), "replicas": 1})),
        ),
        Endpoint::UpdateBucketPolicy => (format!("{v1}/buckets/logs/policy"), Some(json!({"replicas": 2}))),
        Endpoint::ListBackends => (format!("{v1}/backends"), None),
        Endpoint::AddBackend => (format!("{v1}/backends"), Some(file_backend(&format!("add{n}")))),
        Endpoint::UpdateBackend => {
            ok(addr, "POST", &format!("{v1}/backends"), Some(&file_backend(&format!("up{n}"))));
            (format!("{v1}/backends/up{n}"), Some(json!({"weight": 2.0})))
        }
        Endpoint::DrainBackend => {
            ok(addr, "POST", &format!("{v1}/backends"), Some(&file_backend(&format!("dr{n}"))));
            (format!("{v1}/backends/dr{n}/drain"), None)
        }
        Endpoint::RemoveBackend => {
            ok(addr, "POST", &format!("{v1}/backends"), Some(&file_backend(&format!("rm{n}"))));
            ok(addr, "POST", &format!("{v1}/backends/rm{n}/drain"), None);
            (format!("{v1}/backends/rm{n}"), None)
        }
        Endpoint::ReplicationStatus => (format!("{v1}/replication"), None),
        Endpoint::DeadLetters => (format!("{v1}/replication/dead-letters"), None),
        Endpoint::ExplainPlacement => (format!("{v1}/placement/logs?key=a%2Fb"), None),
        Endpoint::ListTokens => (format!("{v1}/tokens"), None),
        Endpoint::CreateToken => (format!("{v1}/tokens"), Some(json!({"name": "x", "role": "viewer"}))),
        Endpoint::DeleteToken => {
            let t =
                ok(addr, "POST", &format!("{v1}/tokens"), Some(&json!({"name": "victim", "role": "viewer"})));
            (format!("{v1}/tokens/{}", t["id"].as_str().unwrap()), None)
        }
        Endpoint::ListApiKeys => (format!("{v1}/tenants/acme/api-keys"), None),
        Endpoint::CreateApiKey => (format!("{v1}/tenants/acme/api-keys"), Some(json!({"name": "app"}))),
        Endpoint::DeleteApiKey => {
            let k = ok(addr, "POST", &format!("{v1}/tenants/acme/api-keys"), Some(&json!({"name": "v"})));
            (format!("{v1}/tenants/acme/api-keys/{}", k["id"].as_str().unwrap()), None)
        }
    }
}

/// The access class of every endpoint, written out independently of the
/// server's table: a row reclassified there fails here.
const GOLDEN: &[(Endpoint, Access)] = &[
    (Endpoint::ListTenants, Access::Read),
    (Endpoint::CreateTenant, Access::AdminOnly),
    (Endpoint::DeleteTenant, Access::AdminOnly),
    (Endpoint::ListKeys, Access::Read),
    (Endpoint::CreateKey, Access::TenantWrite),
    (Endpoint::EnableKey, Access::TenantWrite),
    (Endpoint::DisableKey, Access::TenantWrite),
    (Endpoint::DeleteKey, Access::TenantWrite),
    (Endpoint::ListBuckets, Access::Read),
    (Endpoint::CreateBucket, Access::TenantWrite),
    (Endpoint::UpdateBucketPolicy, Access::TenantWrite),
    (Endpoint::ListBackends, Access::AdminRead),
    (Endpoint::AddBackend, Access::AdminOnly),
    (Endpoint::UpdateBackend, Access::AdminOnly),
    (Endpoint::DrainBackend, Access::AdminOnly),
    (Endpoint::RemoveBackend, Access::AdminOnly),
    (Endpoint::ReplicationStatus, Access::AdminRead),
    (Endpoint::DeadLetters, Access::AdminRead),
    (Endpoint::ExplainPlacement, Access::Read),
    (Endpoint::ListTokens, Access::AdminOnly),
    (Endpoint::CreateToken, Access::AdminOnly),
    (Endpoint::DeleteToken, Access::AdminOnly),
    (Endpoint::ListApiKeys, Access::Read),
    (Endpoint::CreateApiKey, Access::TenantWrite),
    (Endpoint::DeleteApiKey, Access::TenantWrite),
];

/// Every role against every endpoint, expectations from `rbac::allowed`
/// over the table, which is itself checked against [`GOLDEN`] and against
/// rules that need no table: a viewer never changes anything, a tenant-admin
/// never reaches infrastructure or another tenant, no token gets in.
#[test]
fn rbac_matrix_from_the_endpoint_table() {
    assert_eq!(ENDPOINTS.len(), GOLDEN.len());
    for row in ENDPOINTS {
        let golden = GOLDEN.iter().find(|(e, _)| *e == row.endpoint).map(|(_, a)| *a);
        assert_eq!(golden, Some(row.access), "{:?} {}", row.endpoint, row.pattern);
        // A change is never in a read class.
        if row.method != sluice::http::Method::Get {
            assert!(matches!(row.access, Access::TenantWrite | Access::AdminOnly), "{:?}", row.endpoint);
        }
    }
    let c = Cluster::start(common::any_driver());
    let addr = c.sluice.addr;
    let scratch = c.dir.path().join("scratch");
    let token = |role: &str, tenant: Option<&str>| {
        let v = ok(
            addr,
            "POST",
            "/admin/v1/tokens",
            Some(&json!({"name": role, "role": role, "tenant": tenant})),
        );
        v["token"].as_str().unwrap().to_string()
    };
    let callers: Vec<(String, Role, Option<&str>)> = vec![
        (TEST_ADMIN_TOKEN.to_string(), Role::Admin, None),
        (token("viewer", None), Role::Viewer, None),
        (token("tenant-admin", Some("acme")), Role::TenantAdmin, Some("acme")),
        (token("tenant-admin", Some("umbrella")), Role::TenantAdmin, Some("umbrella")),
    ];
    let method = |m: sluice::http::Method| m.as_str();
    let mut n = 0;
    let mut checked = 0;
    for row in ENDPOINTS {
        // Listings are filtered, not refused; everything else of a tenant's is acme's here.
        let listing = matches!(row.endpoint, Endpoint::ListTenants | Endpoint::ListBuckets);
        let owner = (matches!(row.access, Access::Read | Access::TenantWrite) && !listing).then_some("acme");
        for (tok, role, tenant) in &callers {
            n += 1;
            let (path, body) = request_for(addr, row.endpoint, n, &scratch);
            let (status, v) = call(addr, Some(tok), method(row.method), &path, body.as_ref());
            let expect = allowed(*role, *tenant, row.access, owner);
            // Rules that hold whatever the table says.
            let writes = row.method != sluice::http::Method::Get;
            if *role == Role::Viewer && writes
                || *role == Role::TenantAdmin && matches!(row.access, Access::AdminOnly | Access::AdminRead)
                || *tenant == Some("umbrella") && owner == Some("acme")
            {
                assert!(!expect, "{:?} must be refused to {role:?}/{tenant:?}", row.endpoint);
            }
            if expect {
                assert!(
                    (200..300).contains(&status),
                    "{:?} as {role:?}/{tenant:?}: {status} {v}",
                    row.endpoint
                );
            } else {
                assert_eq!(status, 403, "{:?} as {role:?}/{tenant:?}: {v}", row.endpoint);
                assert_eq!(v["error"]["code"], "Forbidden");
            }
            checked += 1;
        }
        // No token, or a wrong one: 401 with a JSON error, for every endpoint.
        let (path, body) = request_for(addr, row.endpoint, 10_000 + n, &scratch);
        for tok in [None, Some("sluice_adm_not-a-real-token")] {
            let (status, v) = call(addr, tok, method(row.method), &path, body.as_ref());
            assert_eq!(
                (status, v["error"]["code"].as_str()),
                (401, Some("Unauthorized")),
                "{:?}",
                row.endpoint
            );
        }
    }
    assert_eq!(checked, ENDPOINTS.len() * callers.len());
    // Listings only show the tenant-admin's own tenant.
    let (_, v) = call(addr, Some(&callers[3].0), "GET", "/admin/v1/buckets", None);
    assert!(v["buckets"].as_array().unwrap().iter().all(|b| b["tenant"] == "umbrella"), "{v}");
    let (_, v) = call(addr, Some(&callers[3].0), "GET", "/admin/v1/tenants", None);
    assert_eq!(v["tenants"].as_array().unwrap().len(), 1, "{v}");
    // Unknown paths and methods.
    assert_eq!(call(addr, Some(TEST_ADMIN_TOKEN), "GET", "/admin/v1/nothing", None).0, 404);
    assert_eq!(call(addr, Some(TEST_ADMIN_TOKEN), "PUT", "/admin/v1/tenants", None).0, 405);
}

/// Create a tenant, a bucket and a key through the API; the key works on
/// every core at once; disabled it is refused, enabled it works again,
/// deleted it is refused. The audit log has each call.
#[test]
fn secret_lifecycle_through_s3_and_the_audit_log() {
    let c = Cluster::start(common::any_driver());
    let addr = c.sluice.addr;
    ok(addr, "POST", "/admin/v1/tenants", Some(&json!({"name": "lc"})));
    let (status, v) =
        call(addr, Some(TEST_ADMIN_TOKEN), "POST", "/admin/v1/tenants", Some(&json!({"name": "lc"})));
    assert_eq!((status, v["error"]["code"].as_str()), (409, Some("Conflict")));
    let b = ok(
        addr,
        "POST",
        "/admin/v1/buckets",
        Some(&json!({"tenant": "lc", "name": "lc-data", "replicas": 2})),
    );
    assert_eq!(b["replicas"], 2);
    let k = ok(addr, "POST", "/admin/v1/tenants/lc/keys", Some(&json!({})));
    let (ak, sk) =
        (k["access_key"].as_str().unwrap().to_string(), k["secret_key"].as_str().unwrap().to_string());
    // The secret is shown once: listings never carry it.
    let listed = ok(addr, "GET", "/admin/v1/tenants/lc/keys", None);
    assert!(!listed.to_string().contains(&sk), "{listed}");
    // Several connections: both cores see the new key at once.
    for i in 0..6 {
        let (st, body) = s3_put(addr, &ak, &sk, &format!("/lc-data/obj{i}"), b"hello");
        assert_eq!(st, 200, "{body}");
    }
    // Another tenant's key cannot use the bucket.
    let (st, body) = s3_put(addr, &c.acme.access_key, &c.acme.secret_key, "/lc-data/x", b"no");
    assert_eq!(st, 403, "{body}");
    ok(addr, "POST", &format!("/admin/v1/keys/{ak}/disable"), None);
    for _ in 0..4 {
        let (st, body) = s3_put(addr, &ak, &sk, "/lc-data/after-disable", b"x");
        assert_eq!(st, 403, "{body}");
        assert!(body.contains("InvalidAccessKeyId"), "{body}");
    }
    ok(addr, "POST", &format!("/admin/v1/keys/{ak}/enable"), None);
    assert_eq!(s3_put(addr, &ak, &sk, "/lc-data/after-enable", b"x").0, 200);
    ok(addr, "DELETE", &format!("/admin/v1/keys/{ak}"), None);
    let (st, body) = s3_put(addr, &ak, &sk, "/lc-data/after-delete", b"x");
    assert_eq!(st, 403, "{body}");
    // Explain placement: two replicas, primary first, both in sync after replication.
    c.wait_replicated(std::time::Duration::from_secs(60));
    let e = ok(addr, "GET", "/admin/v1/placement/lc-data?key=obj0", None);
    let reps = e["replicas"].as_array().unwrap();
    assert_eq!(reps.len(), 2);
    assert_eq!(reps[0]["role"], "primary");
    assert!(reps.iter().all(|r| r["state"] == "in sync" && r["up"] == true), "{e}");
    // The audit log: who, what, when, result, for each call, never a secret.
    let audit = std::fs::read_to_string(c.sluice.data_dir.join("audit.log")).unwrap();
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        lines.iter().any(|l| l["action"] == "CreateTenant" && l["status"] == 201 && l["role"] == "admin")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["action"] == "CreateTenant" && l["status"] == 409 && l["result"] == "Conflict")
    );
    assert!(lines.iter().any(|l| l["action"] == "DisableKey" && l["result"] == "ok"));
    assert!(lines.iter().all(|l| l["time"].as_str().is_some_and(|t| t.starts_with("20"))));
    assert!(!audit.contains(&sk) && !audit.contains(TEST_ADMIN_TOKEN));
    // Unauthenticated requests write nothing, however long their path.
    let long = format!("/admin/v1/tenants/{}/keys", "x".repeat(12_000));
    for (token, path) in
        [(None, "/admin/v1/tenants"), (Some("wrong-token"), "/admin/v1/tenants"), (None, long.as_str())]
    {
        for _ in 0..20 {
            let (status, _) = call(addr, token, "GET", path, None);
            assert_eq!(status, 401, "{}", &path[..30.min(path.len())]);
        }
    }
    // An authenticated request with a long path is audited with a bounded path.
    let _ = call(addr, Some(TEST_ADMIN_TOKEN), "GET", &long, None);
    let after = std::fs::read_to_string(c.sluice.data_dir.join("audit.log")).unwrap();
    let new: Vec<&str> = after[audit.len()..].lines().collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(new[0].len() < 1_500, "audit line of {} bytes", new[0].len());
}

/// `sluice admin ...` drives the API: tables, `--json`, errors with a
/// non-zero exit; the token comes from the environment.
#[test]
fn admin_cli_over_the_api() {
    let c = Cluster::start(common::any_driver());
    let url = c.sluice.endpoint();
    let run = |args: &[&str], token: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("admin")
            .args(args)
            .env("SLUICE_ADMIN_URL", &url)
            .env("SLUICE_ADMIN_TOKEN", token)
            .output()
            .unwrap()
    };
    let out = run(&["tenants", "create", "cli-t"], TEST_ADMIN_TOKEN);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("name: cli-t"));
    let out = run(&["tenants", "list"], TEST_ADMIN_TOKEN);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        table.starts_with("CREATED     NAME\n") && table.contains("cli-t") && table.contains("acme"),
        "{table}"
    );
    let out = run(&["keys", "create", "cli-t", "--json"], TEST_ADMIN_TOKEN);
    let key: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(key["secret_key"].as_str().is_some_and(|s| s.len() >= 40), "{key}");
    let out = run(&["buckets", "create", "cli-t", "cli-bucket", "--replicas", "2"], TEST_ADMIN_TOKEN);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["placement", "cli-bucket", "some/key with space"], TEST_ADMIN_TOKEN);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("key: some/key with space") && text.contains("primary"), "{text}");
    // A viewer may read but not write; a bad token is refused: exit 1 with the server's error.
    let out = run(&["tokens", "create", "ro", "--role", "viewer", "--json"], TEST_ADMIN_TOKEN);
    let viewer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let viewer = viewer["token"].as_str().unwrap();
    assert!(run(&["buckets", "list"], viewer).status.success());
    let out = run(&["tenants", "delete", "cli-t"], viewer);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("403 Forbidden"));
    let out = run(&["tenants", "list"], "sluice_adm_wrong");
    assert!(String::from_utf8_lossy(&out.stderr).contains("401 Unauthorized"), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sluice_adm_wrong"), "the token is never printed");
}

/// A signed S3 request: (status, body).
fn s3(
    addr: SocketAddr,
    ak: &str,
    sk: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> (u16, String) {
    let creds = common::Creds { access_key: ak.into(), secret_key: sk.into() };
    let req = RawReq { body, query, ..RawReq::new(method, path) };
    let mut bytes = signed_request(addr, &creds, &req);
    bytes.extend_from_slice(body);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&bytes).unwrap();
    let (status, _, body) = read_response(&mut s);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A key limited to reading and listing one bucket may do exactly that.
#[test]
fn per_bucket_key_permissions() {
    let c = Cluster::start(common::any_driver());
    let addr = c.sluice.addr;
    let (fak, fsk) = (c.acme.access_key.as_str(), c.acme.secret_key.as_str());
    assert_eq!(s3(addr, fak, fsk, "PUT", "/any/doc", "", b"readable").0, 200);
    let perms = json!({"perms": [{"bucket": "any", "read": true, "list": true}]});
    let k = ok(addr, "POST", "/admin/v1/tenants/acme/keys", Some(&perms));
    let (ak, sk) = (k["access_key"].as_str().unwrap(), k["secret_key"].as_str().unwrap());
    assert_eq!(s3(addr, ak, sk, "GET", "/any/doc", "", b""), (200, "readable".to_string()));
    let (st, body) = s3(addr, ak, sk, "GET", "/any", "list-type=2", b"");
    assert!(st == 200 && body.contains("<Key>doc</Key>"), "{st} {body}");
    for (method, path, query) in [("PUT", "/any/new", ""), ("DELETE", "/any/doc", ""), ("GET", "/logs/x", "")]
    {
        let (st, body) = s3(addr, ak, sk, method, path, query, b"x");
        assert!(st == 403 && body.contains("AccessDenied"), "{method} {path}: {st} {body}");
    }
    let (st, body) = s3(addr, ak, sk, "PUT", "/limited-new-bucket", "", b"");
    assert!(st == 403 && body.contains("AccessDenied"), "CreateBucket: {st} {body}");
    let (st, body) = s3(addr, ak, sk, "GET", "/", "", b"");
    assert!(st == 200 && body.contains("<Name>any</Name>") && !body.contains("<Name>logs</Name>"), "{body}");
    // A bucket of another tenant cannot be named in perms.
    let bad = json!({"perms": [{"bucket": "logs", "read": true}]});
    let (st, _) = call(addr, Some(TEST_ADMIN_TOKEN), "POST", "/admin/v1/tenants/umbrella/keys", Some(&bad));
    assert_eq!(st, 400);
}

/// `sluice discover --json` until no bucket has under-replicated or
/// misplaced copies (the rebalance pass an API change starts runs in the
/// background), then until no task is pending.
fn wait_converged(c: &Cluster) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let report = c.sluice_cmd(&["discover", "--json"]);
        let json: Value = serde_json::from_str(&report).unwrap();
        let clean =
            json.as_array().unwrap().iter().all(|b| b["under_replicated"] == 0 && b["misplaced"] == 0);
        if clean {
            c.wait_replicated(std::time::Duration::from_secs(120));
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no convergence: {report}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// A policy change through the API rebalances through the replication
/// engine; a drained backend is emptied, then can be removed.
#[test]
fn policy_changes_and_drains_rebalance() {
    let c = Cluster::start(common::any_driver());
    let addr = c.sluice.addr;
    ok(addr, "POST", "/admin/v1/buckets", Some(&json!({"tenant": "acme", "name": "reb", "replicas": 1})));
    let mut expected = String::new();
    let (ak, sk) = (c.acme.access_key.as_str(), c.acme.secret_key.as_str());
    for i in 0..24 {
        let body = format!("object {i} ").repeat(100 + i);
        assert_eq!(s3(addr, ak, sk, "PUT", &format!("/reb/k{i}"), "", body.as_bytes()).0, 200);
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
        expected.push_str(&format!("reb\tk{i}\t{digest}\n"));
    }
    wait_converged(&c);
    let one = common::verify_replicas(&c, &expected);
    assert_eq!((one.objects, one.copies), (24, 24));
    // Two replicas: the pass copies every object once more.
    let (status, v) = call(
        addr,
        Some(TEST_ADMIN_TOKEN),
        "PUT",
        "/admin/v1/buckets/reb/policy",
        Some(&json!({"replicas": 2})),
    );
    assert_eq!((status, v["rebalance"].as_str()), (200, Some("started")), "{v}");
    wait_converged(&c);
    let two = common::verify_replicas(&c, &expected);
    assert_eq!((two.objects, two.copies), (24, 48));
    // A policy that cannot be placed is refused and changes nothing.
    let (status, _) = call(
        addr,
        Some(TEST_ADMIN_TOKEN),
        "PUT",
        "/admin/v1/buckets/reb/policy",
        Some(&json!({"replicas": 4})),
    );
    assert_eq!(status, 400);
    // Removing a backend that is not drained, or not yet empty, is refused.
    let (status, v) = call(addr, Some(TEST_ADMIN_TOKEN), "DELETE", "/admin/v1/backends/us1", None);
    assert_eq!(status, 409, "{v}");
    ok(addr, "POST", "/admin/v1/backends/us1/drain", None);
    wait_converged(&c);
    let drained = common::verify_replicas(&c, &expected);
    assert_eq!((drained.objects, drained.copies), (24, 48));
    let us1 = c.backends.iter().position(|b| b.id == "us1").unwrap();
    assert!(c.backends[us1].keys(&common::physical("acme", "reb")).is_empty(), "us1 was emptied");
    // Reads work throughout; then us1 goes.
    assert_eq!(s3(addr, ak, sk, "GET", "/reb/k3", "", b"").0, 200);
    ok(addr, "DELETE", "/admin/v1/backends/us1", None);
    let listed = ok(addr, "GET", "/admin/v1/backends", None);
    assert!(!listed.to_string().contains("\"us1\""), "{listed}");
    assert_eq!(s3(addr, ak, sk, "GET", "/reb/k5", "", b"").0, 200);
}
