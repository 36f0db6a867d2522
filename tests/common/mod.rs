//! Test harness: real `s3s-fs` backends and the real `sluice` binary on
//! loopback ports, plus helpers to drive them with real clients (boto3, the
//! AWS CLI) and raw HTTP.
//!
//! `S3S_FS` names the s3s-fs binary (default: `s3s-fs` on PATH, then
//! `~/.cargo/bin/s3s-fs`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A free loopback port (bound then released: good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn s3s_fs_binary() -> PathBuf {
    if let Ok(p) = std::env::var("S3S_FS") {
        return p.into();
    }
    if let Some(p) = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("s3s-fs")).find(|p| p.is_file()))
    {
        return p;
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let p = PathBuf::from(home).join(".cargo/bin/s3s-fs");
    assert!(
        p.is_file(),
        "s3s-fs not found: install it with `cargo install s3s-fs@0.14.1 --locked --features binary`"
    );
    p
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited during start: {status}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not listen on port {port} in time");
}

/// One s3s-fs backend process.
pub struct S3sFs {
    pub id: String,
    pub region: String,
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    pub root: PathBuf,
    child: Option<Child>,
}

impl S3sFs {
    pub fn start(id: &str, region: &str, root: &Path) -> S3sFs {
        std::fs::create_dir_all(root).unwrap();
        let mut b = S3sFs {
            id: id.to_string(),
            region: region.to_string(),
            port: free_port(),
            access_key: format!("BE{}", id.to_uppercase().replace(['-', '_'], "")),
            secret_key: format!("secret-of-{id}"),
            root: root.to_path_buf(),
            child: None,
        };
        b.spawn();
        b
    }

    fn spawn(&mut self) {
        let mut child = Command::new(s3s_fs_binary())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", &self.access_key, "--secret-key", &self.secret_key])
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn s3s-fs");
        wait_for_port(self.port, &mut child, "s3s-fs");
        self.child = Some(child);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process (the data stays on disk).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Whether object `key` exists in physical bucket `bucket` on disk.
    pub fn has_object(&self, bucket: &str, key: &str) -> bool {
        self.root.join(bucket).join(key).is_file()
    }

    /// Bytes of an object on disk.
    pub fn read_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(bucket).join(key)).ok()
    }

    /// Every object key under a physical bucket on disk (s3s-fs keeps
    /// objects as plain files; its own bookkeeping files are skipped).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let base = self.root.join(bucket);
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(&base).unwrap().to_string_lossy().into_owned();
                    if !rel.starts_with(".") && !rel.contains("/.") && !rel.ends_with(".internal.part") {
                        out.push(rel);
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The `[[backend]]` TOML block for this backend.
    pub fn toml(&self) -> String {
        format!(
            "[[backend]]\nid = \"{}\"\nendpoint = \"{}\"\nregion = \"{}\"\naccess_key = \"{}\"\nsecret_key = \"{}\"\n\n",
            self.id,
            self.endpoint(),
            self.region,
            self.access_key,
            self.secret_key
        )
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The sluice binary under test.
pub struct Sluice {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    child: Option<Child>,
    pub stdout_rest: Vec<String>,
}

/// The I/O drivers tests run sluice with: io_uring and epoll. Where the
/// kernel refuses io_uring (some containers) only epoll runs, and the test
/// says so on stderr; `SLUICE_REQUIRE_URING=1` turns that into a failure.
pub fn drivers() -> Vec<&'static str> {
    if monoio::utils::detect_uring() {
        vec!["uring", "epoll"]
    } else {
        assert!(std::env::var_os("SLUICE_REQUIRE_URING").is_none(), "io_uring is not available here");
        eprintln!("io_uring is not available on this kernel: testing the epoll driver only");
        vec!["epoll"]
    }
}

/// io_uring when available, else epoll (for single-driver tests).
pub fn any_driver() -> &'static str {
    drivers()[0]
}

impl Sluice {
    /// Starts `sluice serve --config <file>` with `SLUICE_DRIVER=driver`.
    pub fn start(config_toml: &str, dir: &Path, driver: &str) -> Sluice {
        Self::spawn(Self::serve_command(config_toml, dir, TEST_MASTER_KEY), driver, dir.join("data"))
    }

