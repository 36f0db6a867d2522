//! Weighted rendezvous (highest random weight) placement of objects on backends.
//!
//! Every candidate backend gets a score for the object (see `score.rs`); the
//! replica list is the candidates sorted by score, highest first, cut to the
//! policy's replica count. HRW instead of a ring: no shared ring state to build
//! or swap, an even spread without virtual nodes, weights exact in expectation,
//! and minimal movement: adding a backend only moves the objects it now wins,
//! removing one only moves the objects it held, because a backend's score for an
//! object never depends on the other backends.
//!
//! The object hash is `xxh3_64_with_seed(key, low64(bucket_id) ^ high64(bucket_id))`,
//! computed once per call; the per-candidate work is one mix. With equal weights
//! the candidates are ranked by the quantized mixed hash directly, which gives
//! the identical order (the score is strictly increasing in it for a fixed
//! weight; see `score.rs`). With mixed weights, cheap bounds of the score rule
//! out most candidates, and only the few that could be selected pay for the
//! logarithm (about `replicas + 1` of 16); the result is the same as scoring all.
//!
//! # Invariants
//! - Deterministic: a pure function of (bucket id, key, the candidates' index,
//!   backend id and weight), identical on every platform and Rust version. No
//!   `DefaultHasher`, no map iteration, no `f64::ln`. Pinned by `golden.rs`.
//! - [`place`] is a prefix of [`placement_order`] for the same inputs.
//! - Equal scores (with equal weights, a 2^-48 event per pair) are broken by
//!   the lower candidate index.
//! - The order of the candidates slice never matters, only its contents.
//! - [`place`] does not allocate for up to [`INLINE_REPLICAS`] replicas;
//!   [`placement_order`] does not allocate for up to [`MAX_INLINE_BACKENDS`] candidates.

use smallvec::SmallVec;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::error::PlacementError;
use super::score::{certainly_below, cutoff, mix64, quantize, score_lower_bound, weighted_score};

/// Replica lists up to this length live on the stack (policies use 1 to 3).
pub const INLINE_REPLICAS: usize = 4;

/// Candidate and order lists up to this length live on the stack: a larger
/// deployment still works, it just allocates once per call.
pub const MAX_INLINE_BACKENDS: usize = 16;

/// Smallest accepted backend weight. Together with [`MAX_WEIGHT`] it keeps
/// every score a normal `f64`, which the ordering argument relies on, while
/// allowing capacity ratios up to 10^12 between backends.
pub const MIN_WEIGHT: f64 = 1e-6;

/// Largest accepted backend weight (see [`MIN_WEIGHT`]).
pub const MAX_WEIGHT: f64 = 1e6;

/// Bits of the packed rank that hold the (inverted) candidate index.
const INDEX_BITS: u32 = u16::BITS;

/// Backend indices of one object's replicas, primary first.
pub type Replicas = SmallVec<[u16; INLINE_REPLICAS]>;

/// Backend indices of all candidates in preference order, primary first.
pub type PlacementOrder = SmallVec<[u16; MAX_INLINE_BACKENDS]>;

/// Whether `weight` is one [`Candidate::new`] accepts: finite and within
/// [`MIN_WEIGHT`, `MAX_WEIGHT`]. Configuration validation should use this.
pub fn is_valid_weight(weight: f64) -> bool {
    (MIN_WEIGHT..=MAX_WEIGHT).contains(&weight)
}

/// One backend a bucket's objects may be placed on, prepared for scoring.
///
/// Build these once per configuration snapshot, not per request: the seed is
/// a hash of the backend id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The caller's index of the backend; placement returns these.
    pub index: u16,
    /// Relative share of objects this backend should hold as primary.
    pub weight: f64,
    /// `xxh3_64` of the backend id: the backend's identity in the hash.
    seed: u64,
}

impl Candidate {
    /// A candidate for the backend with the stable id `backend_id`.
    ///
    /// The id, not the index, decides where objects go: renumbering backends
    /// moves nothing, renaming one moves its objects. `weight` must satisfy
    /// [`is_valid_weight`] (validated by the configuration).
    pub fn new(index: u16, backend_id: &str, weight: f64) -> Self {
        debug_assert!(is_valid_weight(weight), "invalid backend weight {weight}");
        Candidate { index, weight, seed: xxh3_64(backend_id.as_bytes()) }
    }
}

