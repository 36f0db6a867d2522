//! Where the master key comes from, in order of precedence:
//! 1. `--master-key-file PATH`;
//! 2. the environment variable `SLUICE_MASTER_KEY` (the key itself);
//! 3. `security.master_key_file`;
//! 4. `security.master_key_command` (its standard output, so a Vault or cloud
//!    KMS CLI plugs in);
//! 5. otherwise `<data_dir>/master.key`, generated on the first `sluice serve`.
//!    That file sits next to the data it protects: it is for trying sluice,
//!    and a warning says so at every start.
//!
//! # Security
//! The key text is read into zeroized buffers and never logged; errors name
//! the source, never the content.

use std::io::Read;
use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use zeroize::Zeroizing;

use super::crypto::MasterKey;
use crate::config::SecurityConfig;

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "SLUICE_MASTER_KEY";
/// The generated key's file under the data directory.
pub const GENERATED_KEY_FILE: &str = "master.key";
/// Most bytes read from a key file or a key command.
pub const MAX_KEY_SOURCE_BYTES: u64 = 4096;
/// How long `master_key_command` may run.
pub const KEY_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the key came from (for logs; never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Flag(PathBuf),
    Env,
    File(PathBuf),
    Command(String),
    Generated(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Flag(p) => write!(f, "--master-key-file {}", p.display()),
            KeySource::Env => write!(f, "${MASTER_KEY_ENV}"),
            KeySource::File(p) => write!(f, "security.master_key_file {}", p.display()),
            KeySource::Command(c) => write!(f, "security.master_key_command {c}"),
            KeySource::Generated(p) => write!(f, "{} (generated; development only)", p.display()),
        }
    }
}

/// Whether a missing key may be generated under the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    Generate,
    Fail,
}

/// Finds the master key (see the module docs for the order).
pub fn resolve(
    security: &SecurityConfig,
    data_dir: &Path,
    if_missing: IfMissing,
) -> anyhow::Result<(MasterKey, KeySource)> {
    let env = std::env::var_os(MASTER_KEY_ENV);
    resolve_with_env(security, data_dir, if_missing, env)
}

