//! Configuration: the TOML file (or the embedded default) validated into a typed [`Config`].
//!
//! [`RawConfig`] mirrors the file; every field has a doc comment and a default in
//! code. [`RawConfig::validate`] turns it into a [`Config`] or an error that names
//! the offending field (`backend[1].endpoint: ...`). The config file bootstraps
//! the metadata store: its backends, tenants, keys and buckets are written into
//! LMDB at start (idempotently); see `meta::seed`.
//!
//! # Security
//! Secret keys are read into [`Secret`] at once and never printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

use crate::secret::Secret;

pub mod jwt;
pub mod replication;
pub mod security;
pub mod tls;

pub use replication::{HealthConfig, RawHealth, RawReplication, ReplicationConfig};
pub use security::{RawSecurity, SecurityConfig};

/// Default listen address of `sluice serve`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
/// Default signing region.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./sluice-data";
/// Longest backend id, tenant name or region accepted.
pub const MAX_NAME_LEN: usize = 64;
/// Access keys are 3..=128 characters of `[A-Za-z0-9]`, like AWS's.
pub const MAX_ACCESS_KEY_LEN: usize = 128;
pub const MIN_ACCESS_KEY_LEN: usize = 3;
/// Default `server.max_connections`: well under a typical 65,536-descriptor
/// limit, leaving room for backend connections (64 idle per backend per core).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Bounds of `server.metadata_map_size_mb`: 64 MiB to 1 TiB.
pub const MIN_METADATA_MAP_MB: u64 = 64;
pub const MAX_METADATA_MAP_MB: u64 = 1 << 20;

/// Most replicas a bucket may ask for.
pub const MAX_REPLICAS: u8 = 8;
/// Most backends sluice places over (placement indices are `u16`; the bound keeps
/// per-request placement work small).
pub const MAX_BACKENDS: usize = 256;

/// The file as written by the operator.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub replication: RawReplication,
    #[serde(default)]
    pub health: RawHealth,
    #[serde(default)]
    pub security: RawSecurity,
    #[serde(default)]
    pub tls: tls::RawTls,
    /// Storage backends objects are placed on.
    #[serde(default, rename = "backend")]
    pub backends: Vec<RawBackend>,
    /// Tenants and their access keys.
    #[serde(default, rename = "tenant")]
    pub tenants: Vec<RawTenant>,
    /// Buckets created at start with their policy.
    #[serde(default, rename = "bucket")]
    pub buckets: Vec<RawBucket>,
    /// Trusted JWT issuers for `/proxy`.
    #[serde(default, rename = "jwt")]
    pub jwt: Vec<jwt::RawJwt>,
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    /// Address the S3 endpoint listens on. Port 0 picks a free port (printed at start).
    pub listen: String,
    /// Worker threads, each a monoio runtime pinned to a core with its own
    /// SO_REUSEPORT listener. 0 = one per available core.
    pub workers: usize,
    /// The region clients sign their requests for.
    pub region: String,
    /// Directory of the LMDB metadata store (and, later, the replication queues).
    pub data_dir: PathBuf,
    /// Enables virtual-hosted-style requests: `Host: <bucket>.<domain>`.
    pub domain: Option<String>,
    /// Seconds a client may take to send a complete request head.
    pub head_timeout_secs: u64,
    /// Seconds an idle keep-alive connection is kept open.
    pub idle_timeout_secs: u64,
    /// Seconds a request body or a backend may stall before the request fails.
    pub io_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// Threads doing blocking file I/O for `file://` backends. 0 = 4 per worker.
    pub blocking_threads: usize,
    /// Replicas of buckets created through the S3 API (CreateBucket).
    pub default_replicas: u8,
    /// Size of the metadata store's LMDB map in MiB (address space, not disk:
    /// the file grows with its data). Writes are refused once 90 % of it is in
    /// use; raise it and restart.
    pub metadata_map_size_mb: u64,
    /// Most client connections open at once, over all workers (each worker
    /// takes its share). At the limit, a worker stops accepting until one of
    /// its connections closes: new clients wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: DEFAULT_LISTEN.to_string(),
            workers: 0,
            region: DEFAULT_REGION.to_string(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            domain: None,
            head_timeout_secs: 30,
            idle_timeout_secs: 60,
            io_timeout_secs: 60,
            shutdown_grace_secs: 10,
            blocking_threads: 0,
            default_replicas: 1,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            metadata_map_size_mb: (crate::meta::store::META_MAP_SIZE >> 20) as u64,
        }
    }
}

