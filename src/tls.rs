//! TLS with rustls (ring provider): the HTTPS listener's configuration,
//! client certificate verification (mTLS) and the identity a certificate
//! gives, and the client configuration for `https://` backends (system
//! roots, or Mozilla's where the system has none, plus a configured CA).
//!
//! # Design
//! With client certificates, each connection gets its own `ServerConfig`
//! whose verifier records the end-entity certificate it verified: monoio's
//! TLS stream does not expose the session after the handshake, and a
//! certificate seen by the verifier of that very connection cannot be
//! confused with another's. Session resumption is off then (a resumed
//! session would skip the verifier). Without client certificates one shared
//! config serves every connection.
//!
//! # Security
//! Client certificates are verified by rustls' WebPKI verifier against
//! `tls.client_ca_file` only; names are read from a verified certificate.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow, bail};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ResolvesServerCert, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};

use crate::config::tls::{ClientAuth, TlsListenerConfig};
use crate::http::ClientIdentity;

/// Most bytes read from a certificate or key file.
pub const MAX_PEM_FILE: u64 = 1 << 20;

/// The crypto provider sluice uses everywhere.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_FILE).read_to_end(&mut out))
        .with_context(|| format!("{what}: reading {}", path.display()))?;
    Ok(out)
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path, what: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = read_pem(path, what)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .with_context(|| format!("{what}: {} is not PEM", path.display()))?;
    if certs.is_empty() {
        bail!("{what}: no certificate in {}", path.display());
    }
    Ok(certs)
}

fn load_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let pem = read_pem(path, "tls.key_file")?;
    rustls_pemfile::private_key(&mut &pem[..])
        .with_context(|| format!("tls.key_file: {} is not PEM", path.display()))?
        .ok_or_else(|| anyhow!("tls.key_file: no private key in {}", path.display()))
}

/// A root store of the certificates in a PEM file.
pub fn load_roots(path: &Path, what: &str) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path, what)? {
        roots
            .add(cert)
            .with_context(|| format!("{what}: a certificate in {} is not a CA", path.display()))?;
    }
    Ok(roots)
}

/// The HTTPS listener's TLS side, built once at start.
pub struct TlsServer {
    shared: Arc<ServerConfig>,
    /// Provider and protocol versions chosen: each connection's config starts here.
    builder: rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>,
    resolver: Arc<dyn ResolvesServerCert>,
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    tenants: Vec<(String, String)>,
}

/// The certificate the verifier of one connection accepted.
pub type SeenCert = Arc<Mutex<Option<CertificateDer<'static>>>>;

impl TlsServer {
    /// Loads certificates and keys; errors name the file and the field.
    pub fn load(cfg: &TlsListenerConfig) -> anyhow::Result<TlsServer> {
        let certs = load_certs(&cfg.cert_file, "tls.cert_file")?;
        let key = load_key(&cfg.key_file)?;
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow!("tls: {e}"))?;
        let shared = builder
            .clone()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| anyhow!("tls.cert_file/tls.key_file: {e}"))?;
        let resolver = shared.cert_resolver.clone();
        let verifier = match (&cfg.client_ca_file, cfg.client_auth) {
            (Some(path), auth) if auth != ClientAuth::None => {
                let roots = Arc::new(load_roots(path, "tls.client_ca_file")?);
                let builder = WebPkiClientVerifier::builder_with_provider(roots, provider());
                let builder =
                    if auth == ClientAuth::Optional { builder.allow_unauthenticated() } else { builder };
                Some(builder.build().map_err(|e| anyhow!("tls.client_ca_file: {e}"))?)
            }
            _ => None,
        };
        Ok(TlsServer {
            shared: Arc::new(shared),
            builder,
            resolver,
            verifier,
            tenants: cfg.client_tenants.clone(),
        })
    }

    /// The acceptor for one new connection, and where its client
    /// certificate will be recorded (with mTLS).
    pub fn acceptor(&self) -> (monoio_rustls::TlsAcceptor, Option<SeenCert>) {
        let Some(inner) = &self.verifier else {
            return (monoio_rustls::TlsAcceptor::from(self.shared.clone()), None);
        };
        let seen: SeenCert = Arc::default();
        let verifier = Arc::new(Recording { inner: inner.clone(), seen: seen.clone() });
        let mut config = self
            .builder
            .clone()
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(self.resolver.clone());
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        (monoio_rustls::TlsAcceptor::from(Arc::new(config)), Some(seen))
    }

    /// The identity of a verified client certificate.
    pub fn identity(&self, seen: &SeenCert) -> Option<ClientIdentity> {
        let cert = seen.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        let names = certificate_names(&cert);
        let tenant =
            self.tenants.iter().find(|(name, _)| names.iter().any(|n| n == name)).map(|(_, t)| t.clone());
        Some(ClientIdentity { names, tenant })
    }
}

/// The SAN DNS names and URIs of a certificate, or its subject CN when it
/// has none.
pub fn certificate_names(cert: &CertificateDer<'_>) -> Vec<String> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let Ok((_, x509)) = X509Certificate::from_der(cert.as_ref()) else { return Vec::new() };
    let mut names = Vec::new();
    if let Ok(Some(san)) = x509.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_string()),
                GeneralName::URI(u) => names.push((*u).to_string()),
                _ => {}
            }
        }
    }
    // The subject CN counts only for a certificate without SAN names (RFC 6125).
    if names.is_empty() {
        for cn in x509.subject().iter_common_name() {
            if let Ok(s) = cn.as_str() {
                names.push(s.to_string());
            }
        }
    }
    names
}

/// A verifier that records the end-entity certificate it accepted.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ClientCertVerifier>,
    seen: SeenCert,
}

impl ClientCertVerifier for Recording {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(end_entity.clone().into_owned());
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The client configuration for `https://` backends: the system's roots
/// (Mozilla's bundled set where the system has none), plus
/// `tls.backend_ca_file`.
pub fn backend_client_config(ca_file: Option<&Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        for cert in load_certs(path, "tls.backend_ca_file")? {
            roots.add(cert).with_context(|| format!("tls.backend_ca_file: {}", path.display()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("tls: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["ingest.acme.internal".to_string()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "acme-ingest");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let names = certificate_names(cert.der());
        assert_eq!(names, vec!["ingest.acme.internal".to_string()], "the CN is ignored beside SANs");
        let mut cn_only = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        cn_only.distinguished_name.push(rcgen::DnType::CommonName, "acme-ingest");
        let cert = cn_only.self_signed(&key).unwrap();
        assert_eq!(certificate_names(cert.der()), vec!["acme-ingest".to_string()]);
        assert!(certificate_names(&CertificateDer::from(vec![1, 2, 3])).is_empty());
    }
}