    /// `sluice serve` with `config_toml` written to `dir/sluice.toml`, the
    /// master key `master_key` and the test admin token.
    pub fn serve_command(config_toml: &str, dir: &Path, master_key: &str) -> Command {
        let config = dir.join("sluice.toml");
        std::fs::write(&config, config_toml).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.args(["serve", "--config"])
            .arg(&config)
            .current_dir(dir)
            .env("SLUICE_MASTER_KEY", master_key)
            .env("SLUICE_ADMIN_TOKEN", TEST_ADMIN_TOKEN);
        cmd
    }

    /// Spawns a prepared command and waits for its "listening" line.
    pub fn spawn(mut cmd: Command, driver: &str, data_dir: PathBuf) -> Sluice {
        cmd.env("SLUICE_DRIVER", driver).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn sluice");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("sluice did not print its listening line")
        });
        let addr = first
            .strip_prefix("sluice listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let stdout_rest: Vec<String> = rx.try_iter().collect();
        Sluice { addr, data_dir, child: Some(child), stdout_rest }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
    pub fn status_kib(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = text.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "sluice did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (after a signal sent elsewhere) for the exit status.
    pub fn terminate_wait(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "sluice did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        self.child.as_mut().is_none_or(|c| c.try_wait().unwrap().is_some())
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A tenant's credentials.
pub struct Creds {
    pub access_key: String,
    pub secret_key: String,
}

/// Three s3s-fs backends in three regions plus sluice, with tenants `acme`
/// and `umbrella` and buckets `logs` (residency eu-west+eu-central,
/// replicas 2) and `any` (no residency, replicas 1) owned by acme.
pub struct Cluster {
    pub backends: Vec<S3sFs>,
    pub sluice: Sluice,
    pub acme: Creds,
    pub umbrella: Creds,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start(driver: &str) -> Cluster {
        Self::start_with(driver, "")
    }

    /// Starts the cluster; `extra` is appended to the config.
    pub fn start_with(driver: &str, extra: &str) -> Cluster {
        Self::start_opts(driver, "", extra)
    }

    /// Starts the cluster; `server_extra` lines go into `[server]`, `extra`
    /// at the end of the config.
    pub fn start_opts(driver: &str, server_extra: &str, extra: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let backends: Vec<S3sFs> = [("eu1", "eu-west"), ("eu2", "eu-central"), ("us1", "us-east")]
            .iter()
            .map(|(id, region)| S3sFs::start(id, region, &dir.path().join(id)))
            .collect();
        let config = cluster_config(&backends, server_extra, extra);
        let sluice = Sluice::start(&config, dir.path(), driver);
        wait_for_physical_buckets(&backends);
        Cluster {
            backends,
            sluice,
            acme: Creds { access_key: "AKACME".into(), secret_key: "acme-secret".into() },
            umbrella: Creds { access_key: "AKUMBRELLA".into(), secret_key: "umbrella-secret".into() },
            dir,
        }
    }

    /// Starts one more s3s-fs backend (not yet in sluice's config).
    pub fn add_backend(&mut self, id: &str, region: &str) {
        let b = S3sFs::start(id, region, &self.dir.path().join(id));
        self.backends.push(b);
    }

    /// Kills sluice with SIGKILL (no shutdown of any kind).
    pub fn kill_sluice(&mut self) {
        self.sluice.kill9();
    }

    /// Starts sluice again on the same data directory, with the config of the
    /// current backends plus `server_extra` and `extra`.
    pub fn restart_sluice(&mut self, driver: &str, server_extra: &str, extra: &str) {
        if !self.sluice.exited() {
            self.sluice.terminate();
        }
        let config = cluster_config(&self.backends, server_extra, extra);
        self.sluice = Sluice::start(&config, self.dir.path(), driver);
    }

    /// Path of sluice's config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("sluice.toml")
    }

    /// Runs a `sluice` operator command against this cluster's config and
    /// returns its stdout (panics on a non-zero exit).
    pub fn sluice_cmd(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.args(args)
            .arg("--config")
            .arg(self.config_path())
            .current_dir(self.dir.path())
            .env("SLUICE_MASTER_KEY", TEST_MASTER_KEY);
        check_output(&format!("sluice {}", args.join(" ")), cmd.output().expect("run sluice"))
    }

    /// Environment for client scripts: endpoint and acme's credentials.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("SLUICE_ENDPOINT".to_string(), self.sluice.endpoint()),
            ("AWS_ACCESS_KEY_ID".to_string(), self.acme.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), self.acme.secret_key.clone()),
            ("AWS_DEFAULT_REGION".to_string(), "us-east-1".to_string()),
            ("OTHER_ACCESS_KEY_ID".to_string(), self.umbrella.access_key.clone()),
            ("OTHER_SECRET_ACCESS_KEY".to_string(), self.umbrella.secret_key.clone()),
        ];
        let backends: Vec<String> = self
            .backends
            .iter()
            .map(|b| {
                format!(
                    "{{\"id\":\"{}\",\"region\":\"{}\",\"endpoint\":\"{}\",\"access_key\":\"{}\",\"secret_key\":\"{}\"}}",
                    b.id,
                    b.region,
                    b.endpoint(),
                    b.access_key,
                    b.secret_key
                )
            })
            .collect();
        env.push(("SLUICE_BACKENDS".to_string(), format!("[{}]", backends.join(","))));
        env.push(("PHYSICAL_LOGS".to_string(), physical("acme", "logs")));
        env.push(("PHYSICAL_ANY".to_string(), physical("acme", "any")));
        env.push(("AWS_CONFIG_FILE".to_string(), "/dev/null".to_string()));
        env.push(("AWS_SHARED_CREDENTIALS_FILE".to_string(), "/dev/null".to_string()));
        env
    }

    /// Runs a python client script from `tests/clients/` and asserts it passed.
    pub fn run_python(&self, script: &str, args: &[&str]) -> String {
        run_python(script, args, &self.env())
    }

    /// Index in `backends` of the backends of `key` of `bucket` in placement
    /// order (rendezvous hashing over the bucket's eligible backends), read
    /// from sluice's metadata store.
    pub fn placement_order(&self, bucket: &str, key: &str) -> Vec<usize> {
        placement_order(&self.sluice.data_dir, bucket, key)
            .iter()
            .map(|id| self.backends.iter().position(|b| &b.id == id).expect("known backend"))
            .collect()
    }

    /// Index in `backends` of the primary of `key` of `bucket`.
    pub fn primary_of(&self, bucket: &str, key: &str) -> usize {
        self.placement_order(bucket, key)[0]
    }

    /// Waits until sluice reports no pending replication task.
    pub fn wait_replicated(&self, timeout: Duration) {
        wait_replicated(self.sluice.addr, timeout)
    }
}