/// `[log]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    /// `json` (one object per line, the default) or `text`.
    pub format: String,
    /// A tracing filter such as `info` or `sluice=debug`. `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog { format: "json".to_string(), level: "info".to_string() }
    }
}

/// `[[backend]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    /// Stable identifier; placement hashes it, so renaming a backend moves data.
    pub id: String,
    /// `http://host:port` of an S3-compatible server, or `file:///absolute/dir`.
    pub endpoint: String,
    /// Residency region of the backend (matched against bucket residency lists).
    pub region: String,
    /// Access key of the backend's own credentials (S3 backends).
    #[serde(default)]
    pub access_key: Option<String>,
    /// Secret key of the backend's own credentials (S3 backends).
    #[serde(default)]
    pub secret_key: Option<Secret>,
    /// Relative share of objects this backend receives.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Region sluice signs backend requests for; defaults to `us-east-1`.
    #[serde(default)]
    pub signing_region: Option<String>,
}

fn default_weight() -> f64 {
    1.0
}

/// `[[tenant]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: String,
    #[serde(default)]
    pub keys: Vec<RawKey>,
}

/// One access key of a tenant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub access_key: String,
    pub secret_key: Secret,
}

/// `[[bucket]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBucket {
    pub tenant: String,
    pub name: String,
    /// Regions allowed to hold the bucket's objects; empty or absent: any backend.
    #[serde(default)]
    pub residency: Vec<String>,
    /// Copies of each object.
    #[serde(default = "default_replicas")]
    pub replicas: u8,
    /// Writes are accepted while at least this many of the bucket's eligible
    /// backends are healthy (1..=replicas). The write itself goes to one
    /// backend; replication makes the other copies.
    #[serde(default = "default_min_write_replicas")]
    pub min_write_replicas: u8,
}

fn default_min_write_replicas() -> u8 {
    1
}

fn default_replicas() -> u8 {
    1
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub log: LogConfig,
    pub replication: ReplicationConfig,
    pub health: HealthConfig,
    pub security: SecurityConfig,
    pub tls: tls::TlsConfig,
    pub backends: Vec<BackendConfig>,
    pub tenants: Vec<TenantConfig>,
    pub buckets: Vec<BucketConfig>,
    pub jwt: Vec<crate::meta::JwtIssuerRecord>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub workers: usize,
    pub region: String,
    pub data_dir: PathBuf,
    pub domain: Option<String>,
    pub head_timeout: std::time::Duration,
    pub idle_timeout: std::time::Duration,
    pub io_timeout: std::time::Duration,
    pub shutdown_grace: std::time::Duration,
    pub blocking_threads: usize,
    pub default_replicas: u8,
    pub max_connections: usize,
    /// The metadata map in bytes.
    pub metadata_map_size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// Where a backend keeps its objects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Endpoint {
    /// An S3-compatible server at `host:port`, over HTTPS when `tls`.
    Http {
        host: String,
        port: u16,
        #[serde(default)]
        tls: bool,
    },
    /// A local directory (the embedded default).
    File { root: PathBuf },
}

impl Endpoint {
    /// Parses `http://host[:port]`, `https://host[:port]` or `file:///abs/dir`.
    pub fn parse(s: &str) -> anyhow::Result<Endpoint> {
        let (rest, tls, default_port) = match (s.strip_prefix("http://"), s.strip_prefix("https://")) {
            (Some(r), _) => (Some(r), false, 80),
            (_, Some(r)) => (Some(r), true, 443),
            _ => (None, false, 0),
        };
        if let Some(rest) = rest {
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains('/') || authority.contains('@') {
                bail!("expected http(s)://host:port with no path, got {s:?}");
            }
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                    (h, p.parse::<u16>().map_err(|_| anyhow!("invalid port in {s:?}"))?)
                }
                _ => (authority, default_port),
            };
            if host.is_empty() {
                bail!("missing host in {s:?}");
            }
            Ok(Endpoint::Http { host: host.trim_matches(['[', ']']).to_string(), port, tls })
        } else if let Some(path) = s.strip_prefix("file://") {
            let root = PathBuf::from(path);
            if !root.is_absolute() {
                bail!("file endpoints need an absolute path (file:///abs/dir), got {s:?}");
            }
            Ok(Endpoint::File { root })
        } else {
            bail!("unsupported endpoint {s:?}: expected http(s)://host:port or file:///abs/dir");
        }
    }
}