/// The replica list of `key` in bucket `bucket_id`: the indices of the top
/// `replicas` candidates, primary first.
///
/// # Errors
/// [`PlacementError::NotEnoughBackends`] if `replicas` is 0 or exceeds the
/// number of candidates.
pub fn place(
    bucket_id: u128,
    key: &[u8],
    candidates: &[Candidate],
    replicas: usize,
) -> Result<Replicas, PlacementError> {
    if replicas == 0 || replicas > candidates.len() {
        return Err(PlacementError::NotEnoughBackends { needed: replicas, eligible: candidates.len() });
    }
    let h = object_hash(bucket_id, key);
    let scoring = Scoring::for_candidates(candidates);
    if replicas > INLINE_REPLICAS {
        return Ok(order(h, candidates, scoring).into_iter().take(replicas).collect());
    }
    let top = match scoring {
        Scoring::Equal => top_equal(h, candidates, replicas),
        Scoring::Weighted => top_weighted(h, candidates, replicas),
    };
    Ok(top.indices())
}

/// Every candidate's index in preference order for `key` in bucket
/// `bucket_id`: what read failover walks, and hinted handoff after it.
/// Its first `n` entries equal `place(.., n)`. Empty if `candidates` is.
pub fn placement_order(bucket_id: u128, key: &[u8], candidates: &[Candidate]) -> PlacementOrder {
    let h = object_hash(bucket_id, key);
    order(h, candidates, Scoring::for_candidates(candidates))
}

/// The per-object hash: xxh3 of the key, seeded by the bucket id folded to 64 bits.
#[inline]
fn object_hash(bucket_id: u128, key: &[u8]) -> u64 {
    let folded = (bucket_id as u64) ^ ((bucket_id >> u64::BITS) as u64);
    xxh3_64_with_seed(key, folded)
}

/// How candidates are ranked; both give the identical order for equal weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scoring {
    /// All weights equal: rank by the quantized mixed hash (integers only).
    Equal,
    /// Rank by `weight / -ln(u)`.
    Weighted,
}

impl Scoring {
    fn for_candidates(candidates: &[Candidate]) -> Self {
        match candidates.split_first() {
            Some((first, rest)) if rest.iter().any(|c| c.weight != first.weight) => Scoring::Weighted,
            _ => Scoring::Equal,
        }
    }
}

/// Packs a score key and an index so that one integer comparison orders by
/// key descending, then index ascending: the larger rank is preferred.
#[inline]
fn pack(key: u64, index: u16) -> u128 {
    (u128::from(key) << INDEX_BITS) | u128::from(u16::MAX - index)
}

#[inline]
fn unpack_index(rank: u128) -> u16 {
    u16::MAX - rank as u16
}

#[inline]
fn equal_rank(h: u64, c: &Candidate) -> u128 {
    pack(quantize(mix64(h ^ c.seed)), c.index)
}

/// The score is positive and normal, so its bits order like its value.
#[inline]
fn weighted_rank(c: &Candidate, q: u64) -> u128 {
    pack(weighted_score(c.weight, q).to_bits(), c.index)
}

/// The `k <= INLINE_REPLICAS` largest values offered so far, largest first,
/// on the stack (k is tiny, so insertion beats sorting all candidates).
struct Top<T> {
    items: [T; INLINE_REPLICAS],
    len: usize,
    k: usize,
}

impl<T: Copy + Default + PartialOrd> Top<T> {
    fn new(k: usize) -> Self {
        debug_assert!((1..=INLINE_REPLICAS).contains(&k));
        Top { items: [T::default(); INLINE_REPLICAS], len: 0, k }
    }

    /// The value a newcomer must beat to get in, once `k` are held.
    #[inline]
    fn bar(&self) -> Option<T> {
        (self.len == self.k).then(|| self.items[self.k - 1])
    }

    /// Keeps `v` if it is among the `k` largest so far.
    #[inline]
    fn offer(&mut self, v: T) {
        let mut at = if self.len < self.k {
            self.len += 1;
            self.len - 1
        } else if v > self.items[self.k - 1] {
            self.k - 1
        } else {
            return;
        };
        while at > 0 && self.items[at - 1] < v {
            self.items[at] = self.items[at - 1];
            at -= 1;
        }
        self.items[at] = v;
    }

