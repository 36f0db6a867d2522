//! TLS end to end, certificates generated here (rcgen): boto3 over HTTPS
//! beside the plain listener; mTLS where a client certificate is required:
//! refused without one and with one from an untrusted CA, and a trusted
//! certificate's name mapped to a tenant for `/proxy`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::Cluster;
use rcgen::{BasicConstraints, CertificateParams, CertifiedKey, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// A CA that can sign leaf certificates.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A leaf certificate for `names` (SAN DNS names / IPs), signed by this CA.
    fn leaf(&self, names: &[&str]) -> CertifiedKey {
        let params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        CertifiedKey { cert, key_pair: key }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The HTTPS address from sluice's start-up lines.
fn https_addr(c: &Cluster) -> SocketAddr {
    let line = c.sluice.stdout_rest.iter().find_map(|l| l.strip_prefix("sluice listening on https://"));
    line.expect("an https listening line").parse().unwrap()
}

/// A rustls client trusting `ca_pem`, with an optional client certificate.
fn client_config(ca_pem: &str, client: Option<&CertifiedKey>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
    Arc::new(match client {
        None => builder.with_no_client_auth(),
        Some(ck) => {
            let chain = vec![CertificateDer::from(ck.cert.der().to_vec())];
            let key = PrivateKeyDer::try_from(ck.key_pair.serialize_der()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    })
}

/// One HTTPS request: Ok((status, body)) or the I/O error (handshake refused).
fn https(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    request: &str,
) -> std::io::Result<(u16, String)> {
    let conn = rustls::ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).unwrap();
    let sock = TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(request.as_bytes())?;
    tls.flush()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&out);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        return Ok((head[9..12].parse().unwrap(), body[..len].to_string()));
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, String::from_utf8_lossy(&out).into_owned()))
}

fn tls_cluster(client_auth: &str) -> (Cluster, Ca, Ca, String) {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("sluice test server CA");
    let client_ca = Ca::new("sluice test client CA");
    let leaf = server_ca.leaf(&["localhost", "127.0.0.1"]);
    let d = dir.path();
    let cert = write(d, "server.pem", &leaf.cert.pem());
    let key = write(d, "server.key", &leaf.key_pair.serialize_pem());
    let cas = write(d, "clients-ca.pem", &client_ca.cert.pem());
    let server_ca_pem = server_ca.cert.pem();
    let extra = format!(
        "[tls]\nlisten = \"127.0.0.1:0\"\ncert_file = \"{cert}\"\nkey_file = \"{key}\"\nclient_ca_file = \"{cas}\"\n\
         client_auth = \"{client_auth}\"\nclient_tenants = [{{ name = \"ingest.acme.internal\", tenant = \"acme\" }}]\n"
    );
    let c = Cluster::start_with(common::any_driver(), &extra);
    // Keep the certificate files as long as the cluster.
    std::mem::forget(dir);
    (c, server_ca, client_ca, server_ca_pem)
}

