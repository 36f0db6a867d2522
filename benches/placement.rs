//! Placement benchmark: one object placed over 16 eligible backends.
//!
//! Measures `place` for replicas 1, 2 and 3 with equal weights (the integer
//! fast path) and with mixed weights (the `weight / -ln(u)` path), plus the
//! full `placement_order` used by read failover and `physical_bucket_name`.
//! Target: `place` under 200 ns per call on a typical machine.
//!
//! # Invariants
//! - Candidates are built once outside the timed loop, as the proxy builds
//!   them once per configuration snapshot.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sluice::placement::{Candidate, physical_bucket_name, place, placement_order};

/// Eligible backends in the benchmarked deployment.
const BACKENDS: usize = 16;

/// A bucket id as the metadata store would assign it.
const BUCKET_ID: u128 = 0x0192_5f3c_7a10_7c4e_9b2d_55aa_0f31_e8c7;

/// A typical object key.
const KEY: &[u8] = b"photos/2024/07/vacation/IMG_20240712_183455.jpg";

fn candidates(weight: impl Fn(usize) -> f64) -> Vec<Candidate> {
    (0..BACKENDS)
        .map(|i| Candidate::new(i as u16, &format!("backend-{i:02}.example.net"), weight(i)))
        .collect()
}

fn bench_place(c: &mut Criterion) {
    let sets = [("equal", candidates(|_| 1.0)), ("mixed", candidates(|i| [1.0, 2.0, 0.5, 1.5][i % 4]))];
    let mut group = c.benchmark_group("place_16_backends");
    for (name, cands) in &sets {
        for replicas in 1..=3 {
            group.bench_with_input(BenchmarkId::new(*name, replicas), &replicas, |b, &replicas| {
                b.iter(|| place(black_box(BUCKET_ID), black_box(KEY), black_box(cands), replicas))
            });
        }
        group.bench_function(BenchmarkId::new(format!("{name}_order"), BACKENDS), |b| {
            b.iter(|| placement_order(black_box(BUCKET_ID), black_box(KEY), black_box(cands)))
        });
    }
    group.finish();
}

fn bench_physical(c: &mut Criterion) {
    c.bench_function("physical_bucket_name", |b| {
        b.iter(|| physical_bucket_name(black_box("tenant-0001"), black_box("photos")))
    });
}

criterion_group!(benches, bench_place, bench_physical);
criterion_main!(benches);
