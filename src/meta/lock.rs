//! One process at a time owns a data directory: `sluice serve` holds an
//! exclusive lock on `<data_dir>/sluice.lock` while it runs, and offline
//! commands that rewrite the store (`sluice admin rotate-master-key`) take
//! the same lock, so they never run under a live server.

use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::{Context, bail};

/// The lock file under the data directory.
pub const LOCK_FILE: &str = "sluice.lock";

/// Held for as long as the value lives (the OS drops the lock with the file).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock, or fails at once naming the directory when another
    /// process holds it.
    pub fn acquire(data_dir: &Path) -> anyhow::Result<DataDirLock> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let path = data_dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                bail!("another sluice process is using {} (stop it first)", data_dir.display())
            }
            Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let err = DataDirLock::acquire(dir.path()).unwrap_err();
        assert!(err.to_string().contains("another sluice process"), "{err}");
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
