//! The client side of the admin API, for `sluice admin ...`: one blocking
//! HTTP/1.1 request per call (`Connection: close`), JSON in and out, and the
//! human-readable rendering of answers (tables for lists, `name: value`
//! lines for single records).
//!
//! # Security
//! The token goes only into the `Authorization` header; errors print the
//! server's JSON error, never the token.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde_json::Value;

/// How long the CLI waits for the server.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer the CLI reads.
pub const MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// Where the admin API is and the token to use.
pub struct AdminClient {
    /// `host:port` from `http://host:port`.
    authority: String,
    token: String,
}

impl AdminClient {
    pub fn new(url: &str, token: &str) -> anyhow::Result<AdminClient> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            anyhow!("--url: expected http://host:port (put a TLS proxy in front for https), got {url:?}")
        })?;
        let authority = rest.trim_end_matches('/').to_string();
        if authority.is_empty() || authority.contains('/') {
            bail!("--url: expected http://host:port, got {url:?}");
        }
        if token.is_empty() {
            bail!("no admin token: give --token or set SLUICE_ADMIN_TOKEN");
        }
        Ok(AdminClient { authority, token: token.to_string() })
    }

    /// Sends one request; returns the JSON answer of a 2xx, or an error
    /// carrying the server's error code and message.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let body = body.map(serde_json::to_vec).transpose()?.unwrap_or_default();
        let addr = self
            .authority
            .to_socket_addrs()
            .with_context(|| format!("resolving {}", self.authority))?
            .next()
            .ok_or_else(|| anyhow!("{} resolves to no address", self.authority))?;
        let mut s = TcpStream::connect_timeout(&addr, CLIENT_TIMEOUT)
            .with_context(|| format!("connecting to {}", self.authority))?;
        s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        s.set_write_timeout(Some(CLIENT_TIMEOUT))?;
        let head = format!(
            "{method} /admin/v1/{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.authority,
            self.token,
            body.len()
        );
        s.write_all(head.as_bytes())?;
        s.write_all(&body)?;
        let mut raw = Vec::new();
        s.take(MAX_RESPONSE_BYTES).read_to_end(&mut raw).context("reading the answer")?;
        let (status, json) = parse_response(&raw)?;
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let code = json["error"]["code"].as_str().unwrap_or("Error");
        let message = json["error"]["message"].as_str().unwrap_or("");
        bail!("{status} {code}: {message}")
    }
}

/// Status and JSON body of a complete `Connection: close` response.
fn parse_response(raw: &[u8]) -> anyhow::Result<(u16, Value)> {
    let split = memchr::memmem::find(raw, b"\r\n\r\n").ok_or_else(|| anyhow!("incomplete answer"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| anyhow!("malformed answer"))?;
    let status: u16 =
        head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| anyhow!("malformed status line"))?;
    let body = &raw[split + 4..];
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).context("a non-JSON answer")?
    };
    Ok((status, json))
}

/// Renders an answer for people: an object holding one array becomes a
/// table; any other object becomes `name: value` lines.
pub fn render(v: &Value) -> String {
    let mut out = String::new();
    if let Some(obj) = v.as_object() {
        if obj.len() == 1
            && let Some(Value::Array(rows)) = obj.values().next()
        {
            return table(rows);
        }
        for (k, val) in obj {
            out.push_str(&format!("{k}: {}\n", cell(val)));
        }
    }
    out
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn table(rows: &[Value]) -> String {
    let Some(first) = rows.first().and_then(Value::as_object) else { return "(none)\n".into() };
    let cols: Vec<&String> = first.keys().collect();
    let cells: Vec<Vec<String>> =
        rows.iter().map(|r| cols.iter().map(|c| cell(&r[c.as_str()])).collect()).collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].len()).chain([c.len()]).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let line = |vals: Vec<&str>, out: &mut String| {
        let parts: Vec<String> = vals.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(
        cols.iter().map(|c| c.to_ascii_uppercase()).collect::<Vec<_>>().iter().map(String::as_str).collect(),
        &mut out,
    );
    for r in &cells {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_answers_and_errors() {
        let raw = b"HTTP/1.1 409 Conflict\r\nContent-Length: 10\r\n\r\n{\"error\":{\"code\":\"Conflict\",\"message\":\"taken\"}}";
        let (status, v) = parse_response(raw).unwrap();
        assert_eq!(status, 409);
        assert_eq!(v["error"]["code"], "Conflict");
        assert!(parse_response(b"HTTP/1.1 200").is_err());
        assert!(AdminClient::new("https://x:1", "t").is_err());
        assert!(AdminClient::new("http://x:1", "").is_err());
    }

    #[test]
    fn renders_tables_and_records() {
        let t = render(
            &json!({"tenants": [{"name": "acme", "created": 1}, {"name": "umbrella-corp", "created": 22}]}),
        );
        assert_eq!(t, "CREATED  NAME\n1        acme\n22       umbrella-corp\n");
        assert_eq!(render(&json!({"tenants": []})), "(none)\n");
        assert_eq!(render(&json!({"name": "acme", "tenant": null})), "name: acme\ntenant: -\n");
    }
}