/// The master key every test cluster runs with (`SLUICE_MASTER_KEY`).
pub const TEST_MASTER_KEY: &str = "5a1c3e00112233445566778899aabbccddeeff00112233445566778899aabbcc";
/// The bootstrap admin token of every test cluster (`SLUICE_ADMIN_TOKEN`).
pub const TEST_ADMIN_TOKEN: &str = "test-bootstrap-admin-token-0123456789";

/// Opens the metadata store of a data directory with the test master key
/// (LMDB lets tests read it while sluice runs).
pub fn open_store(data_dir: &Path) -> sluice::meta::MetaStore {
    let key = sluice::meta::MasterKey::parse(TEST_MASTER_KEY).unwrap();
    sluice::meta::MetaStore::open(&data_dir.join("meta"), &key).unwrap()
}

/// Backend ids of `key` of `bucket` (owned by acme) in placement order.
pub fn placement_order(data_dir: &Path, bucket: &str, key: &str) -> Vec<String> {
    let store = open_store(data_dir);
    let snap = sluice::meta::SnapshotHub::new(&store.load().unwrap()).current();
    let b = snap.bucket(bucket).expect("bucket exists");
    sluice::placement::placement_order(b.id, key.as_bytes(), &b.candidates)
        .iter()
        .map(|&i| snap.backends[usize::from(i)].id.clone())
        .collect()
}

