//! The process: open and seed the metadata store, start the workers, stop them.
//!
//! [`start`] returns once every worker listens, with the bound address (so
//! `listen = "127.0.0.1:0"` works: worker 0 binds first and the others join
//! its port with SO_REUSEPORT).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context, anyhow};

use crate::config::Config;
use crate::meta::lock::DataDirLock;
use crate::meta::master_key::{IfMissing, KeySource};
use crate::meta::{MetaStore, SnapshotHub};
use crate::observe::Registry;
use crate::runtime::worker::{self, Driver, WorkerSpec};

/// Threads per worker in the blocking pool when `server.blocking_threads = 0`.
pub const BLOCKING_THREADS_PER_WORKER: usize = 4;

/// State shared by all workers.
pub struct Shared {
    pub config: Config,
    pub store: Arc<MetaStore>,
    pub hub: SnapshotHub,
    pub metrics: Registry,
    /// Set on SIGTERM/SIGINT: workers stop accepting and drain.
    pub stopping: AtomicBool,
    /// Workers whose accept loop runs.
    pub workers_running: AtomicUsize,
    pub workers: usize,
    pub driver: Driver,
    /// Pending replication tasks that reads must know about.
    pub pending: crate::replication::index::PendingIndex,
    /// Counters of the replication workers.
    pub replication_metrics: crate::replication::metrics::ReplicationMetrics,
    /// Each core's replication queue counters (registered at worker start).
    pub queue_stats: std::sync::Mutex<Vec<CoreQueue>>,
    /// Up/down state of every backend, shared by the cores.
    pub health: crate::backend::health::HealthRegistry,
    /// The HTTPS listener's TLS configuration, when `[tls] listen` is set.
    pub tls: Option<Arc<crate::tls::TlsServer>>,
    /// TLS client configuration for `https://` backends.
    pub backend_tls: Arc<rustls::ClientConfig>,
    /// Held while an admin change runs (one at a time, across cores).
    pub admin_busy: AtomicBool,
    /// Threads for quick metadata reads that must not queue behind writes.
    pub reads: crate::runtime::read_pool::ReadPool,
    /// Keys with a conditional write in flight, across cores (see `s3::conditional`).
    pub conditional_writes: std::sync::Mutex<std::collections::HashSet<(u128, String)>>,
    /// This process's random nonce: write intents of other processes are left over.
    pub nonce: u64,
    /// More than `META_FULL_PERCENT` of the metadata map is in use: writes
    /// are refused (set by worker 0's health loop).
    pub meta_full: AtomicBool,
}

impl Shared {
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }
}

/// One core's replication queue, as metrics read it.
#[derive(Clone)]
pub struct CoreQueue {
    pub core: usize,
    pub stats: Arc<crate::replication::QueueStats>,
    pub depth: crate::replication::QueueDepth,
}

/// Fills the pending-task index from LMDB (at start, and when schedulers
/// refresh it so tasks queued by `sluice repair` are seen too).
pub fn rebuild_pending_index(
    store: &MetaStore,
    hub: &SnapshotHub,
    index: &crate::replication::index::PendingIndex,
) -> Result<usize, crate::meta::MetaError> {
    let tasks = store.tasks().all_pending()?;
    let n = tasks.len();
    index.index_tasks(&hub.current(), &tasks, true);
    Ok(n)
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// The HTTPS listener's address, when there is one.
    pub tls_addr: Option<SocketAddr>,
    pub shared: Arc<Shared>,
    /// The admin token generated on this first start, to print once.
    pub bootstrap_token: Option<crate::secret::Secret>,
    threads: Vec<JoinHandle<()>>,
    _lock: DataDirLock,
}

/// The environment variable that gives the bootstrap admin token.
pub const ADMIN_TOKEN_ENV: &str = "SLUICE_ADMIN_TOKEN";

