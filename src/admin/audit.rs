//! The audit log: one JSON line per admin request (who, what, when, result),
//! appended to `security.audit_log` (default `<data_dir>/audit.log`). Only
//! authenticated requests are audited, with the path cut to a bounded length,
//! so that no unauthenticated client can grow the file.
//!
//! Lines are written with a single `write` on a file opened for appending,
//! off the event loop. Tokens are identified by their public id, never their
//! value; request bodies are not logged (they may carry secrets).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The audit log's file name under the data directory.
pub const AUDIT_FILE: &str = "audit.log";

/// One audited admin request.
#[derive(Debug, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 time.
    pub time: String,
    pub request_id: String,
    /// The token's public id (only authenticated requests are audited).
    pub token_id: String,
    pub role: Option<&'static str>,
    pub tenant: Option<String>,
    /// The endpoint (`CreateTenant`, ...), or `-` for an unknown path.
    pub action: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `ok`, or the error code.
    pub result: String,
}

/// Where the audit log goes.
pub fn audit_path(config: &crate::config::Config) -> PathBuf {
    config.security.audit_log.clone().unwrap_or_else(|| config.server.data_dir.join(AUDIT_FILE))
}

/// Appends one line (blocking).
pub fn append(path: &Path, rec: &AuditRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        for status in [200, 403] {
            let rec = AuditRecord {
                time: "2026-11-29T00:00:00Z".into(),
                request_id: "r".into(),
                token_id: "abc".into(),
                role: Some("viewer"),
                tenant: None,
                action: "CreateTenant".into(),
                method: "POST".into(),
                path: "/admin/v1/tenants".into(),
                status,
                result: if status == 200 { "ok".into() } else { "Forbidden".into() },
            };
            append(&path, &rec).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["status"], 403);
        assert_eq!(lines[1]["result"], "Forbidden");
    }
}