/// The value of an unlabelled metric from sluice's `/metrics`.
pub fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let (resp, _) = raw_exchange(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    let text = String::from_utf8_lossy(&resp);
    let prefix = format!("{name} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok())
}

/// Polls `/metrics` until no replication task is pending; panics after `timeout`.
pub fn wait_replicated(addr: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let pending = metric(addr, "sluice_replication_pending_tasks");
        if pending == Some(0.0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replication did not drain within {timeout:?}: {pending:?} pending"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The config of a test cluster: `backends`, tenants acme and umbrella,
/// buckets logs and any; `server_extra` goes into `[server]`, `extra` at the end.
pub fn cluster_config(backends: &[S3sFs], server_extra: &str, extra: &str) -> String {
    let mut config = String::from(
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 2\nregion = \"us-east-1\"\ndata_dir = \"data\"\n\
         io_timeout_secs = 10\n",
    );
    config.push_str(server_extra);
    config.push_str("\n[log]\nformat = \"text\"\nlevel = \"warn\"\n\n");
    for b in backends {
        config.push_str(&b.toml());
    }
    config.push_str(
        "[[tenant]]\nname = \"acme\"\nkeys = [{ access_key = \"AKACME\", secret_key = \"acme-secret\" }]\n\n\
         [[tenant]]\nname = \"umbrella\"\nkeys = [{ access_key = \"AKUMBRELLA\", secret_key = \"umbrella-secret\" }]\n\n\
         [[bucket]]\ntenant = \"acme\"\nname = \"logs\"\nresidency = [\"eu-west\", \"eu-central\"]\nreplicas = 2\n\n\
         [[bucket]]\ntenant = \"acme\"\nname = \"any\"\nreplicas = 1\n\n",
    );
    config.push_str(extra);
    config
}

/// The physical bucket name of (tenant, bucket).
pub fn physical(tenant: &str, bucket: &str) -> String {
    sluice::placement::physical_bucket_name(tenant, bucket)
}

/// Waits until sluice's start-up pass created the physical buckets.
fn wait_for_physical_buckets(backends: &[S3sFs]) {
    let logs = physical("acme", "logs");
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if backends[0].root.join(&logs).is_dir() && backends[1].root.join(&logs).is_dir() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("physical buckets were not created");
}

/// Runs `python3 tests/clients/<script> args...` with `env`; panics with its
/// output unless it exits 0. Returns stdout.
pub fn run_python(script: &str, args: &[&str], env: &[(String, String)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(script);
    let out = Command::new("python3")
        .arg(&path)
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .expect("run python3");
    check_output(&format!("python3 {script} {}", args.join(" ")), out)
}

/// Runs a command with `env`; panics with its output unless it exits 0.
pub fn run(program: &str, args: &[&str], env: &[(String, String)]) -> String {
    let out = Command::new(program).args(args).envs(env.iter().cloned()).output().expect("run command");
    check_output(&format!("{program} {}", args.join(" ")), out)
}

fn check_output(what: &str, out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout
}

/// Sends raw bytes and reads until the peer closes or `timeout` passes.
pub fn raw_exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (out, closed)
}

/// A request for [`signed_request`].
#[derive(Clone, Copy)]
pub struct RawReq<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// The body the signature covers (not sent by `signed_request`).
    pub body: &'a [u8],
    /// A payload hash to sign instead of the body's sha256.
    pub payload_hash: Option<&'a str>,
}

impl<'a> RawReq<'a> {
    pub fn new(method: &'a str, path: &'a str) -> Self {
        RawReq { method, path, query: "", headers: &[], body: b"", payload_hash: None }
    }
}

/// Builds a complete HTTP/1.1 request signed with SigV4 (sluice's own signer:
/// use boto3 or the CLI where the signature itself is under test).
pub fn signed_request(addr: SocketAddr, creds: &Creds, req: &RawReq<'_>) -> Vec<u8> {
    let RawReq { method, path, query, headers: extra, body, payload_hash } = *req;
    use sha2::Digest;
    let host = addr.to_string();
    let now = sluice::time::now_unix();
    let amz_date = String::from_utf8(sluice::time::format_amz_date(now).to_vec()).unwrap();
    let hash = payload_hash.map_or_else(|| hex::encode(sha2::Sha256::digest(body)), str::to_string);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host.clone()),
        ("x-amz-content-sha256".into(), hash.clone()),
        ("x-amz-date".into(), amz_date),
    ];
    for (n, v) in extra {
        headers.push((n.to_ascii_lowercase(), v.to_string()));
    }
    headers.sort();
    let signed: Vec<&str> = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| *n != "content-length" && *n != "transfer-encoding" && *n != "expect")
        .collect();
    let signed = signed.join(";");
    let hdrs: Vec<httparse::Header<'_>> =
        headers.iter().map(|(n, v)| httparse::Header { name: n.as_str(), value: v.as_bytes() }).collect();
    let mut scratch = sluice::sigv4::SigV4Scratch::new();
    let mut cache = sluice::sigv4::SigningKeyCache::new();
    let mut auth = Vec::new();
    let secret = sluice::secret::Secret::new(creds.secret_key.clone());
    let req = sluice::sigv4::OutboundRequest {
        method,
        path,
        query,
        headers: &hdrs,
        signed_headers: &signed,
        payload_hash: &hash,
    };
    sluice::sigv4::sign_headers(
        &req,
        (&creds.access_key, &secret),
        "us-east-1",
        "s3",
        now,
        &mut scratch,
        &mut cache,
        &mut auth,
    );
    let mut out = format!("{method} {path}{}{query} HTTP/1.1\r\n", if query.is_empty() { "" } else { "?" })
        .into_bytes();
    for (n, v) in &headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"authorization: ");
    out.extend_from_slice(&auth);
    out.extend_from_slice(b"\r\n");
    if !headers.iter().any(|(n, _)| n == "content-length" || n == "transfer-encoding") {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Reads one HTTP response (head + Content-Length body) from a stream.
pub fn read_response(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    read_response_to(s, false)
}

/// Reads the response to a HEAD request (no body whatever Content-Length says).
pub fn read_head_response(s: &mut TcpStream) -> (u16, String) {
    let (status, head, _) = read_response_to(s, true);
    (status, head)
}

fn read_response_to(s: &mut TcpStream, head_request: bool) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("read response head");
        assert!(
            n == 1,
            "connection closed in the middle of a response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if !head_request && status != 100 && status != 304 && !head.starts_with("HTTP/1.1 204") {
        s.read_exact(&mut body).unwrap();
    } else {
        body.clear();
    }
    (status, head, body)
}

