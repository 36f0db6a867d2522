//! Operator commands that run beside the server: `repair`, `discover`,
//! `dead-letters` and `requeue`.
//!
//! They open the server's metadata store (LMDB allows several processes) and
//! act on the placement the server runs with: the buckets, backends and
//! replica counts stored there, which the server seeds from its config at
//! start. After changing the config, restart sluice, then run `repair`.
//! Tasks queued here are picked up by the running server's replication
//! workers (they poll the store), or at the next start.

use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::backend::BackendSet;
use crate::backend::health::HealthRegistry;
use crate::backend::s3::S3Io;
use crate::config::Config;
use crate::meta::master_key::{IfMissing, KeySource};
use crate::meta::{MasterKey, MetaStore, SnapshotHub};
use crate::replication::repair::{BucketReport, Mode, Scanner};
use crate::replication::{Requeued, Task, now_ms};

/// Threads of the blocking pool the scan's LMDB calls run on.
const OPS_BLOCKING_THREADS: usize = 2;
/// Dead letters listed per store read.
const DEAD_LETTER_PAGE: usize = 1000;

/// The master key of `config`'s data directory (see `meta::master_key`).
pub fn resolve_master_key(config: &Config, if_missing: IfMissing) -> anyhow::Result<(MasterKey, KeySource)> {
    crate::meta::master_key::resolve(&config.security, &config.server.data_dir, if_missing)
        .context("finding the master key")
}

/// Re-seals every secret of the stopped server's store under the key in
/// `new_key_file`. Fails when a server holds the data directory.
pub fn rotate_master_key(config: &Config, new_key_file: &std::path::Path) -> anyhow::Result<usize> {
    let _lock = crate::meta::lock::DataDirLock::acquire(&config.server.data_dir)?;
    let new = crate::meta::master_key::read_key_file(new_key_file).context("the new master key")?;
    let store = open_store(config)?;
    let n = store.rotate_master_key(&new).context("re-sealing the secrets")?;
    // Values sealed under the old key must not linger in free pages.
    store.compact(&config.server.data_dir.join("meta")).context("compacting the metadata store")?;
    Ok(n)
}

fn open_store(config: &Config) -> anyhow::Result<MetaStore> {
    let dir = config.server.data_dir.join("meta");
    if !dir.join("data.mdb").exists() {
        bail!("no metadata store at {} (has sluice run with this config?)", dir.display());
    }
    let (key, _) = resolve_master_key(config, IfMissing::Fail)?;
    MetaStore::open_sized(&dir, &key, config.server.metadata_map_size)
        .with_context(|| format!("opening metadata store {}", dir.display()))
}

/// Scans `bucket` (every bucket when None): repair queues tasks, discovery
/// only counts. Buckets are scanned one after another, in name order.
pub fn scan(config: &Config, bucket: Option<&str>, mode: Mode) -> anyhow::Result<Vec<BucketReport>> {
    let store = Arc::new(open_store(config)?);
    let contents = store.load().context("loading the metadata store")?;
    let snap = SnapshotHub::new(&contents).current();
    let mut names: Vec<&String> = snap.buckets.keys().collect();
    names.sort();
    if let Some(b) = bucket {
        if !snap.buckets.contains_key(b) {
            bail!("bucket {b:?} is not configured");
        }
        names.retain(|n| n.as_str() == b);
    }
    let pool = monoio::blocking::DefaultThreadPool::new(OPS_BLOCKING_THREADS);
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .attach_thread_pool(Box::new(pool))
        .build()
        .context("building the runtime")?;
    let io_timeout = config.server.io_timeout;
    let backend_tls = crate::tls::backend_client_config(config.tls.backend_ca_file.as_deref())?;
    rt.block_on(async {
        let mut set = BackendSet::new(Rc::new(S3Io::new(io_timeout)), backend_tls);
        set.refresh(&snap, &HealthRegistry::new(u32::MAX));
        let scanner =
            Scanner { snap: &snap, backends: |i| set.get(i), store: store.clone(), mode, rate: None };
        let mut reports = Vec::with_capacity(names.len());
        for name in names {
            reports.push(scanner.scan_bucket(&snap.buckets[name]).await);
        }
        Ok(reports)
    })
}

/// Prints reports as a table (or JSON for tools).
pub fn print_reports(reports: &[BucketReport], json: bool, mode: Mode) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(reports)?)?;
        return Ok(());
    }
    for r in reports {
        write!(
            out,
            "bucket {} (tenant {}, replicas {}): {} objects, {} under-replicated, {} misplaced, {} pending, {} lost",
            r.bucket, r.tenant, r.replicas, r.objects, r.under_replicated, r.misplaced, r.pending, r.lost
        )?;
        if mode == Mode::Repair {
            write!(out, ", {} tasks queued", r.queued)?;
        }
        writeln!(out)?;
        for b in r.backends.iter().filter(|b| b.objects + b.under_replicated + b.misplaced > 0) {
            writeln!(
                out,
                "  {:<16} {:>10} objects {:>16} bytes {:>8} under-replicated {:>8} misplaced",
                b.backend, b.objects, b.bytes, b.under_replicated, b.misplaced
            )?;
        }
        if let Some(e) = &r.error {
            writeln!(out, "  scan stopped early: {e}")?;
        }
    }
    Ok(())
}

/// Every dead-letter task, oldest first.
pub fn dead_letters(config: &Config) -> anyhow::Result<Vec<Task>> {
    let store = open_store(config)?;
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.tasks().list_dead(after, DEAD_LETTER_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let full = page.len() == DEAD_LETTER_PAGE;
        out.extend(page);
        if !full {
            break;
        }
    }
    Ok(out)
}

/// Puts dead-letter task `id` (every one when None) back in the queue, due now.
pub fn requeue(config: &Config, id: Option<u64>) -> anyhow::Result<Requeued> {
    let store = open_store(config)?;
    let r = store.tasks().requeue_dead(id, now_ms())?;
    if let Some(id) = id
        && r.requeued + r.dropped == 0
    {
        bail!("no dead-letter task with id {id}");
    }
    Ok(r)
}
