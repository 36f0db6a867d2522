//! A core's backends: one [`AnyBackend`] per snapshot backend, rebuilt when the
//! snapshot changes, with connection pools kept across rebuilds.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::Backend;
use super::body::BodySource;
use super::error::BackendError;
use super::file::FileBackend;
use super::health::{BackendHealth, HealthRegistry};
use super::object::{CopyOutcome, CopyRequest, GetRequest, ObjectResponse, PutOutcome, PutRequest};
use super::pool::{ConnPool, TlsTarget};
use super::s3::{S3Backend, S3Io, S3Target};
use crate::config::Endpoint;
use crate::meta::{BackendInfo, Snapshot};

/// Either backend kind (static dispatch: no boxing, futures stay on the core).
pub enum AnyBackend {
    S3(S3Backend),
    File(FileBackend),
}

impl Backend for AnyBackend {
    async fn probe(&self) -> Result<(), BackendError> {
        match self {
            AnyBackend::S3(b) => b.probe().await,
            AnyBackend::File(b) => b.probe().await,
        }
    }

    async fn create_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        match self {
            AnyBackend::S3(b) => b.create_bucket(bucket).await,
            AnyBackend::File(b) => b.create_bucket(bucket).await,
        }
    }

    async fn delete_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        match self {
            AnyBackend::S3(b) => b.delete_bucket(bucket).await,
            AnyBackend::File(b) => b.delete_bucket(bucket).await,
        }
    }

    async fn bucket_is_empty(&self, bucket: &str) -> Result<bool, BackendError> {
        match self {
            AnyBackend::S3(b) => b.bucket_is_empty(bucket).await,
            AnyBackend::File(b) => b.bucket_is_empty(bucket).await,
        }
    }

    async fn put_object<B: BodySource>(
        &self,
        req: &PutRequest<'_>,
        body: &mut B,
    ) -> Result<PutOutcome, BackendError> {
        match self {
            AnyBackend::S3(b) => b.put_object(req, body).await,
            AnyBackend::File(b) => b.put_object(req, body).await,
        }
    }

    async fn get_object(&self, req: &GetRequest<'_>) -> Result<ObjectResponse, BackendError> {
        match self {
            AnyBackend::S3(b) => b.get_object(req).await,
            AnyBackend::File(b) => b.get_object(req).await,
        }
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackendError> {
        match self {
            AnyBackend::S3(b) => b.delete_object(bucket, key).await,
            AnyBackend::File(b) => b.delete_object(bucket, key).await,
        }
    }

    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        headers: &[(&str, &[u8])],
    ) -> Result<String, BackendError> {
        match self {
            AnyBackend::S3(b) => b.create_multipart(bucket, key, headers).await,
            AnyBackend::File(b) => b.create_multipart(bucket, key, headers).await,
        }
    }

    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u16, String)],
    ) -> Result<String, BackendError> {
        match self {
            AnyBackend::S3(b) => b.complete_multipart(bucket, key, upload_id, parts).await,
            AnyBackend::File(b) => b.complete_multipart(bucket, key, upload_id, parts).await,
        }
    }

    async fn abort_multipart(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), BackendError> {
        match self {
            AnyBackend::S3(b) => b.abort_multipart(bucket, key, upload_id).await,
            AnyBackend::File(b) => b.abort_multipart(bucket, key, upload_id).await,
        }
    }

    async fn copy_object(&self, copy: &CopyRequest<'_>) -> Result<CopyOutcome, BackendError> {
        match self {
            AnyBackend::S3(b) => b.copy_object(copy).await,
            AnyBackend::File(b) => b.copy_object(copy).await,
        }
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<crate::s3::listing::page::BackendPage, BackendError> {
        match self {
            AnyBackend::S3(b) => b.list_objects(bucket, prefix, delimiter, start_after, max_keys).await,
            AnyBackend::File(b) => b.list_objects(bucket, prefix, delimiter, start_after, max_keys).await,
        }
    }
}

/// The backends of one snapshot generation, as one core sees them.
pub struct BackendSet {
    pub generation: u64,
    backends: Vec<Rc<AnyBackend>>,
    health: Vec<Arc<BackendHealth>>,
    /// Pools by backend id and address, reused across rebuilds.
    pools: HashMap<String, Rc<ConnPool>>,
    io: Rc<S3Io>,
    /// TLS client configuration of `https://` backends.
    tls: Arc<rustls::ClientConfig>,
}

impl BackendSet {
    pub fn new(io: Rc<S3Io>, tls: Arc<rustls::ClientConfig>) -> Self {
        BackendSet { generation: 0, backends: Vec::new(), health: Vec::new(), pools: HashMap::new(), io, tls }
    }

    /// Rebuilds the set if `snap` is newer than what it was built from.
    pub fn refresh(&mut self, snap: &Snapshot, registry: &HealthRegistry) {
        if self.generation == snap.generation {
            return;
        }
        self.health = snap.backends.iter().map(|b| registry.get(&b.id)).collect();
        let mut pools = HashMap::with_capacity(snap.backends.len());
        self.backends = snap
            .backends
            .iter()
            .map(|b| {
                // The whole endpoint keys a pool: a new host name means a new TLS name too.
                let pool_key = format!("{}|{:?}|{:?}", b.id, b.addr, b.endpoint);
                let pool = self.pools.remove(&pool_key);
                let (backend, pool) = self.build(b, pool, snap.generation);
                if let Some(pool) = pool {
                    pools.insert(pool_key, pool);
                }
                Rc::new(backend)
            })
            .collect();
        self.pools = pools;
        self.generation = snap.generation;
    }

    /// The backend `b` (reusing `pool` for an S3 backend when given), and
    /// its connection pool.
    fn build(
        &self,
        b: &BackendInfo,
        pool: Option<Rc<ConnPool>>,
        generation: u64,
    ) -> (AnyBackend, Option<Rc<ConnPool>>) {
        match &b.endpoint {
            Endpoint::File { root } => (AnyBackend::File(FileBackend::new(root.clone())), None),
            Endpoint::Http { host, tls, .. } => {
                let pool = pool.unwrap_or_else(|| {
                    let target = tls.then(|| TlsTarget::new(self.tls.clone(), host));
                    Rc::new(match target {
                        Some(Some(t)) => ConnPool::with_tls(b.addr, t),
                        // No valid TLS name: no address, so requests fail as unreachable.
                        Some(None) => ConnPool::new(None),
                        None => ConnPool::new(b.addr),
                    })
                });
                let target = S3Target {
                    id: b.id.clone(),
                    host_header: b.host_header.clone(),
                    access_key: b.access_key.clone(),
                    secret: b.secret_key.clone(),
                    signing_region: b.signing_region.clone(),
                    key_version: generation,
                };
                (AnyBackend::S3(S3Backend::new(target, pool.clone(), self.io.clone())), Some(pool))
            }
        }
    }

    /// A backend that is not in any snapshot yet (to prepare it before it
    /// is published), with a pool of its own.
    pub fn standalone(&self, b: &BackendInfo) -> AnyBackend {
        // A version no snapshot uses, so no cached signing key is shared.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(u64::MAX);
        self.build(b, None, NEXT.fetch_sub(1, std::sync::atomic::Ordering::Relaxed)).0
    }

    /// The health of the backend at snapshot index `index`.
    pub fn health(&self, index: u16) -> Option<Arc<BackendHealth>> {
        self.health.get(usize::from(index)).cloned()
    }

    /// The backend at snapshot index `index`.
    pub fn get(&self, index: u16) -> Option<Rc<AnyBackend>> {
        self.backends.get(usize::from(index)).cloned()
    }
}