#[test]
fn boto3_over_https_beside_http() {
    let (c, _server_ca, _client_ca, ca_pem) = tls_cluster("optional");
    let https_addr = https_addr(&c);
    let ca_file = write(c.dir.path(), "ca.pem", &ca_pem);
    let mut env = c.env();
    for (k, v) in env.iter_mut() {
        if k == "SLUICE_ENDPOINT" {
            *v = format!("https://localhost:{}", https_addr.port());
        }
    }
    env.push(("SLUICE_CA".to_string(), ca_file));
    let out = common::run_python("tls.py", &[], &env);
    assert!(out.contains("boto3 over HTTPS"), "{out}");
    // The plain listener serves the same data.
    let mut s = TcpStream::connect(c.sluice.addr).unwrap();
    s.write_all(&common::signed_request(
        c.sluice.addr,
        &c.acme,
        &common::RawReq::new("GET", "/any/tls/small"),
    ))
    .unwrap();
    let (status, _, body) = common::read_response(&mut s);
    assert_eq!((status, body.len()), (200, 8000));
    // A client that does not trust sluice's CA gives up.
    let other = Ca::new("not sluice's CA");
    let err =
        https(https_addr, client_config(&other.cert.pem(), None), "GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
    assert!(err.is_err());
}

#[test]
fn mtls_required_refuses_missing_and_untrusted_certificates_and_maps_tenants() {
    let (c, _server_ca, client_ca, ca_pem) = tls_cluster("required");
    let addr = https_addr(&c);
    let request = "GET /proxy/any/cert-object HTTP/1.1\r\nhost: localhost\r\n\r\n";
    // No client certificate: the handshake is refused.
    assert!(https(addr, client_config(&ca_pem, None), request).is_err(), "no certificate must be refused");
    // A certificate from a CA sluice does not trust: refused.
    let rogue = Ca::new("rogue CA").leaf(&["ingest.acme.internal"]);
    assert!(
        https(addr, client_config(&ca_pem, Some(&rogue)), request).is_err(),
        "untrusted CA must be refused"
    );
    // A trusted certificate whose name maps to acme: /proxy works without a bearer token.
    let good = client_ca.leaf(&["ingest.acme.internal"]);
    let put = "PUT /proxy/any/cert-object HTTP/1.1\r\nhost: localhost\r\ncontent-length: 9\r\n\r\ncert body";
    let (status, body) = https(addr, client_config(&ca_pem, Some(&good)), put).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        https(addr, client_config(&ca_pem, Some(&good)), request).unwrap(),
        (200, "cert body".to_string())
    );
    // Any Authorization header decides: a bad token is refused even with a
    // good certificate, never ignored in favour of it.
    for auth in
        ["Bearer sluice_key_not-a-key", "bearer ", "Basic YWNtZTpzZWNyZXQ=", "AWS4-HMAC-SHA256 Credential=x"]
    {
        let req = format!(
            "GET /proxy/any/cert-object HTTP/1.1\r\nhost: localhost\r\nauthorization: {auth}\r\n\r\n"
        );
        let (status, body) = https(addr, client_config(&ca_pem, Some(&good)), &req).unwrap();
        assert!(status == 401 && body.contains("Unauthorized"), "{auth}: {status} {body}");
    }
    // A trusted certificate with a name that maps to no tenant: 401 on /proxy.
    let stranger = client_ca.leaf(&["someone.else.internal"]);
    let (status, body) = https(addr, client_config(&ca_pem, Some(&stranger)), request).unwrap();
    assert!(status == 401 && body.contains("Unauthorized"), "{status} {body}");
    // The certificate authenticates /proxy only: S3 requests still need SigV4.
    let (status, _) =
        https(addr, client_config(&ca_pem, Some(&good)), "GET /any HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .unwrap();
    assert_eq!(status, 403);
}

/// A sluice with one `file://` backend and an HTTPS listener, standing in
/// for an S3 server reached over TLS; its tenant `store` is the front's
/// backend credential.
fn https_store(dir: &Path, server_ca: &Ca) -> common::Sluice {
    let leaf = server_ca.leaf(&["localhost"]);
    let cert = write(dir, "store.pem", &leaf.cert.pem());
    let key = write(dir, "store.key", &leaf.key_pair.serialize_pem());
    let files = dir.join("files");
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 1\ndata_dir = \"data\"\n\n[log]\nformat = \"text\"\nlevel = \"warn\"\n\n\
         [tls]\nlisten = \"127.0.0.1:0\"\ncert_file = \"{cert}\"\nkey_file = \"{key}\"\n\n\
         [[backend]]\nid = \"disk\"\nendpoint = \"file://{}\"\nregion = \"r\"\n\n\
         [[tenant]]\nname = \"store\"\nkeys = [{{ access_key = \"AKSTORE\", secret_key = \"store-secret-key\" }}]\n",
        files.display()
    );
    common::Sluice::start(&config, dir, common::any_driver())
}

fn front_config(store_port: u16, ca_file: Option<&str>) -> String {
    front_config_host("localhost", store_port, ca_file)
}

fn front_config_host(host: &str, store_port: u16, ca_file: Option<&str>) -> String {
    let ca = ca_file.map(|f| format!("[tls]\nbackend_ca_file = \"{f}\"\n\n")).unwrap_or_default();
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 1\ndata_dir = \"data\"\nio_timeout_secs = 5\n\n\
         [log]\nformat = \"text\"\nlevel = \"warn\"\n\n{ca}\
         [[backend]]\nid = \"tls-store\"\nendpoint = \"https://{host}:{store_port}\"\nregion = \"r\"\n\
         access_key = \"AKSTORE\"\nsecret_key = \"store-secret-key\"\n\n\
         [[tenant]]\nname = \"acme\"\nkeys = [{{ access_key = \"AKACME\", secret_key = \"acme-secret\" }}]\n\n\
         [[bucket]]\ntenant = \"acme\"\nname = \"data\"\nreplicas = 1\n"
    )
}

