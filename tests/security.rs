//! Security end to end: secrets at rest, master key rotation and a wrong
//! master key, with the real binary and real s3s-fs backends.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Cluster, RawReq, TEST_ADMIN_TOKEN, TEST_MASTER_KEY, read_response, signed_request};

/// Every encoding of `secret` a careless store might hold: plain, hex (both
/// cases), and base64 (standard and URL-safe, at each of the 3 alignments).
fn encodings(secret: &str) -> Vec<Vec<u8>> {
    let b = secret.as_bytes();
    let mut out = vec![b.to_vec(), hex::encode(b).into_bytes(), hex::encode_upper(b).into_bytes()];
    for engine in [&base64::engine::general_purpose::STANDARD, &base64::engine::general_purpose::URL_SAFE] {
        for shift in 0..3usize {
            let mut padded = vec![0u8; shift];
            padded.extend_from_slice(b);
            let text = engine.encode(&padded);
            // Keep the characters that depend on the secret alone.
            let start = if shift == 0 { 0 } else { 4 };
            let end = text.len().saturating_sub(4);
            if end > start + 8 {
                out.push(text.as_bytes()[start..end].to_vec());
            }
        }
    }
    out
}

/// Files under `dir` that contain any encoding of any of `secrets`, as
/// "path: secret #i".
fn leaks(dir: &Path, secrets: &[&str]) -> Vec<String> {
    let needles: Vec<(usize, Vec<u8>)> =
        secrets.iter().enumerate().flat_map(|(i, s)| encodings(s).into_iter().map(move |e| (i, e))).collect();
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let data = std::fs::read(&path).unwrap();
            for (i, n) in &needles {
                if memchr::memmem::find(&data, n).is_some() {
                    found.push(format!("{}: secret #{i}", path.display()));
                }
            }
        }
    }
    assert!(files >= 2, "scanned {files} files under {}", dir.display());
    found
}

fn get_status(c: &Cluster, path: &str) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(c.sluice.addr).unwrap();
    std::io::Write::write_all(&mut s, &signed_request(c.sluice.addr, &c.acme, &RawReq::new("GET", path)))
        .unwrap();
    let (status, _, body) = read_response(&mut s);
    (status, body)
}

/// Waits for a process to exit (panics after 30 s); returns (status, stderr).
fn wait_exit(mut cmd: Command) -> (std::process::ExitStatus, String) {
    let mut child =
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SHA-256 of the LMDB data file(s) under `dir` (not lock.mdb, whose reader
/// table every open touches).
fn sha256_of_files(dir: &Path) -> Vec<(String, String)> {
    use sha2::Digest;
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "lock.mdb"))
        .map(|p| (p.display().to_string(), hex::encode(sha2::Sha256::digest(std::fs::read(&p).unwrap()))))
        .collect();
    out.sort();
    out
}