#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub id: String,
    pub endpoint: Endpoint,
    pub region: String,
    pub access_key: String,
    pub secret_key: Secret,
    pub weight: f64,
    pub signing_region: String,
}

#[derive(Debug, Clone)]
pub struct TenantConfig {
    pub name: String,
    pub keys: Vec<KeyConfig>,
}

#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub access_key: String,
    pub secret_key: Secret,
}

#[derive(Debug, Clone)]
pub struct BucketConfig {
    pub tenant: String,
    pub name: String,
    pub residency: Vec<String>,
    pub replicas: u8,
    pub min_write_replicas: u8,
}

impl RawConfig {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> anyhow::Result<RawConfig> {
        toml::from_str(text).map_err(|e| anyhow!("{e}"))
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> anyhow::Result<RawConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Checks every field and builds the typed [`Config`].
    pub fn validate(self) -> anyhow::Result<Config> {
        let s = self.server;
        let listen: SocketAddr = s
            .listen
            .parse()
            .map_err(|_| anyhow!("server.listen: {:?} is not an ip:port address", s.listen))?;
        check_name("server.region", &s.region)?;
        if let Some(d) = &s.domain
            && (d.is_empty() || d.contains('/') || d.contains(':'))
        {
            bail!("server.domain: expected a DNS name such as s3.example.com, got {d:?}");
        }
        for (field, v) in [
            ("server.head_timeout_secs", s.head_timeout_secs),
            ("server.idle_timeout_secs", s.idle_timeout_secs),
            ("server.io_timeout_secs", s.io_timeout_secs),
        ] {
            if v == 0 {
                bail!("{field}: must be at least 1");
            }
        }
        if s.default_replicas == 0 || s.default_replicas > MAX_REPLICAS {
            bail!("server.default_replicas: must be 1..={MAX_REPLICAS}");
        }
        if s.max_connections == 0 {
            bail!("server.max_connections: must be at least 1");
        }
        if !(MIN_METADATA_MAP_MB..=MAX_METADATA_MAP_MB).contains(&s.metadata_map_size_mb) {
            bail!("server.metadata_map_size_mb: must be {MIN_METADATA_MAP_MB}..={MAX_METADATA_MAP_MB}");
        }
        let log_format = match self.log.format.as_str() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => bail!("log.format: expected \"json\" or \"text\", got {other:?}"),
        };