/// Locks the data directory, opens the store with the master key, seeds it
/// from the config, and starts the workers.
pub fn start(config: Config) -> anyhow::Result<Server> {
    let lock = DataDirLock::acquire(&config.server.data_dir)?;
    let (master, source) = crate::ops::resolve_master_key(&config, IfMissing::Generate)?;
    if let KeySource::Generated(_) = &source {
        tracing::warn!(
            source = %source,
            "the master key is stored next to the data it protects; give a master key for production (see SECURITY.md)"
        );
    }
    let meta_dir = config.server.data_dir.join("meta");
    let mut store = MetaStore::open_sized(&meta_dir, &master, config.server.metadata_map_size)
        .with_context(|| format!("opening metadata store {}", meta_dir.display()))?;
    if store.migrated() {
        // The plain secrets just sealed must not linger in free pages.
        store.compact(&meta_dir).context("compacting the metadata store after sealing its secrets")?;
        store = MetaStore::open_sized(&meta_dir, &master, config.server.metadata_map_size)
            .with_context(|| format!("opening metadata store {}", meta_dir.display()))?;
        tracing::info!("sealed the secrets of a store written before encryption at rest");
    }
    let now = crate::time::now_unix();
    store.seed(&config, now).context("seeding the metadata store from the config")?;
    let given_token = match std::env::var(ADMIN_TOKEN_ENV) {
        Ok(t) if t.len() < crate::config::security::MIN_ADMIN_TOKEN_LEN => {
            anyhow::bail!(
                "{ADMIN_TOKEN_ENV}: must be at least {} characters",
                crate::config::security::MIN_ADMIN_TOKEN_LEN
            )
        }
        Ok(t) => Some(crate::secret::Secret::new(t)),
        Err(_) => config.security.admin_token.clone(),
    };
    let bootstrap_token = store
        .ensure_bootstrap_token(given_token.as_ref(), now)
        .context("creating the bootstrap admin token")?;
    let contents = store.load().context("loading the metadata store")?;
    let hub = SnapshotHub::new(&contents);
    let workers = config.worker_count();
    let driver = Driver::from_env()?;
    let blocking_threads = match config.server.blocking_threads {
        0 => BLOCKING_THREADS_PER_WORKER * workers,
        n => n,
    };
    let pool = monoio::blocking::DefaultThreadPool::new(blocking_threads);
    let listen = config.server.listen;
    let health_threshold = config.health.failures_to_mark_down;
    let tls = match &config.tls.listener {
        Some(l) => Some(Arc::new(crate::tls::TlsServer::load(l)?)),
        None => None,
    };
    let tls_listen = config.tls.listener.as_ref().map(|l| l.listen);
    let backend_tls = crate::tls::backend_client_config(config.tls.backend_ca_file.as_deref())?;
    let pending = crate::replication::index::PendingIndex::default();
    rebuild_pending_index(&store, &hub, &pending).context("loading pending replication tasks")?;
    let shared = Arc::new(Shared {
        config,
        store: Arc::new(store),
        pending,
        replication_metrics: Default::default(),
        queue_stats: Default::default(),
        hub,
        metrics: Registry::default(),
        stopping: AtomicBool::new(false),
        workers_running: AtomicUsize::new(0),
        workers,
        driver,
        conditional_writes: Default::default(),
        nonce: crate::replication::intent::process_nonce(),
        meta_full: AtomicBool::new(false),
        tls,
        backend_tls,
        admin_busy: AtomicBool::new(false),
        reads: crate::runtime::read_pool::ReadPool::new(crate::runtime::read_pool::READ_THREADS)
            .context("starting the metadata read threads")?,
        health: crate::backend::health::HealthRegistry::new(health_threshold),
    });
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let mut threads = Vec::with_capacity(workers);
    let mut addr = listen;
    let mut tls_addr = tls_listen;
    for id in 0..workers {
        let (tx, rx) = std::sync::mpsc::channel();
        let spec = WorkerSpec {
            id,
            listen: addr,
            tls_listen: tls_addr,
            core: (!cores.is_empty()).then(|| cores[id % cores.len()]),
            pool: pool.clone(),
            ready: tx,
        };
        let sh = shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("sluice-worker-{id}"))
            .spawn(move || worker::run(spec, sh))
            .context("spawning a worker thread")?;
        threads.push(handle);
        let (bound, tls_bound) = rx
            .recv()
            .map_err(|_| anyhow!("worker {id} exited during start"))?
            .map_err(|e| anyhow!("worker {id}: {e}"))?;
        addr = bound;
        tls_addr = tls_bound;
    }
    Ok(Server { addr, tls_addr, shared, threads, bootstrap_token, _lock: lock })
}

impl Server {
    /// Asks every worker to stop accepting and drain.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::Release);
    }

    /// Waits for every worker to finish.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}