    fn held(&self) -> &[T] {
        &self.items[..self.len]
    }
}

impl Top<u128> {
    fn indices(&self) -> Replicas {
        self.held().iter().map(|&r| unpack_index(r)).collect()
    }
}

fn top_equal(h: u64, candidates: &[Candidate], k: usize) -> Top<u128> {
    let mut top = Top::new(k);
    for c in candidates {
        top.offer(equal_rank(h, c));
    }
    top
}

/// The top `k` by score, computing the logarithm only where it can matter.
///
/// Pass 1 finds `floor`, the k-th largest of the candidates' cheap lower
/// bounds ([`score_lower_bound`]): at least `k` scores are at or above it, so
/// the k-th best score is too. Pass 2 computes exact scores only for the
/// candidates whose cheap upper bound reaches `floor` ([`certainly_below`]);
/// every skipped candidate has a score strictly below k others, so it could
/// never be selected and the result is identical to scoring everyone. The
/// mixed hash is recomputed in pass 2 rather than stored (it is cheaper than
/// a buffer), and neither pass has a loop-carried dependency on a division.
fn top_weighted(h: u64, candidates: &[Candidate], k: usize) -> Top<u128> {
    let mut floors: Top<f64> = Top::new(k);
    for c in candidates {
        let q = quantize(mix64(h ^ c.seed));
        if floors.bar().is_none_or(|bar| !certainly_below(c.weight, q, bar)) {
            floors.offer(score_lower_bound(c.weight, q));
        }
    }
    let cut = floors.bar().map_or(0.0, cutoff);
    let mut top = Top::new(k);
    for c in candidates {
        let q = quantize(mix64(h ^ c.seed));
        if !certainly_below(c.weight, q, cut) {
            top.offer(weighted_rank(c, q));
        }
    }
    top
}