fn put_get(s: &common::Sluice, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let creds = common::Creds { access_key: "AKACME".into(), secret_key: "acme-secret".into() };
    let mut c = TcpStream::connect(s.addr).unwrap();
    let mut req =
        common::signed_request(s.addr, &creds, &common::RawReq { body, ..common::RawReq::new("PUT", path) });
    req.extend_from_slice(body);
    c.write_all(&req).unwrap();
    let (status, _, out) = common::read_response(&mut c);
    if status != 200 {
        return (status, out);
    }
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.write_all(&common::signed_request(s.addr, &creds, &common::RawReq::new("GET", path))).unwrap();
    let (status, _, out) = common::read_response(&mut c);
    (status, out)
}

/// `https://` backends: verified against `tls.backend_ca_file`; without
/// that CA the backend is unreachable and nothing is sent in the clear.
#[test]
fn https_backends_are_verified() {
    let server_ca = Ca::new("store CA");
    let store_dir = tempfile::tempdir().unwrap();
    let store = https_store(store_dir.path(), &server_ca);
    let port = store
        .stdout_rest
        .iter()
        .find_map(|l| l.strip_prefix("sluice listening on https://"))
        .unwrap()
        .parse::<SocketAddr>()
        .unwrap()
        .port();
    let front_dir = tempfile::tempdir().unwrap();
    let ca_file = write(front_dir.path(), "store-ca.pem", &server_ca.cert.pem());
    let front =
        common::Sluice::start(&front_config(port, Some(&ca_file)), front_dir.path(), common::any_driver());
    let body = b"stored over https".repeat(5000);
    // The physical bucket is created at start; retry briefly until it is.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (status, got) = loop {
        let r = put_get(&front, "/data/secure", &body);
        if r.0 == 200 || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    assert!(got == body);
    // The object is on the store, under the physical bucket name.
    let physical = common::physical("acme", "data");
    let (status, stored) = store_get(&store, &format!("/{physical}/secure"), "");
    assert_eq!((status, stored == body), (200, true), "the object is on the store under the physical bucket");

    // Without the store's CA: refused, nothing sent.
    let other_dir = tempfile::tempdir().unwrap();
    let untrusting = common::Sluice::start(&front_config(port, None), other_dir.path(), common::any_driver());
    let (status, out) = put_get(&untrusting, "/data/never", b"must not arrive");
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&out));
    // The trusted CA, but the certificate is not for the name dialled
    // (127.0.0.1; it names localhost only): refused too.
    let ip_dir = tempfile::tempdir().unwrap();
    let ip_ca = write(ip_dir.path(), "store-ca.pem", &server_ca.cert.pem());
    let by_ip = common::Sluice::start(
        &front_config_host("127.0.0.1", port, Some(&ip_ca)),
        ip_dir.path(),
        common::any_driver(),
    );
    let (status, out) = put_get(&by_ip, "/data/never", b"must not arrive either");
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&out));
    let (status, listing) = store_get(&store, &format!("/{physical}"), "list-type=2");
    let listing = String::from_utf8_lossy(&listing).into_owned();
    assert!(
        status == 200 && listing.contains("<Key>secure</Key>") && !listing.contains("never"),
        "{listing}"
    );
}

/// A GET to the store with its own tenant's key: (status, body).
fn store_get(store: &common::Sluice, path: &str, query: &str) -> (u16, Vec<u8>) {
    let creds = common::Creds { access_key: "AKSTORE".into(), secret_key: "store-secret-key".into() };
    let mut c = TcpStream::connect(store.addr).unwrap();
    let req = common::RawReq { query, ..common::RawReq::new("GET", path) };
    c.write_all(&common::signed_request(store.addr, &creds, &req)).unwrap();
    let (status, _, out) = common::read_response(&mut c);
    (status, out)
}