/// No secret is readable in any file under data_dir, in plain text, hex or
/// base64; the master key rotates (refused while the server runs), the
/// data is intact with the new key, and the old key or a wrong one fails at
/// start with a clear error and changes nothing.
#[test]
fn secrets_at_rest_rotation_and_wrong_key() {
    const JWT_SECRET: &str = "jwt-hs256-secret-for-the-at-rest-scan";
    let jwt = format!(
        "[[jwt]]\nname = \"idp\"\nissuer = \"https://idp\"\naudience = \"sluice\"\nhs256_secret = \"{JWT_SECRET}\"\n"
    );
    let mut c = Cluster::start_with(common::any_driver(), &jwt);
    // Secrets made through the admin API: an access key, an API key, a token.
    let admin = |path: &str, body: &str| -> serde_json::Value {
        let mut s = std::net::TcpStream::connect(c.sluice.addr).unwrap();
        let req = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TEST_ADMIN_TOKEN}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        std::io::Write::write_all(&mut s, req.as_bytes()).unwrap();
        let (status, _, out) = read_response(&mut s);
        assert!((200..300).contains(&status), "{path}: {status}");
        serde_json::from_slice(&out).unwrap()
    };
    let key = admin("/admin/v1/tenants/acme/keys", "{}");
    let api = admin("/admin/v1/tenants/acme/api-keys", r#"{"name":"a"}"#);
    let tok = admin("/admin/v1/tokens", r#"{"name":"t","role":"viewer"}"#);
    let made: Vec<String> = vec![
        key["secret_key"].as_str().unwrap().to_string(),
        api["api_key"].as_str().unwrap().to_string(),
        tok["token"].as_str().unwrap().to_string(),
    ];
    let (status, _) = {
        let mut s = std::net::TcpStream::connect(c.sluice.addr).unwrap();
        let body = b"sealed away";
        let req = RawReq { body, ..RawReq::new("PUT", "/any/at-rest") };
        let mut bytes = signed_request(c.sluice.addr, &c.acme, &req);
        bytes.extend_from_slice(body);
        std::io::Write::write_all(&mut s, &bytes).unwrap();
        let (st, _, b) = read_response(&mut s);
        (st, b)
    };
    assert_eq!(status, 200);
    let backend_secrets: Vec<String> = c.backends.iter().map(|b| b.secret_key.clone()).collect();
    let mut secrets: Vec<&str> =
        vec![&c.acme.secret_key, &c.umbrella.secret_key, TEST_ADMIN_TOKEN, TEST_MASTER_KEY, JWT_SECRET];
    secrets.extend(backend_secrets.iter().map(String::as_str));
    secrets.extend(made.iter().map(String::as_str));
    let data = c.sluice.data_dir.clone();
    assert_eq!(leaks(&data, &secrets), Vec::<String>::new());
    assert!(!leaks(c.dir.path(), &[&c.acme.secret_key]).is_empty(), "the scan finds the config file's copy");

    // Rotation is refused while the server holds the data directory.
    let dir = c.dir.path().to_path_buf();
    let new_key = "9f".repeat(32);
    let new_key_file = dir.join("new.key");
    std::fs::write(&new_key_file, &new_key).unwrap();
    let config_path = c.config_path();
    let rotate = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.args(["admin", "rotate-master-key", "--config"])
            .arg(&config_path)
            .arg("--new-key-file")
            .arg(&new_key_file)
            .current_dir(&dir)
            .env("SLUICE_MASTER_KEY", TEST_MASTER_KEY);
        cmd
    };
    let (st, err) = wait_exit(rotate());
    assert!(!st.success() && err.contains("another sluice process"), "{err}");
    c.sluice.terminate();
    let out = rotate().output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-sealed"));
    let mut more = secrets.clone();
    more.push(&new_key);
    assert_eq!(leaks(&data, &more), Vec::<String>::new());

    // The old key (and any other) now fails at start, naming the problem, and changes nothing.
    let config = std::fs::read_to_string(c.config_path()).unwrap();
    let meta = data.join("meta");
    let before = sha256_of_files(&meta);
    for wrong in [TEST_MASTER_KEY.to_string(), "00".repeat(32)] {
        let (st, err) = wait_exit(common::Sluice::serve_command(&config, &dir, &wrong));
        assert!(!st.success());
        assert!(err.contains("the master key does not open this metadata store"), "{err}");
        assert!(!err.contains(&wrong), "the key is never printed");
    }
    let (st, err) = wait_exit(common::Sluice::serve_command(&config, &dir, "not-a-key"));
    assert!(!st.success() && err.contains("SLUICE_MASTER_KEY") && err.contains("64 hex digits"), "{err}");
    assert_eq!(sha256_of_files(&meta), before, "a failed start wrote nothing");

    // With the new key everything is intact: the tenant's secret verifies
    // its signature and the backend's secret re-signs the read.
    c.sluice = common::Sluice::spawn(
        common::Sluice::serve_command(&config, &dir, &new_key),
        common::any_driver(),
        data.clone(),
    );
    assert_eq!(get_status(&c, "/any/at-rest"), (200, b"sealed away".to_vec()));
    // The API key (stored as a keyed hash) still authenticates on /proxy.
    let mut s = std::net::TcpStream::connect(c.sluice.addr).unwrap();
    let req =
        format!("GET /proxy/any/at-rest HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\r\n", made[1]);
    std::io::Write::write_all(&mut s, req.as_bytes()).unwrap();
    assert_eq!(read_response(&mut s).2, b"sealed away".to_vec());
}