fn order(h: u64, candidates: &[Candidate], scoring: Scoring) -> PlacementOrder {
    let mut ranks: SmallVec<[u128; MAX_INLINE_BACKENDS]> = match scoring {
        Scoring::Equal => candidates.iter().map(|c| equal_rank(h, c)).collect(),
        Scoring::Weighted => {
            candidates.iter().map(|c| weighted_rank(c, quantize(mix64(h ^ c.seed)))).collect()
        }
    };
    ranks.sort_unstable_by(|a, b| b.cmp(a));
    ranks.into_iter().map(unpack_index).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
    /// Keys per statistical test.
    const KEYS: usize = 100_000;
    /// Tolerance of the statistical tests, in standard deviations. The keys
    /// are fixed, so the tests are deterministic; 5 sigma only says how far a
    /// fair hash could plausibly land (p < 6e-7 per check).
    const SIGMAS: f64 = 5.0;

    fn key(i: usize) -> Vec<u8> {
        format!("tenant-data/{i:08}/part.bin").into_bytes()
    }

    fn backends(n: usize, weight: impl Fn(usize) -> f64) -> Vec<Candidate> {
        (0..n).map(|i| Candidate::new(i as u16, &format!("backend-{i}"), weight(i))).collect()
    }

    /// Asserts `count` out of `KEYS` trials is within `SIGMAS` of probability `p`.
    fn assert_share(count: usize, p: f64, what: &str) {
        let n = KEYS as f64;
        let sigma = (n * p * (1.0 - p)).sqrt();
        let diff = (count as f64 - n * p).abs();
        assert!(
            diff <= SIGMAS * sigma,
            "{what}: {count} of {KEYS}, expected {:.0} +- {:.0}",
            n * p,
            SIGMAS * sigma
        );
    }

    #[test]
    fn equal_weights_spread_evenly() {
        let cands = backends(8, |_| 1.0);
        let mut primaries = [0usize; 8];
        let mut holders = [0usize; 8];
        for i in 0..KEYS {
            let r = place(BUCKET, &key(i), &cands, 3).unwrap();
            primaries[r[0] as usize] += 1;
            for &b in &r {
                holders[b as usize] += 1;
            }
        }
        for b in 0..8 {
            assert_share(primaries[b], 1.0 / 8.0, &format!("primary share of backend {b}"));
            assert_share(holders[b], 3.0 / 8.0, &format!("replica share of backend {b}"));
        }
    }

    #[test]
    fn weights_set_primary_shares() {
        let cands = backends(3, |i| if i == 2 { 2.0 } else { 1.0 });
        let mut primaries = [0usize; 3];
        for i in 0..KEYS {
            primaries[place(BUCKET, &key(i), &cands, 1).unwrap()[0] as usize] += 1;
        }
        assert_share(primaries[0], 0.25, "weight 1 (a)");
        assert_share(primaries[1], 0.25, "weight 1 (b)");
        assert_share(primaries[2], 0.5, "weight 2");

        let cands = backends(4, |i| (i + 1) as f64 * 0.5);
        let mut primaries = [0usize; 4];
        for i in 0..KEYS {
            primaries[place(BUCKET, &key(i), &cands, 2).unwrap()[0] as usize] += 1;
        }
        for (b, &count) in primaries.iter().enumerate() {
            assert_share(count, (b + 1) as f64 / 10.0, &format!("weight {}", (b + 1) as f64 * 0.5));
        }
    }

    #[test]
    fn adding_a_backend_moves_only_to_it() {
        let weights: [fn(usize) -> f64; 2] = [|_| 1.0, |i| 1.0 + (i % 3) as f64];
        for weight in weights {
            let old = backends(8, weight);
            let new = backends(9, weight);
            let total: f64 = new.iter().map(|c| c.weight).sum();
            let mut moved = 0;
            for i in 0..KEYS {
                let k = key(i);
                let before = placement_order(BUCKET, &k, &old);
                let after = placement_order(BUCKET, &k, &new);
                // Removing the new backend from the new order gives the old order.
                let without: PlacementOrder = after.iter().copied().filter(|&b| b != 8).collect();
                assert_eq!(without, before, "key {i}");
                if after[0] != before[0] {
                    assert_eq!(after[0], 8, "key {i} moved to an old backend");
                    moved += 1;
                }
                // Replica sets change only by taking in the new backend.
                for replicas in [2, 3] {
                    let b = place(BUCKET, &k, &old, replicas).unwrap();
                    let a = place(BUCKET, &k, &new, replicas).unwrap();
                    if !a.contains(&8) {
                        assert_eq!(a, b);
                    } else {
                        assert!(a.iter().filter(|&&x| x != 8).all(|x| b.contains(x)));
                    }
                }
            }
            assert_share(moved, new[8].weight / total, "primaries moved to the new backend");
        }
    }

    #[test]
    fn removing_a_backend_moves_only_its_objects() {
        let all = backends(8, |i| 1.0 + i as f64);
        let fewer: Vec<Candidate> = all.iter().copied().filter(|c| c.index != 5).collect();
        for i in 0..10_000 {
            let before = place(BUCKET, &key(i), &all, 1).unwrap()[0];
            let after = place(BUCKET, &key(i), &fewer, 1).unwrap()[0];
            assert!(before == after || before == 5);
        }
    }

    #[test]
    fn replica_lists_are_distinct_and_full() {
        let cands = backends(6, |i| 0.5 + i as f64);
        for i in 0..2_000 {
            for replicas in 1..=cands.len() {
                let r = place(BUCKET, &key(i), &cands, replicas).unwrap();
                assert_eq!(r.len(), replicas);
                for (j, a) in r.iter().enumerate() {
                    assert!((0..6).contains(a));
                    assert!(!r[j + 1..].contains(a), "duplicate in {r:?}");
                }
            }
        }
    }

    #[test]
    fn place_is_a_prefix_of_the_order() {
        for cands in [backends(16, |_| 1.0), backends(16, |i| 1.0 + i as f64), backends(1, |_| 3.0)] {
            for i in 0..2_000 {
                let order = placement_order(BUCKET, &key(i), &cands);
                assert_eq!(order.len(), cands.len());
                for replicas in 1..=cands.len() {
                    assert_eq!(&place(BUCKET, &key(i), &cands, replicas).unwrap()[..], &order[..replicas]);
                }
            }
        }
    }

    /// The pruned selection of `place` equals scoring every candidate, even
    /// with extreme weight ratios and more candidates than fit inline.
    #[test]
    fn pruning_never_changes_the_result() {
        let extremes = [MIN_WEIGHT, MAX_WEIGHT, 1.0, 1.0 + f64::EPSILON, 0.999, 7.0, 1e-3, 1e3];
        let sets = [
            backends(8, |i| extremes[i]),
            backends(24, |i| (extremes[i % extremes.len()] * (1.0 + i as f64 / 64.0)).min(MAX_WEIGHT)),
            backends(2, |i| [1.0, 1.0 + 1e-12][i]),
        ];
        for cands in &sets {
            for i in 0..5_000 {
                let h = object_hash(BUCKET, &key(i));
                let full = order(h, cands, Scoring::Weighted);
                for k in 1..=INLINE_REPLICAS.min(cands.len()) {
                    assert_eq!(&top_weighted(h, cands, k).indices()[..], &full[..k], "key {i}, k {k}");
                }
            }
        }
    }

    #[test]
    fn equal_weight_fast_path_matches_the_formula() {
        for w in [1.0, 3.7, MIN_WEIGHT, MAX_WEIGHT] {
            let cands = backends(12, |_| w);
            assert_eq!(Scoring::for_candidates(&cands), Scoring::Equal);
            for i in 0..20_000 {
                let h = object_hash(BUCKET, &key(i));
                assert_eq!(order(h, &cands, Scoring::Equal), order(h, &cands, Scoring::Weighted));
            }
        }
    }

    #[test]
    fn ties_break_by_lower_index() {
        // Same backend id, same weight: identical scores, so the index decides.
        let cands = [Candidate::new(7, "same", 1.0), Candidate::new(3, "same", 1.0)];
        assert_eq!(&placement_order(BUCKET, b"k", &cands)[..], &[3, 7]);
        let cands =
            [Candidate::new(7, "same", 2.0), Candidate::new(3, "same", 2.0), Candidate::new(5, "x", 1.0)];
        for i in 0..100 {
            let order = placement_order(BUCKET, &key(i), &cands);
            let at = |index| order.iter().position(|&b| b == index).unwrap();
            assert_eq!(at(3) + 1, at(7), "{order:?}");
        }
    }

    #[test]
    fn slice_order_does_not_matter() {
        let cands = backends(10, |i| 1.0 + (i % 4) as f64);
        let mut reversed = cands.clone();
        reversed.reverse();
        for i in 0..2_000 {
            assert_eq!(placement_order(BUCKET, &key(i), &cands), placement_order(BUCKET, &key(i), &reversed));
        }
    }

    #[test]
    fn not_enough_backends() {
        let cands = backends(3, |_| 1.0);
        let err = |needed, eligible| Err(PlacementError::NotEnoughBackends { needed, eligible });
        assert_eq!(place(BUCKET, b"k", &cands, 0), err(0, 3));
        assert_eq!(place(BUCKET, b"k", &cands, 4), err(4, 3));
        assert_eq!(place(BUCKET, b"k", &[], 1), err(1, 0));
        assert!(place(BUCKET, b"k", &cands, 3).is_ok());
        assert!(placement_order(BUCKET, b"k", &[]).is_empty());
    }

    #[test]
    fn deterministic_and_sensitive_to_inputs() {
        let cands = backends(8, |i| 1.0 + i as f64);
        let again = backends(8, |i| 1.0 + i as f64);
        assert_eq!(cands, again);
        let mut differs_by_bucket = 0;
        let mut differs_by_high_bits = 0;
        for i in 0..1_000 {
            let k = key(i);
            assert_eq!(placement_order(BUCKET, &k, &cands), placement_order(BUCKET, &k, &again));
            if placement_order(BUCKET, &k, &cands) != placement_order(BUCKET + 1, &k, &cands) {
                differs_by_bucket += 1;
            }
            if placement_order(BUCKET, &k, &cands) != placement_order(BUCKET ^ (1 << 100), &k, &cands) {
                differs_by_high_bits += 1;
            }
        }
        // Another bucket is an independent shuffle: nearly every order differs.
        assert!(differs_by_bucket > 950, "{differs_by_bucket}");
        assert!(differs_by_high_bits > 950, "{differs_by_high_bits}");
    }

    #[test]
    fn weight_validation() {
        assert!(is_valid_weight(1.0));
        assert!(is_valid_weight(MIN_WEIGHT) && is_valid_weight(MAX_WEIGHT));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MIN_WEIGHT / 2.0, MAX_WEIGHT * 2.0] {
            assert!(!is_valid_weight(bad), "{bad}");
        }
    }
}