        if self.backends.is_empty() {
            bail!("backend: at least one [[backend]] is required");
        }
        if self.backends.len() > MAX_BACKENDS {
            bail!("backend: at most {MAX_BACKENDS} backends are supported");
        }
        let mut backends = Vec::with_capacity(self.backends.len());
        for (i, b) in self.backends.into_iter().enumerate() {
            let at = format!("backend[{i}]");
            check_name(&format!("{at}.id"), &b.id)?;
            if backends.iter().any(|o: &BackendConfig| o.id == b.id) {
                bail!("{at}.id: duplicate backend id {:?}", b.id);
            }
            check_name(&format!("{at}.region"), &b.region)?;
            let endpoint = Endpoint::parse(&b.endpoint).with_context(|| format!("{at}.endpoint"))?;
            if !crate::placement::is_valid_weight(b.weight) {
                bail!(
                    "{at}.weight: must be between {} and {}, got {}",
                    crate::placement::MIN_WEIGHT,
                    crate::placement::MAX_WEIGHT,
                    b.weight
                );
            }
            let (access_key, secret_key) = match (&endpoint, b.access_key, b.secret_key) {
                (Endpoint::Http { .. }, Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => (a, s),
                (Endpoint::Http { .. }, ..) => bail!("{at}: S3 backends need access_key and secret_key"),
                (Endpoint::File { .. }, a, s) => {
                    (a.unwrap_or_default(), s.unwrap_or_else(|| Secret::new("")))
                }
            };
            let signing_region = b.signing_region.unwrap_or_else(|| DEFAULT_REGION.to_string());
            check_name(&format!("{at}.signing_region"), &signing_region)?;
            backends.push(BackendConfig {
                id: b.id,
                endpoint,
                region: b.region,
                access_key,
                secret_key,
                weight: b.weight,
                signing_region,
            });
        }

        let mut tenants: Vec<TenantConfig> = Vec::with_capacity(self.tenants.len());
        for (i, t) in self.tenants.into_iter().enumerate() {
            let at = format!("tenant[{i}]");
            check_name(&format!("{at}.name"), &t.name)?;
            if tenants.iter().any(|o| o.name == t.name) {
                bail!("{at}.name: duplicate tenant {:?}", t.name);
            }
            let mut keys = Vec::with_capacity(t.keys.len());
            for (j, k) in t.keys.into_iter().enumerate() {
                let kat = format!("{at}.keys[{j}]");
                check_access_key(&format!("{kat}.access_key"), &k.access_key)?;
                if k.secret_key.is_empty() {
                    bail!("{kat}.secret_key: must not be empty");
                }
                let dup = tenants
                    .iter()
                    .flat_map(|o| o.keys.iter())
                    .chain(keys.iter())
                    .any(|o: &KeyConfig| o.access_key == k.access_key);
                if dup {
                    bail!("{kat}.access_key: {:?} is used twice", k.access_key);
                }
                keys.push(KeyConfig { access_key: k.access_key, secret_key: k.secret_key });
            }
            tenants.push(TenantConfig { name: t.name, keys });
        }

        let mut buckets: Vec<BucketConfig> = Vec::with_capacity(self.buckets.len());
        for (i, b) in self.buckets.into_iter().enumerate() {
            let at = format!("bucket[{i}]");
            if !tenants.iter().any(|t| t.name == b.tenant) {
                bail!("{at}.tenant: unknown tenant {:?}", b.tenant);
            }
            if let Err(why) = crate::s3::names::check_bucket_name(&b.name) {
                bail!("{at}.name: {:?} is not a valid bucket name: {why}", b.name);
            }
            if buckets.iter().any(|o| o.name == b.name) {
                bail!("{at}.name: duplicate bucket {:?} (bucket names are global)", b.name);
            }
            for r in &b.residency {
                check_name(&format!("{at}.residency"), r)?;
            }
            if b.replicas == 0 || b.replicas > MAX_REPLICAS {
                bail!("{at}.replicas: must be 1..={MAX_REPLICAS}");
            }
            if b.min_write_replicas == 0 || b.min_write_replicas > b.replicas {
                bail!("{at}.min_write_replicas: must be 1..=replicas ({})", b.replicas);
            }
            let eligible =
                backends.iter().filter(|x| crate::placement::is_allowed(&x.region, &b.residency)).count();
            if usize::from(b.replicas) > eligible {
                bail!(
                    "{at} ({}/{}): replicas = {} but only {eligible} backend(s) are eligible under residency {:?}",
                    b.tenant,
                    b.name,
                    b.replicas,
                    b.residency
                );
            }
            buckets.push(BucketConfig {
                tenant: b.tenant,
                name: b.name,
                residency: b.residency,
                replicas: b.replicas,
                min_write_replicas: b.min_write_replicas,
            });
        }
        if usize::from(s.default_replicas) > backends.len() {
            bail!(
                "server.default_replicas: {} is more than the {} backends",
                s.default_replicas,
                backends.len()
            );
        }

        Ok(Config {
            server: ServerConfig {
                listen,
                workers: s.workers,
                region: s.region,
                data_dir: s.data_dir,
                domain: s.domain.map(|d| d.to_ascii_lowercase()),
                head_timeout: std::time::Duration::from_secs(s.head_timeout_secs),
                idle_timeout: std::time::Duration::from_secs(s.idle_timeout_secs),
                io_timeout: std::time::Duration::from_secs(s.io_timeout_secs),
                shutdown_grace: std::time::Duration::from_secs(s.shutdown_grace_secs),
                blocking_threads: s.blocking_threads,
                default_replicas: s.default_replicas,
                max_connections: s.max_connections,
                metadata_map_size: (s.metadata_map_size_mb as usize) << 20,
            },
            log: LogConfig { format: log_format, level: self.log.level },
            replication: self.replication.validate()?,
            health: self.health.validate()?,
            security: self.security.validate()?,
            tls: self.tls.validate()?,
            jwt: {
                let mut out: Vec<crate::meta::JwtIssuerRecord> = Vec::with_capacity(self.jwt.len());
                for (i, j) in self.jwt.into_iter().enumerate() {
                    let rec = j.validate(&format!("jwt[{i}]"))?;
                    if out.iter().any(|o| o.name == rec.name) {
                        bail!("jwt[{i}].name: {:?} is used twice", rec.name);
                    }
                    out.push(rec);
                }
                out
            },
            backends,
            tenants,
            buckets,
        })
    }
}

impl Config {
    /// Worker count with 0 resolved to the number of available cores.
    pub fn worker_count(&self) -> usize {
        match self.server.workers {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        }
    }
}

/// Backend ids, tenant names and regions: 1..=64 of `[A-Za-z0-9._-]`.
pub fn check_name(field: &str, v: &str) -> anyhow::Result<()> {
    let ok = !v.is_empty()
        && v.len() <= MAX_NAME_LEN
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        bail!("{field}: {v:?} must be 1 to {MAX_NAME_LEN} characters of letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

fn check_access_key(field: &str, v: &str) -> anyhow::Result<()> {
    let ok = (MIN_ACCESS_KEY_LEN..=MAX_ACCESS_KEY_LEN).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric());
    if !ok {
        bail!("{field}: access keys are {MIN_ACCESS_KEY_LEN} to {MAX_ACCESS_KEY_LEN} letters and digits");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[server]
listen = "127.0.0.1:9000"
workers = 0
region = "us-east-1"
data_dir = "./sluice-data"

[[backend]]
id = "eu1"
endpoint = "http://127.0.0.1:9101"
region = "eu-west"
access_key = "AK1"
secret_key = "SK1"
weight = 1.0

[[backend]]
id = "eu2"
endpoint = "file:///var/lib/sluice/eu2"
region = "eu-central"

[[tenant]]
name = "acme"
keys = [{ access_key = "AKACME", secret_key = "secret" }]

[[bucket]]
tenant = "acme"
name = "logs"
residency = ["eu-west", "eu-central"]
replicas = 2
"#;

    #[test]
    fn example_config_validates() {
        let c = RawConfig::from_toml(EXAMPLE).unwrap().validate().unwrap();
        assert_eq!(c.backends.len(), 2);
        assert_eq!(
            c.backends[0].endpoint,
            Endpoint::Http { host: "127.0.0.1".into(), port: 9101, tls: false }
        );
        assert_eq!(c.backends[1].endpoint, Endpoint::File { root: "/var/lib/sluice/eu2".into() });
        assert_eq!(c.buckets[0].replicas, 2);
        assert!(!format!("{c:?}").contains("secret\""), "secrets never print");
    }

    fn err(toml_text: &str) -> String {
        match RawConfig::from_toml(toml_text).and_then(RawConfig::validate) {
            Ok(_) => panic!("expected an error"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = err(&EXAMPLE.replace("replicas = 2", "replicas = 3"));
        assert!(e.contains("bucket[0]") && e.contains("replicas = 3") && e.contains("2 backend"), "{e}");
        let e = err(&EXAMPLE.replace("http://127.0.0.1:9101", "ftp://x"));
        assert!(e.contains("backend[0].endpoint"), "{e}");
        let e = err(&EXAMPLE.replace("file:///var", "file://var"));
        assert!(e.contains("backend[1].endpoint") && e.contains("absolute"), "{e}");
        let e = err(&EXAMPLE.replace("tenant = \"acme\"", "tenant = \"nope\""));
        assert!(e.contains("bucket[0].tenant"), "{e}");
        let e = err(&EXAMPLE.replace("name = \"logs\"", "name = \"Logs_Bad\""));
        assert!(e.contains("bucket[0].name"), "{e}");
        let e = err(&EXAMPLE.replace("listen = \"127.0.0.1:9000\"", "listen = \"nope\""));
        assert!(e.contains("server.listen"), "{e}");
        let e = err(&EXAMPLE.replace("weight = 1.0", "weight = -1.0"));
        assert!(e.contains("backend[0].weight"), "{e}");
        let e = err(&EXAMPLE.replace("access_key = \"AK1\"\n", ""));
        assert!(e.contains("backend[0]") && e.contains("access_key"), "{e}");
        let e = err(&format!("{EXAMPLE}\n[oops]\nx=1\n"));
        assert!(e.contains("oops"), "{e}");
    }

    #[test]
    fn endpoint_parsing() {
        assert_eq!(
            Endpoint::parse("http://h").unwrap(),
            Endpoint::Http { host: "h".into(), port: 80, tls: false }
        );
        assert_eq!(
            Endpoint::parse("http://h:1/").unwrap(),
            Endpoint::Http { host: "h".into(), port: 1, tls: false }
        );
        assert_eq!(
            Endpoint::parse("https://h").unwrap(),
            Endpoint::Http { host: "h".into(), port: 443, tls: true }
        );
        assert!(Endpoint::parse("http://h:1/path").is_err());
        assert!(Endpoint::parse("http://user@h:1").is_err());
        assert!(Endpoint::parse("http://h:99999").is_err());
    }
}