/// [`resolve`] with the environment variable's value given.
pub fn resolve_with_env(
    security: &SecurityConfig,
    data_dir: &Path,
    if_missing: IfMissing,
    env: Option<std::ffi::OsString>,
) -> anyhow::Result<(MasterKey, KeySource)> {
    if let Some(path) = &security.master_key_flag {
        return Ok((read_key_file(path).context("--master-key-file")?, KeySource::Flag(path.to_path_buf())));
    }
    if let Some(text) = env {
        let text = Zeroizing::new(text.into_string().map_err(|_| anyhow!("{MASTER_KEY_ENV}: not UTF-8"))?);
        let key = MasterKey::parse(&text).map_err(|e| anyhow!("{MASTER_KEY_ENV}: {e}"))?;
        return Ok((key, KeySource::Env));
    }
    if let Some(path) = &security.master_key_file {
        let key = read_key_file(path).context("security.master_key_file")?;
        return Ok((key, KeySource::File(path.clone())));
    }
    if let Some(argv) = &security.master_key_command {
        let key = run_key_command(argv).context("security.master_key_command")?;
        return Ok((key, KeySource::Command(argv[0].clone())));
    }
    let path = data_dir.join(GENERATED_KEY_FILE);
    if path.exists() {
        return Ok((read_key_file(&path)?, KeySource::Generated(path)));
    }
    // A key is generated only for a data directory with no store yet: a
    // store sealed under a key that is now missing must fail, not get a
    // second, wrong key file next to it.
    if if_missing == IfMissing::Fail || data_dir.join("meta").join("data.mdb").exists() {
        bail!(
            "no master key: give --master-key-file, {MASTER_KEY_ENV}, security.master_key_file or \
             security.master_key_command"
        );
    }
    let key = MasterKey::generate()?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    write_private(&path, key.to_hex().as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok((key, KeySource::Generated(path)))
}

/// Reads a key file (bounded; 64 hex digits or base64).
pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_SOURCE_BYTES)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    MasterKey::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn run_key_command(argv: &[String]) -> anyhow::Result<MasterKey> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {:?}", argv[0]))?;
    let mut stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Zeroizing::new(Vec::new());
        let r = (&mut stdout).take(MAX_KEY_SOURCE_BYTES).read_to_end(&mut text);
        // Whatever follows is drained, so the command never blocks on a full pipe.
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        let _ = tx.send(r.map(|_| text));
    });
    let deadline = Instant::now() + KEY_COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{:?} did not finish within {}s", argv[0], KEY_COMMAND_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if !status.success() {
        bail!("{:?} failed ({status})", argv[0]);
    }
    // A process it started may hold the pipe open: wait only until the deadline.
    let wait = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let bytes = rx
        .recv_timeout(wait)
        .map_err(|_| anyhow!("{:?} exited but its output stayed open", argv[0]))?
        .context("reading the output")?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| anyhow!("the output of {:?} is not UTF-8", argv[0]))?;
    MasterKey::parse(text).map_err(|e| anyhow!("the output of {:?}: {e}", argv[0]))
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec() -> SecurityConfig {
        SecurityConfig::default()
    }

    #[test]
    fn file_command_and_generated_sources() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let file = dir.path().join("k");
        std::fs::write(&file, format!("{}\n", &*key.to_hex())).unwrap();
        // The flag wins over the config (the env var is not set in unit tests).
        let cfg = SecurityConfig {
            master_key_flag: Some(file.clone()),
            master_key_command: Some(vec!["false".into()]),
            ..sec()
        };
        let (k, src) = resolve_with_env(&cfg, dir.path(), IfMissing::Fail, None).unwrap();
        assert_eq!(*k.to_hex(), *key.to_hex());
        assert_eq!(src, KeySource::Flag(file.clone()));

        let cfg = SecurityConfig {
            master_key_command: Some(vec!["cat".into(), file.display().to_string()]),
            ..sec()
        };
        let (k, _) = resolve_with_env(&cfg, dir.path(), IfMissing::Fail, None).unwrap();
        assert_eq!(*k.to_hex(), *key.to_hex());

        let cfg = SecurityConfig { master_key_command: Some(vec!["false".into()]), ..sec() };
        let err = resolve_with_env(&cfg, dir.path(), IfMissing::Fail, None).unwrap_err();
        assert!(format!("{err:#}").contains("master_key_command"), "{err:#}");

        let data = dir.path().join("data");
        let err = resolve_with_env(&sec(), &data, IfMissing::Fail, None).unwrap_err();
        assert!(format!("{err:#}").contains("no master key"));
        let (g, src) = resolve_with_env(&sec(), &data, IfMissing::Generate, None).unwrap();
        assert!(matches!(src, KeySource::Generated(_)));
        let (again, _) = resolve_with_env(&sec(), &data, IfMissing::Fail, None).unwrap();
        assert_eq!(*g.to_hex(), *again.to_hex(), "the generated key is kept");
        // A store without its key file never gets a new one.
        std::fs::remove_file(data.join(GENERATED_KEY_FILE)).unwrap();
        std::fs::create_dir_all(data.join("meta")).unwrap();
        std::fs::write(data.join("meta/data.mdb"), b"").unwrap();
        assert!(resolve_with_env(&sec(), &data, IfMissing::Generate, None).is_err());
        assert!(!data.join(GENERATED_KEY_FILE).exists());
        // The environment variable comes after the flag, before the config.
        let env_key = MasterKey::generate().unwrap();
        let (k, src) =
            resolve_with_env(&sec(), &data, IfMissing::Fail, Some(env_key.to_hex().as_str().into())).unwrap();
        assert_eq!((k.to_hex().to_string(), src), (env_key.to_hex().to_string(), KeySource::Env));
    }

    #[test]
    fn a_bad_key_file_names_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        std::fs::write(&file, "not a key").unwrap();
        let cfg = SecurityConfig { master_key_flag: Some(file), ..sec() };
        let err = resolve_with_env(&cfg, dir.path(), IfMissing::Fail, None).unwrap_err();
        assert!(format!("{err:#}").contains("64 hex digits"), "{err:#}");
    }
}
