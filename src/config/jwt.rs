//! `[[jwt]]`: the issuers whose tokens `/proxy` accepts.
//!
//! # Security
//! An HS256 secret is a [`Secret`] (never printed, sealed in the store) of
//! at least [`MIN_HS256_SECRET_LEN`] bytes. An EdDSA issuer gives only its
//! Ed25519 public key.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::meta::JwtIssuerRecord;
use crate::secret::Secret;

/// Shortest HS256 secret accepted (RFC 7518: at least the hash size).
pub const MIN_HS256_SECRET_LEN: usize = 32;
/// Largest public key file read.
pub const MAX_PUBLIC_KEY_FILE: u64 = 16 * 1024;

/// `[[jwt]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    /// A name for logs and the store.
    pub name: String,
    /// The `iss` tokens must carry.
    pub issuer: String,
    /// The `aud` tokens must carry.
    pub audience: String,
    /// HS256: the shared secret.
    pub hs256_secret: Option<Secret>,
    /// EdDSA: the Ed25519 public key (PEM), inline or from a file.
    pub ed25519_public_key: Option<String>,
    pub ed25519_public_key_file: Option<PathBuf>,
    /// Bind the issuer to one tenant (its tokens' `tenant` claim, if any,
    /// must match); without it the `tenant` claim names the tenant.
    pub tenant: Option<String>,
}

impl RawJwt {
    pub fn validate(self, at: &str) -> anyhow::Result<JwtIssuerRecord> {
        crate::config::check_name(&format!("{at}.name"), &self.name)?;
        if self.issuer.is_empty() || self.audience.is_empty() {
            bail!("{at}: issuer and audience must not be empty");
        }
        let pem = match (&self.ed25519_public_key, &self.ed25519_public_key_file) {
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => {
                let mut text = String::new();
                use std::io::Read;
                std::fs::File::open(path)
                    .and_then(|f| f.take(MAX_PUBLIC_KEY_FILE).read_to_string(&mut text))
                    .with_context(|| format!("{at}.ed25519_public_key_file: reading {}", path.display()))?;
                Some(text)
            }
            (None, None) => None,
            (Some(_), Some(_)) => bail!("{at}: give ed25519_public_key or ed25519_public_key_file, not both"),
        };
        match (&self.hs256_secret, &pem) {
            (Some(s), None) if s.expose().len() < MIN_HS256_SECRET_LEN => {
                bail!("{at}.hs256_secret: must be at least {MIN_HS256_SECRET_LEN} bytes")
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => bail!("{at}: give exactly one of hs256_secret and an Ed25519 public key"),
        }
        if let Some(t) = &self.tenant {
            crate::config::check_name(&format!("{at}.tenant"), t)?;
        }
        let rec = JwtIssuerRecord {
            name: self.name,
            issuer: self.issuer,
            audience: self.audience,
            hs256_secret: self.hs256_secret,
            ed25519_public_pem: pem,
            tenant: self.tenant,
        };
        crate::admin::jwt::JwtVerifier::new(std::slice::from_ref(&rec))
            .map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(toml_text: &str) -> RawJwt {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn exactly_one_key_and_strong_secrets() {
        let ok = raw(
            "name = \"idp\"\nissuer = \"i\"\naudience = \"a\"\nhs256_secret = \"0123456789abcdef0123456789abcdef\"",
        );
        assert!(ok.validate("jwt[0]").is_ok());
        let short = raw("name = \"idp\"\nissuer = \"i\"\naudience = \"a\"\nhs256_secret = \"short\"");
        assert!(short.validate("jwt[0]").unwrap_err().to_string().contains("at least 32"));
        let none = raw("name = \"idp\"\nissuer = \"i\"\naudience = \"a\"");
        assert!(none.validate("jwt[0]").unwrap_err().to_string().contains("exactly one"));
        let bad_pem =
            raw("name = \"idp\"\nissuer = \"i\"\naudience = \"a\"\ned25519_public_key = \"not a pem\"");
        assert!(bad_pem.validate("jwt[1]").unwrap_err().to_string().contains("jwt[1]"));
    }
}