/// What [`verify_replicas`] checked.
#[derive(Debug, Default)]
pub struct Verified {
    /// Keys that must exist, found with the right bytes on every replica.
    pub objects: usize,
    /// Copies read and compared.
    pub copies: usize,
    /// Deleted keys found on no backend.
    pub deleted: usize,
}

/// Checks, reading every backend's disk directly, that each expectation line
/// (`bucket<TAB>key<TAB>sha256`, or `-` for a deleted key) holds: the key is
/// on exactly its replica set (placement as sluice's metadata store has it)
/// with those bytes, or nowhere. The last line for a key wins.
pub fn verify_replicas(c: &Cluster, expected: &str) -> Verified {
    verify(c, expected, true)
}

/// [`verify_replicas`] that tolerates keys no line mentions (writes that were
/// in flight at a crash, never acknowledged).
pub fn verify_acknowledged(c: &Cluster, expected: &str) -> Verified {
    verify(c, expected, false)
}

/// See [`verify_replicas`]; `strict`: also fail on any key of those buckets
/// that no line mentions.
fn verify(c: &Cluster, expected: &str, strict: bool) -> Verified {
    use sha2::Digest;
    use std::collections::{BTreeMap, BTreeSet};
    let store = open_store(&c.sluice.data_dir);
    let snap = sluice::meta::SnapshotHub::new(&store.load().unwrap()).current();
    drop(store);
    let mut want: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in expected.lines().filter(|l| !l.is_empty()) {
        let mut f = line.split('\t');
        let (b, k, d) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        want.insert((b.to_string(), k.to_string()), d.to_string());
    }
    let mut out = Verified::default();
    let buckets: BTreeSet<&str> = want.keys().map(|(b, _)| b.as_str()).collect();
    for bucket in buckets.iter().filter(|_| strict) {
        let info = snap.bucket(bucket).expect("bucket configured");
        for be in &c.backends {
            for key in be.keys(&info.physical) {
                assert!(
                    want.contains_key(&(bucket.to_string(), key.clone())),
                    "{}: unexpected key {bucket}/{key}",
                    be.id
                );
            }
        }
    }
    for ((bucket, key), digest) in &want {
        let info = snap.bucket(bucket).unwrap();
        let replicas: Vec<&str> =
            sluice::placement::place(info.id, key.as_bytes(), &info.candidates, usize::from(info.replicas))
                .unwrap()
                .iter()
                .map(|&i| snap.backends[usize::from(i)].id.as_str())
                .collect();
        for be in &c.backends {
            let held = be.read_object(&info.physical, key);
            if digest == "-" {
                assert!(held.is_none(), "{bucket}/{key} was deleted but {} still holds it", be.id);
            } else if replicas.contains(&be.id.as_str()) {
                let held = held
                    .unwrap_or_else(|| panic!("{bucket}/{key}: replica {} lacks it ({replicas:?})", be.id));
                assert_eq!(
                    &hex(&sha2::Sha256::digest(&held)),
                    digest,
                    "{bucket}/{key}: wrong bytes on {}",
                    be.id
                );
                out.copies += 1;
            } else {
                assert!(
                    held.is_none(),
                    "{bucket}/{key}: misplaced copy on {} (replicas {replicas:?})",
                    be.id
                );
            }
        }
        if digest == "-" {
            out.deleted += 1;
        } else {
            out.objects += 1;
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
