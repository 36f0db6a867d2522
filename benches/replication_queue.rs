//! Durable enqueue throughput of the replication queue, on a real LMDB in a
//! temp dir with fsync on (LMDB's default: every commit is synced).
//!
//! - `one_commit_per_task`: one write transaction (and fsync) per task, the
//!   cost without group commit.
//! - `group_commit/threads`: producer threads, each with `WINDOW` tasks in
//!   flight (concurrent requests), through one core's writer thread.
//! - `group_commit/monoio`: one monoio runtime per core, each with
//!   `REQUESTS_PER_CORE` concurrent request tasks pushing and awaiting, each
//!   core with its own writer thread (the production shape).
//!
//! Keys cycle over `KEYSPACE` objects, so later tasks supersede earlier ones
//! and the database stays the size of a steady backlog.
//!
//! Target: at least 20,000 durable tasks/s with group commit.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice::meta::MetaStore;
use sluice::replication::{DEFAULT_MAX_BATCH, Durable, Enqueuer, ObjectVersion, OnCommit, Task, TaskKind};

/// Distinct object keys the tasks cycle over.
const KEYSPACE: u64 = 50_000;
/// Tasks per measured iteration of the group-commit benches.
const TASKS_PER_ITER: usize = 4096;
/// Producer threads of `group_commit/threads`.
const THREADS: usize = 8;
/// Tasks each producer thread has in flight.
const WINDOW: usize = 64;
/// Cores (runtimes, writer threads) of `group_commit/monoio`.
const CORES: usize = 2;
/// Concurrent requests per core of `group_commit/monoio`.
const REQUESTS_PER_CORE: usize = 256;

static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

fn task() -> Task {
    let n = NEXT_KEY.fetch_add(1, Ordering::Relaxed) % KEYSPACE;
    Task {
        id: 0,
        bucket: "logs".into(),
        bucket_id: "0123456789abcdef0123456789abcdef".into(),
        physical: "sluice-5f1d3c0a9b7e4d21".into(),
        key: format!("2025/06/01/host-{:04}/events-{n:08}.json.gz", n % 977),
        kind: TaskKind::Put,
        source: "eu-1".into(),
        version: ObjectVersion {
            etag: "\"9b2cf535f27731c974343645a3985328\"".into(),
            size: 1 << 20,
            checksum: Some(("x-amz-checksum-crc32".into(), "AAAAAA==".into())),
            crc64: Some(0x0123_4567_89ab_cdef),
        },
        targets: vec!["eu-2".into(), "eu-3".into()],
        done: vec![],
        cleanup: vec![],
        part_sizes: vec![],
        attempts: 0,
        next_attempt_ms: 0,
        created_ms: 1_750_000_000_000,
        last_error: None,
        copy: None,
        repair: false,
    }
}

fn no_op() -> OnCommit {
    Arc::new(|_: &[Task]| {})
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        MetaStore::open(dir.path(), &sluice::meta::MasterKey::from_bytes([7; 32])).expect("open store"),
    );
    let mut g = c.benchmark_group("replication_enqueue");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));

    g.throughput(Throughput::Elements(1));
    g.bench_function("one_commit_per_task", |b| {
        b.iter(|| store.tasks().enqueue_batch(&mut [task()]).expect("commit"));
    });

    g.throughput(Throughput::Elements(TASKS_PER_ITER as u64));
    let q = Enqueuer::new(0, store.clone(), DEFAULT_MAX_BATCH, no_op()).expect("writer");
    g.bench_function(format!("group_commit/threads={THREADS},window={WINDOW}"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                std::thread::scope(|s| {
                    for _ in 0..THREADS {
                        s.spawn(|| {
                            for _ in 0..TASKS_PER_ITER / THREADS / WINDOW {
                                let window: Vec<Durable> =
                                    (0..WINDOW).map(|_| q.push(task()).expect("push")).collect();
                                for d in window {
                                    d.wait_blocking().expect("durable");
                                }
                            }
                        });
                    }
                });
            }
            start.elapsed()
        });
    });
    let (batches, tasks) = (q.stats().batches(), q.stats().enqueued());
    drop(q);
    eprintln!(
        "threads: {tasks} tasks in {batches} batches ({:.1} tasks/batch)",
        tasks as f64 / batches as f64
    );

    let queues: Vec<Arc<Enqueuer>> = (0..CORES)
        .map(|core| Arc::new(Enqueuer::new(core, store.clone(), DEFAULT_MAX_BATCH, no_op()).expect("writer")))
        .collect();
    g.bench_function(format!("group_commit/monoio,cores={CORES},requests={REQUESTS_PER_CORE}"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                std::thread::scope(|s| {
                    for q in &queues {
                        s.spawn(move || run_core(q));
                    }
                });
            }
            start.elapsed()
        });
    });
    let tasks: u64 = queues.iter().map(|q| q.stats().enqueued()).sum();
    let batches: u64 = queues.iter().map(|q| q.stats().batches()).sum();
    eprintln!(
        "monoio: {tasks} tasks in {batches} batches ({:.1} tasks/batch)",
        tasks as f64 / batches as f64
    );
    g.finish();
}

/// One core: `REQUESTS_PER_CORE` request tasks share `TASKS_PER_ITER / CORES` writes.
fn run_core(q: &Arc<Enqueuer>) {
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().build().expect("runtime");
    rt.block_on(async {
        let left = Rc::new(Cell::new(TASKS_PER_ITER / CORES));
        let requests: Vec<_> = (0..REQUESTS_PER_CORE)
            .map(|_| {
                let (left, q) = (left.clone(), q.clone());
                monoio::spawn(async move {
                    while left.get() > 0 {
                        left.set(left.get() - 1);
                        q.push(task()).expect("push").await.expect("durable");
                    }
                })
            })
            .collect();
        for r in requests {
            r.await;
        }
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
