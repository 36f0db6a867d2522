//! Worker threads: one monoio runtime per core, pinned, with its own
//! SO_REUSEPORT listener; the kernel spreads connections across them.
//!
//! The driver is io_uring where the kernel allows it and epoll otherwise;
//! `SLUICE_DRIVER=uring|epoll` forces one. On shutdown a worker stops
//! accepting, closes idle connections and waits for in-flight requests up to
//! `server.shutdown_grace_secs`.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use anyhow::bail;
use monoio::net::{ListenerOpts, TcpListener, TcpStream};
use monoio::time::TimeDriver;
use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};

use super::core::CoreCtx;
use super::shutdown::{Either, catch_panic, race};
use crate::http::{ClientIdentity, ClientStream, ConnLimits, MaybeTls, serve_connection};
use crate::s3::service::S3Service;
use crate::server::Shared;

/// How often the accept loop looks at the shutdown flag.
const ACCEPT_POLL: Duration = Duration::from_millis(100);
/// How often a draining worker checks whether its connections are done.
const DRAIN_POLL: Duration = Duration::from_millis(20);
/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// io_uring submission queue entries per worker.
const URING_ENTRIES: u32 = 1024;
/// Listen backlog per worker socket.
const LISTEN_BACKLOG: i32 = 1024;

/// Which I/O driver the workers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Uring,
    Epoll,
}

