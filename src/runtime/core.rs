//! A worker core's context: everything one event loop owns.
//!
//! Nothing here is shared with other cores except through the `Shared` state's
//! atomics and the snapshot hub, so the hot path takes no cross-core lock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use crate::backend::health::BackendHealth;
use crate::backend::s3::S3Io;
use crate::backend::{AnyBackend, BackendSet};
use crate::error::{S3Error, S3ErrorCode};
use crate::meta::{LocalSnapshot, MetaError, Snapshot};
use crate::observe::CoreMetrics;
use crate::replication::Enqueuer;
use crate::runtime::notify::LocalNotify;
use crate::runtime::shutdown::ShutdownSignal;
use crate::server::Shared;
use crate::sigv4::{SigV4Scratch, SigningKeyCache};

/// Length of a request id: 16 uppercase hex digits.
pub const REQUEST_ID_LEN: usize = 16;

/// One worker core.
pub struct CoreCtx {
    pub id: usize,
    pub shared: Arc<Shared>,
    snapshot: LocalSnapshot,
    backends: RefCell<BackendSet>,
    /// Reusable SigV4 canonicalization buffers and the signing-key cache.
    pub sigv4: RefCell<(SigV4Scratch, SigningKeyCache)>,
    pub metrics: Arc<CoreMetrics>,
    pub shutdown: ShutdownSignal,
    request_seq: Cell<u64>,
    /// Client connections open on this core.
    pub connections: Cell<usize>,
    /// This core's replication queue (its writer thread commits to LMDB).
    pub enqueuer: Enqueuer,
    /// Wakes this core's replication scheduler.
    pub replication_kick: LocalNotify,
    /// Wakes the accept loop when a connection closes (it waits at
    /// `server.max_connections`).
    pub connection_closed: LocalNotify,
    /// Ids of this core's write intents.
    pub intent_ids: crate::replication::IntentIds,
}

impl CoreCtx {
    pub fn new(id: usize, shared: Arc<Shared>) -> std::io::Result<Rc<CoreCtx>> {
        let io = Rc::new(S3Io::new(shared.config.server.io_timeout));
        let metrics = shared.metrics.register();
        let hook = shared.clone();
        let on_commit: crate::replication::OnCommit =
            Arc::new(move |tasks| hook.pending.index_tasks(&hook.hub.current(), tasks, false));
        let enqueuer =
            Enqueuer::new(id, shared.store.clone(), crate::replication::DEFAULT_MAX_BATCH, on_commit)?;
        shared.queue_stats.lock().unwrap_or_else(|e| e.into_inner()).push(crate::server::CoreQueue {
            core: id,
            stats: enqueuer.stats().clone(),
            depth: enqueuer.depth(),
        });
        Ok(Rc::new(CoreCtx {
            enqueuer,
            replication_kick: LocalNotify::default(),
            connection_closed: LocalNotify::default(),
            intent_ids: crate::replication::IntentIds::new(shared.nonce, id),
            id,
            snapshot: LocalSnapshot::new(&shared.hub),
            backends: RefCell::new(BackendSet::new(io, shared.backend_tls.clone())),
            sigv4: RefCell::new((SigV4Scratch::new(), SigningKeyCache::new())),
            metrics,
            shutdown: ShutdownSignal::new(),
            request_seq: Cell::new(0),
            connections: Cell::new(0),
            shared,
        }))
    }

    /// The newest metadata snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.get(&self.shared.hub)
    }

    /// The backend at index `index` of `snap`.
    pub fn backend(&self, snap: &Snapshot, index: u16) -> Option<Rc<AnyBackend>> {
        let mut set = self.backends.borrow_mut();
        set.refresh(snap, &self.shared.health);
        set.get(index)
    }

    /// A backend built from `info` outside any snapshot (the admin API
    /// prepares a backend before publishing it).
    pub fn standalone_backend(&self, info: &crate::meta::BackendInfo) -> AnyBackend {
        self.backends.borrow().standalone(info)
    }

    /// The health of the backend at index `index` of `snap`.
    pub fn health(&self, snap: &Snapshot, index: u16) -> Option<Arc<BackendHealth>> {
        let mut set = self.backends.borrow_mut();
        set.refresh(snap, &self.shared.health);
        set.health(index)
    }

    /// Whether the backend at `index` is up (unknown backends count as down).
    pub fn is_up(&self, snap: &Snapshot, index: u16) -> bool {
        self.health(snap, index).is_some_and(|h| h.is_up())
    }

    /// Runs a metadata-store operation on the blocking pool (LMDB writes fsync:
    /// never on the event loop). Store failures are logged and answered as
    /// InternalError.
    /// Like [`CoreCtx::meta`], for short reads, on the read pool: never
    /// queued behind the blocking pool's writes and file I/O.
    pub async fn meta_read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> Result<R, MetaError> + Send + 'static,
    ) -> Result<R, S3Error> {
        let shared = self.shared.clone();
        match self.shared.reads.run(move || f(&shared)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "metadata store read failed");
                Err(S3Error::new(S3ErrorCode::InternalError))
            }
            Err(_) => Err(S3Error::new(S3ErrorCode::InternalError)),
        }
    }

    pub async fn meta<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> Result<R, MetaError> + Send + 'static,
    ) -> Result<R, S3Error> {
        let shared = self.shared.clone();
        match monoio::spawn_blocking(move || f(&shared)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "metadata store operation failed");
                Err(S3Error::new(S3ErrorCode::InternalError))
            }
            Err(_) => Err(S3Error::new(S3ErrorCode::InternalError)),
        }
    }

    /// A fresh request id: core id, a coarse clock and a per-core sequence.
    pub fn next_request_id(&self) -> [u8; REQUEST_ID_LEN] {
        let seq = self.request_seq.get().wrapping_add(1);
        self.request_seq.set(seq);
        let secs = crate::time::now_unix() as u64;
        let v: u64 = ((self.id as u64 & 0xff) << 56) | ((secs & 0xff_ffff) << 32) | (seq & 0xffff_ffff);
        let mut out = [0u8; REQUEST_ID_LEN];
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for (i, b) in out.iter_mut().enumerate() {
            *b = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
        }
        out
    }
}
