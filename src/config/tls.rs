//! `[tls]`: the HTTPS listener (beside the HTTP one), optional client
//! certificates (mTLS) mapped to tenants for `/proxy`, and the CA for
//! `https://` backends.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{anyhow, bail};
use serde::Deserialize;

/// `[tls]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTls {
    /// Address of the HTTPS listener (port 0 picks a free port). Needs
    /// `cert_file` and `key_file`.
    pub listen: Option<String>,
    /// The server certificate chain (PEM) and its private key (PEM, PKCS#8,
    /// PKCS#1 or SEC1).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates must chain to; enables mTLS.
    pub client_ca_file: Option<PathBuf>,
    /// `required` (the default with a CA: no certificate, no connection) or
    /// `optional` (a certificate is verified when presented).
    pub client_auth: Option<String>,
    /// Client certificate names (SAN DNS/URI or subject CN) that authenticate
    /// `/proxy` requests as a tenant.
    pub client_tenants: Vec<RawClientTenant>,
    /// CA certificates (PEM) trusted for `https://` backends, besides the
    /// system's roots.
    pub backend_ca_file: Option<PathBuf>,
}

/// `{ name = "...", tenant = "..." }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClientTenant {
    pub name: String,
    pub tenant: String,
}

/// Whether a client certificate is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Optional,
    Required,
}

/// The validated HTTPS listener.
#[derive(Debug, Clone)]
pub struct TlsListenerConfig {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
    pub client_auth: ClientAuth,
    /// (certificate name, tenant)
    pub client_tenants: Vec<(String, String)>,
}

/// Validated `[tls]`.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    pub listener: Option<TlsListenerConfig>,
    pub backend_ca_file: Option<PathBuf>,
}

impl RawTls {
    pub fn validate(self) -> anyhow::Result<TlsConfig> {
        let listener = match self.listen {
            None => {
                if self.cert_file.is_some()
                    || self.client_ca_file.is_some()
                    || !self.client_tenants.is_empty()
                {
                    bail!("tls: cert_file, client_ca_file and client_tenants need tls.listen");
                }
                None
            }
            Some(l) => {
                let listen: SocketAddr =
                    l.parse().map_err(|_| anyhow!("tls.listen: {l:?} is not an ip:port address"))?;
                let cert_file =
                    self.cert_file.ok_or_else(|| anyhow!("tls.cert_file: required with tls.listen"))?;
                let key_file =
                    self.key_file.ok_or_else(|| anyhow!("tls.key_file: required with tls.listen"))?;
                let client_auth = match (self.client_auth.as_deref(), &self.client_ca_file) {
                    (None | Some("required"), Some(_)) => ClientAuth::Required,
                    (Some("optional"), Some(_)) => ClientAuth::Optional,
                    (None, None) => ClientAuth::None,
                    (Some(_), None) => bail!("tls.client_auth: needs tls.client_ca_file"),
                    (Some(other), Some(_)) => {
                        bail!("tls.client_auth: expected \"required\" or \"optional\", got {other:?}")
                    }
                };
                if !self.client_tenants.is_empty() && client_auth == ClientAuth::None {
                    bail!(
                        "tls.client_tenants: needs tls.client_ca_file (client certificates must be verified)"
                    );
                }
                let mut client_tenants = Vec::with_capacity(self.client_tenants.len());
                for (i, t) in self.client_tenants.into_iter().enumerate() {
                    if t.name.is_empty() {
                        bail!("tls.client_tenants[{i}].name: must not be empty");
                    }
                    crate::config::check_name(&format!("tls.client_tenants[{i}].tenant"), &t.tenant)?;
                    client_tenants.push((t.name, t.tenant));
                }
                Some(TlsListenerConfig {
                    listen,
                    cert_file,
                    key_file,
                    client_ca_file: self.client_ca_file,
                    client_auth,
                    client_tenants,
                })
            }
        };
        Ok(TlsConfig { listener, backend_ca_file: self.backend_ca_file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(text: &str) -> anyhow::Result<TlsConfig> {
        toml::from_str::<RawTls>(text).unwrap().validate()
    }

    #[test]
    fn listener_rules() {
        assert!(tls("").unwrap().listener.is_none());
        let t = tls("listen = \"127.0.0.1:0\"\ncert_file = \"c\"\nkey_file = \"k\"").unwrap();
        assert_eq!(t.listener.unwrap().client_auth, ClientAuth::None);
        let t = tls("listen = \"127.0.0.1:0\"\ncert_file = \"c\"\nkey_file = \"k\"\nclient_ca_file = \"ca\"")
            .unwrap();
        assert_eq!(t.listener.unwrap().client_auth, ClientAuth::Required);
        assert!(
            tls("listen = \"127.0.0.1:0\"\nkey_file = \"k\"").unwrap_err().to_string().contains("cert_file")
        );
        assert!(tls("cert_file = \"c\"").is_err());
        let e = tls(
            "listen = \"127.0.0.1:0\"\ncert_file = \"c\"\nkey_file = \"k\"\nclient_tenants = [{ name = \"a\", tenant = \"t\" }]",
        );
        assert!(e.unwrap_err().to_string().contains("client_ca_file"));
    }
}
