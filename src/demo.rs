//! The embedded default configuration of `sluice serve` without `--config`:
//! three `file://` backends in three regions under `./sluice-data`, a `demo`
//! tenant and a `demo` bucket, so a new user can `aws s3 cp` at once.
//!
//! The demo key is generated on first start and kept in
//! `<data_dir>/demo-credentials.json` (mode 0600), so it survives restarts.
//!
//! # Security
//! The embedded default listens on 127.0.0.1 only.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::{DEFAULT_DATA_DIR, RawBackend, RawBucket, RawConfig, RawKey, RawTenant};
use crate::secret::Secret;

/// File holding the generated demo key.
pub const DEMO_CREDENTIALS_FILE: &str = "demo-credentials.json";
/// Name of the demo tenant and of its bucket.
pub const DEMO_TENANT: &str = "demo";
pub const DEMO_BUCKET: &str = "demo";
/// The three local backends: (id, region).
pub const DEMO_BACKENDS: [(&str, &str); 3] =
    [("local-a", "region-a"), ("local-b", "region-b"), ("local-c", "region-c")];

/// The demo tenant's key.
#[derive(Serialize, Deserialize)]
pub struct DemoCredentials {
    pub access_key: String,
    pub secret_key: Secret,
}

/// Reads the demo key from `data_dir`, creating it on first use.
pub fn demo_credentials(data_dir: &Path) -> anyhow::Result<DemoCredentials> {
    let path = data_dir.join(DEMO_CREDENTIALS_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()));
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut raw = [0u8; 16 + 40];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    let access_key: String =
        "SL".chars().chain(raw[..16].iter().map(|b| ALNUM[usize::from(*b) % ALNUM.len()] as char)).collect();
    let secret: String = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &raw[16..])
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    let creds = DemoCredentials { access_key, secret_key: Secret::new(secret) };
    let text = serde_json::to_string_pretty(&creds)?;
    write_private(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(creds)
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// The embedded default configuration, rooted at `./sluice-data` (absolute).
pub fn default_config() -> anyhow::Result<(RawConfig, DemoCredentials)> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let data_dir: PathBuf = cwd.join(DEFAULT_DATA_DIR.trim_start_matches("./"));
    let creds = demo_credentials(&data_dir)?;
    let mut raw = RawConfig::default();
    raw.server.data_dir = data_dir.clone();
    raw.log.format = "text".to_string();
    for (id, region) in DEMO_BACKENDS {
        let root = data_dir.join("backends").join(id);
        raw.backends.push(RawBackend {
            id: id.to_string(),
            endpoint: format!("file://{}", root.display()),
            region: region.to_string(),
            access_key: None,
            secret_key: None,
            weight: 1.0,
            signing_region: None,
        });
    }
    raw.tenants.push(RawTenant {
        name: DEMO_TENANT.to_string(),
        keys: vec![RawKey { access_key: creds.access_key.clone(), secret_key: creds.secret_key.clone() }],
    });
    raw.buckets.push(RawBucket {
        tenant: DEMO_TENANT.to_string(),
        name: DEMO_BUCKET.to_string(),
        residency: Vec::new(),
        replicas: 2,
        min_write_replicas: 1,
    });
    Ok((raw, creds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = demo_credentials(dir.path()).unwrap();
        let b = demo_credentials(dir.path()).unwrap();
        assert_eq!(a.access_key, b.access_key);
        assert_eq!(a.secret_key.expose(), b.secret_key.expose());
        assert_eq!(a.access_key.len(), 18);
        assert_eq!(a.secret_key.expose().len(), 40);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(DEMO_CREDENTIALS_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
