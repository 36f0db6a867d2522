//! `[security]`: where the master key comes from, the bootstrap admin token,
//! and the audit log.
//!
//! # Security
//! The master key itself is never in the config: only a file path or a
//! command that prints it. The bootstrap admin token, if given here, is a
//! [`Secret`] and is stored only as a hash.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use crate::secret::Secret;

/// Most arguments of `master_key_command`.
pub const MAX_KEY_COMMAND_ARGS: usize = 64;
/// Shortest admin token accepted from the config or the environment.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// `[security]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSecurity {
    /// File holding the master key (64 hex digits or base64 of 32 bytes).
    /// `--master-key-file` and `SLUICE_MASTER_KEY` take precedence.
    pub master_key_file: Option<PathBuf>,
    /// A command (program and arguments, no shell) whose standard output is
    /// the master key, e.g. `["vault", "kv", "get", "-field=key", "secret/sluice"]`.
    pub master_key_command: Option<Vec<String>>,
    /// The admin token created on first start with an empty store (role
    /// admin). `SLUICE_ADMIN_TOKEN` takes precedence. Without either, one is
    /// generated and printed once.
    pub admin_token: Option<Secret>,
    /// The audit log (JSON lines); default `<data_dir>/audit.log`.
    pub audit_log: Option<PathBuf>,
}

/// Validated `[security]`.
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    /// `--master-key-file` from the command line (not from the file).
    pub master_key_flag: Option<PathBuf>,
    pub master_key_file: Option<PathBuf>,
    pub master_key_command: Option<Vec<String>>,
    pub admin_token: Option<Secret>,
    pub audit_log: Option<PathBuf>,
}

impl RawSecurity {
    pub fn validate(self) -> anyhow::Result<SecurityConfig> {
        if let Some(cmd) = &self.master_key_command {
            if cmd.is_empty() || cmd[0].is_empty() {
                bail!(
                    "security.master_key_command: give the program and its arguments, e.g. [\"cat\", \"/run/key\"]"
                );
            }
            if cmd.len() > MAX_KEY_COMMAND_ARGS {
                bail!("security.master_key_command: at most {MAX_KEY_COMMAND_ARGS} arguments");
            }
        }
        if self.master_key_file.is_some() && self.master_key_command.is_some() {
            bail!("security: give master_key_file or master_key_command, not both");
        }
        if let Some(t) = &self.admin_token
            && t.expose().len() < MIN_ADMIN_TOKEN_LEN
        {
            bail!("security.admin_token: must be at least {MIN_ADMIN_TOKEN_LEN} characters");
        }
        Ok(SecurityConfig {
            master_key_flag: None,
            master_key_file: self.master_key_file,
            master_key_command: self.master_key_command,
            admin_token: self.admin_token,
            audit_log: self.audit_log,
        })
    }
}