impl Driver {
    /// `SLUICE_DRIVER` (uring, epoll, or auto/unset: io_uring when available).
    pub fn from_env() -> anyhow::Result<Driver> {
        let uring_ok = monoio::utils::detect_uring();
        match std::env::var("SLUICE_DRIVER").unwrap_or_default().as_str() {
            "" | "auto" => Ok(if uring_ok { Driver::Uring } else { Driver::Epoll }),
            "uring" | "io_uring" if uring_ok => Ok(Driver::Uring),
            "uring" | "io_uring" => {
                bail!("SLUICE_DRIVER=uring, but io_uring is not available on this system")
            }
            "epoll" | "legacy" => Ok(Driver::Epoll),
            other => bail!("SLUICE_DRIVER: expected uring, epoll or auto, got {other:?}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Driver::Uring => "io_uring",
            Driver::Epoll => "epoll",
        }
    }
}

/// What one worker thread needs to start.
pub struct WorkerSpec {
    pub id: usize,
    pub listen: SocketAddr,
    /// The HTTPS listener's address, when `[tls] listen` is set.
    pub tls_listen: Option<SocketAddr>,
    pub core: Option<core_affinity::CoreId>,
    pub pool: monoio::blocking::DefaultThreadPool,
    /// Receives the bound addresses (HTTP, HTTPS), or why binding failed.
    pub ready: Sender<Result<(SocketAddr, Option<SocketAddr>), String>>,
}

type Runtime = monoio::FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>;

fn build_runtime(driver: Driver, pool: monoio::blocking::DefaultThreadPool) -> std::io::Result<Runtime> {
    Ok(match driver {
        Driver::Uring => RuntimeBuilder::<IoUringDriver>::new()
            .with_entries(URING_ENTRIES)
            .enable_timer()
            .attach_thread_pool(Box::new(pool))
            .build()?
            .into(),
        Driver::Epoll => RuntimeBuilder::<LegacyDriver>::new()
            .with_entries(URING_ENTRIES)
            .enable_timer()
            .attach_thread_pool(Box::new(pool))
            .build()?
            .into(),
    })
}

/// Accepts connections until the server stops; with `tls`, each connection
/// does its handshake (within the head timeout) in its own task first.
async fn accept_loop(
    listener: TcpListener,
    core: Rc<CoreCtx>,
    service: Rc<S3Service>,
    limits: ConnLimits,
    tls: Option<Arc<crate::tls::TlsServer>>,
) {
    // This worker's share of `server.max_connections` (at least one).
    let max_here = core.shared.config.server.max_connections.div_ceil(core.shared.workers.max(1)).max(1);
    // One accept stays in flight across the loop's wake-ups: dropping it to
    // look at the stop flag (a timeout around each accept) cancels an
    // io_uring accept that may just have completed, and that connection
    // would be accepted by the kernel and never served.
    let mut accept = Box::pin(listener.accept());
    while !core.shared.is_stopping() {
        if core.connections.get() >= max_here {
            // Full: leave new clients in the kernel's backlog until one of
            // this worker's connections closes (or the server stops).
            core.metrics.accept_paused();
            let _ = race(core.connection_closed.wait(), monoio::time::sleep(ACCEPT_POLL)).await;
            continue;
        }
        let accepted = match race(accept.as_mut(), monoio::time::sleep(ACCEPT_POLL)).await {
            Either::Left(result) => {
                accept = Box::pin(listener.accept());
                result
            }
            Either::Right(()) => continue,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                let core = core.clone();
                let service = service.clone();
                let tls = tls.clone();
                // Counted here, before the next accept, so the limit above
                // sees it even before the connection's task first runs.
                core.connections.set(core.connections.get() + 1);
                monoio::spawn(async move {
                    core.metrics.connection_opened();
                    let served = catch_panic(async {
                        let Some((stream, peer)) = open_stream(stream, tls.as_deref(), &limits).await else {
                            return;
                        };
                        serve_connection(stream, peer, &*service, &limits, &core.shutdown).await;
                    })
                    .await;
                    if let Err(msg) = served {
                        tracing::error!(worker = core.id, panic = %msg, "a connection task panicked; connection dropped");
                    }
                    core.metrics.connection_closed();
                    core.connections.set(core.connections.get() - 1);
                    core.connection_closed.notify();
                });
            }
            Err(e) => {
                tracing::warn!(worker = core.id, error = %e, "accept failed");
                monoio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// The connection's stream: plain, or TLS after a handshake that must end
/// within the head timeout. A failed handshake (no or untrusted client
/// certificate where one is required, a client that is not speaking TLS)
/// closes the connection.
async fn open_stream(
    stream: TcpStream,
    tls: Option<&crate::tls::TlsServer>,
    limits: &ConnLimits,
) -> Option<(ClientStream, Option<ClientIdentity>)> {
    let Some(tls) = tls else { return Some((MaybeTls::Plain(stream), None)) };
    let (acceptor, seen) = tls.acceptor();
    match monoio::time::timeout(limits.head_timeout, acceptor.accept(stream)).await {
        Ok(Ok(s)) => {
            let peer = seen.and_then(|seen| tls.identity(&seen));
            Some((MaybeTls::Tls(Box::new(s)), peer))
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => None,
    }
}

/// The body of a worker thread.
pub fn run(spec: WorkerSpec, shared: Arc<Shared>) {
    if let Some(core) = spec.core
        && !core_affinity::set_for_current(core)
    {
        tracing::warn!(worker = spec.id, "could not pin the worker to a core");
    }
    let mut rt = match build_runtime(shared.driver, spec.pool.clone()) {
        Ok(rt) => rt,
        Err(e) => {
            let _ = spec.ready.send(Err(format!("building the {} runtime: {e}", shared.driver.name())));
            return;
        }
    };
    rt.block_on(worker_loop(spec, shared));
}

async fn worker_loop(spec: WorkerSpec, shared: Arc<Shared>) {
    let opts = ListenerOpts::new().reuse_port(true).reuse_addr(true).backlog(LISTEN_BACKLOG);
    let listener = match TcpListener::bind_with_config(spec.listen, &opts) {
        Ok(l) => l,
        Err(e) => {
            let _ = spec.ready.send(Err(format!("binding {}: {e}", spec.listen)));
            return;
        }
    };
    let bound = listener.local_addr().unwrap_or(spec.listen);
    let tls_listener = match spec.tls_listen {
        Some(addr) => match TcpListener::bind_with_config(addr, &opts) {
            Ok(l) => Some(l),
            Err(e) => {
                let _ = spec.ready.send(Err(format!("binding the TLS listener {addr}: {e}")));
                return;
            }
        },
        None => None,
    };
    let tls_bound = tls_listener.as_ref().map(|l| l.local_addr().unwrap_or(bound));
    let core = match CoreCtx::new(spec.id, shared.clone()) {
        Ok(c) => c,
        Err(e) => {
            let _ = spec.ready.send(Err(format!("starting the replication writer: {e}")));
            return;
        }
    };
    let service = Rc::new(S3Service::new(core.clone()));
    let cfg = &shared.config.server;
    let limits = ConnLimits {
        head_timeout: cfg.head_timeout,
        idle_timeout: cfg.idle_timeout,
        io_timeout: cfg.io_timeout,
    };
    shared.workers_running.fetch_add(1, Ordering::AcqRel);
    tracing::info!(worker = spec.id, driver = shared.driver.name(), "worker started");
    let _ = spec.ready.send(Ok((bound, tls_bound)));
    if spec.id == 0 {
        monoio::spawn(crate::s3::bucket_ops::ensure_physical_buckets(core.clone()));
        monoio::spawn(super::health_check::run(core.clone()));
        monoio::spawn(super::scrub::run(core.clone()));
        monoio::spawn(super::intent_sweep::run(core.clone()));
    }
    monoio::spawn(crate::replication::worker::run(core.clone()));

    if let (Some(l), Some(tls)) = (tls_listener, shared.tls.clone()) {
        monoio::spawn(accept_loop(l, core.clone(), service.clone(), limits, Some(tls)));
    }
    accept_loop(listener, core.clone(), service, limits, None).await;

    // Stop accepting (both loops end on `is_stopping`), close idle
    // connections, let in-flight requests finish.
    core.shutdown.trigger();
    let deadline = Instant::now() + shared.config.server.shutdown_grace;
    while core.connections.get() > 0 && Instant::now() < deadline {
        monoio::time::sleep(DRAIN_POLL).await;
    }
    let left = core.connections.get();
    shared.workers_running.fetch_sub(1, Ordering::AcqRel);
    tracing::info!(worker = spec.id, unfinished_connections = left, "worker stopped");
}
