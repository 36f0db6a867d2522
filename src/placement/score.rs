//! The rendezvous score of one (object, backend) pair, in pinned arithmetic.
//!
//! Weighted rendezvous hashing gives every candidate backend a score for an
//! object and keeps the highest. With `u` uniform in (0, 1), the score
//! `weight / -ln(u)` makes `-ln(u) / weight` an exponential variable of rate
//! `weight`, so a backend wins with probability `weight / sum(weights)`, and a
//! backend's score never depends on which other backends exist (that is what
//! gives HRW its minimal movement). The steps, all pinned:
//!
//! 1. the object hash `h` (computed once per request by the caller);
//! 2. [`mix64`]`(h ^ seed)`, `seed` being the backend's stable id hash;
//! 3. [`quantize`]: the top [`UNIT_BITS`] bits of that, `q`;
//! 4. [`unit`]: `u = (q + 1/2) / 2^UNIT_BITS`, exactly, so `0 < u < 1`;
//! 5. [`neg_ln`]: `-ln(u)` by our own series, not `f64::ln`;
//! 6. [`weighted_score`]: `weight / -ln(u)`, compared by its bit pattern.
//!
//! [`score_lower_bound`] and [`certainly_below`] bound the score without a
//! logarithm (`1 - u <= -ln(u) <= (1 - u) / u`), so selection can skip the
//! exact score of candidates that cannot be chosen; they never change a result.
//!
//! # Why not `f64::ln`
//! The standard library documents the precision of `ln` as unspecified: it may
//! differ between platforms and Rust versions. A one-ulp difference would move
//! an object, so [`neg_ln`] uses only `+ - * /` and bit operations, which IEEE
//! 754 rounds exactly the same everywhere (Rust never fuses `a * b + c` on its
//! own, and every tier-1 target computes `f64` in binary64, not x87).
//!
//! # Invariants
//! - Everything here is a pure function of its arguments, the same on every
//!   platform and every Rust version: changing any constant or step moves
//!   customer data (the golden test in `golden.rs` pins the results).
//! - For a fixed weight in [`MIN_WEIGHT`, `MAX_WEIGHT`] the score is strictly
//!   increasing in `q`. The grid step of `u` (2^-48) is far larger than the
//!   rounding error of [`neg_ln`] (a few ulps of a result below 34), so distinct
//!   `q` give distinct, correctly ordered `-ln(u)`, and the quotient keeps them
//!   apart because its relative gap (> 2^-47) exceeds an ulp (2^-52). Hence
//!   equal weights may be ranked by `q` alone with the identical result.
//!
//! [`MIN_WEIGHT`]: super::MIN_WEIGHT

/// Bits of the mixed hash kept for `u`. 48 bits keep the grid coarse enough
/// that `-ln(u)` is strictly monotone on it whatever the last-ulp rounding,
/// while a tie between two backends stays a 2^-48 event (broken by index).
const UNIT_BITS: u32 = 48;

/// The largest grid cell.
const MAX_Q: u64 = (1u64 << UNIT_BITS) - 1;

/// `2^-(UNIT_BITS + 1)`: maps the odd integer `2q + 1` to the midpoint of grid cell `q`.
const UNIT_SCALE: f64 = 1.0 / (1u64 << (UNIT_BITS + 1)) as f64;

/// `ln 2`, correctly rounded.
const LN_2: f64 = std::f64::consts::LN_2;

/// Mantissas above this are halved so the series argument stays small.
const SQRT_2: f64 = std::f64::consts::SQRT_2;

/// Bits of an `f64` mantissa.
const MANTISSA_BITS: u32 = 52;

/// Exponent bias of `f64`.
const EXPONENT_BIAS: i32 = 1023;

/// The fraction bits of an `f64`.
const MANTISSA_MASK: u64 = (1u64 << MANTISSA_BITS) - 1;

/// Bit pattern of `1.0` (biased exponent only).
const ONE_BITS: u64 = (EXPONENT_BIAS as u64) << MANTISSA_BITS;

/// `1/3, 1/5, ... 1/21`: the series `atanh(s) = s + s^3/3 + s^5/5 + ...`.
/// With `|s| <= 0.1716` the first omitted term is below 2^-60 of the sum.
const ATANH_COEFFS: [f64; 10] = [
    1.0 / 3.0,
    1.0 / 5.0,
    1.0 / 7.0,
    1.0 / 9.0,
    1.0 / 11.0,
    1.0 / 13.0,
    1.0 / 15.0,
    1.0 / 17.0,
    1.0 / 19.0,
    1.0 / 21.0,
];

/// A strong 64-bit finaliser (the splitmix64 / Stafford "mix13" constants):
/// every input bit flips each output bit with probability close to 1/2.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The top [`UNIT_BITS`] bits of a mixed hash: the grid cell of `u`.
#[inline]
pub(crate) fn quantize(mixed: u64) -> u64 {
    mixed >> (u64::BITS - UNIT_BITS)
}

/// The midpoint of grid cell `q`, exactly: `(2q + 1) / 2^(UNIT_BITS + 1)`,
/// in `[2^-49, 1 - 2^-49]`, never 0 or 1. Both factors are exact in `f64`.
#[inline]
pub(crate) fn unit(q: u64) -> f64 {
    debug_assert!(q < 1u64 << UNIT_BITS);
    ((q << 1) | 1) as f64 * UNIT_SCALE
}

/// `-ln(u)` for `0 < u < 1` (a normal number), using only exactly rounded
/// operations: `u = m * 2^e` with `m` in `(sqrt(1/2), sqrt(2)]`, then
/// `ln m = 2 atanh((m - 1) / (m + 1))` by its series.
#[inline]
pub(crate) fn neg_ln(u: f64) -> f64 {
    debug_assert!(u.is_normal() && u > 0.0 && u < 1.0);
    let bits = u.to_bits();
    let mut exponent = (bits >> MANTISSA_BITS) as i32 - EXPONENT_BIAS;
    let mut m = f64::from_bits((bits & MANTISSA_MASK) | ONE_BITS);
    if m > SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    // Estrin's scheme: the same polynomial as Horner's, in a shallower
    // dependency chain (this is the latency-critical part of weighted placement).
    let c = &ATANH_COEFFS;
    let z2 = z * z;
    let z4 = z2 * z2;
    let z8 = z4 * z4;
    let p01 = c[0] + c[1] * z;
    let p23 = c[2] + c[3] * z;
    let p45 = c[4] + c[5] * z;
    let p67 = c[6] + c[7] * z;
    let p89 = c[8] + c[9] * z;
    let p03 = p01 + p23 * z2;
    let p47 = p45 + p67 * z2;
    let p = (p03 + p47 * z4) + p89 * z8;
    let two_s = s + s;
    let ln_m = two_s + two_s * (z * p);
    -(f64::from(exponent) * LN_2 + ln_m)
}

/// `weight / -ln(u)` for grid cell `q`: positive, finite and normal for any
/// weight in [`MIN_WEIGHT`, `MAX_WEIGHT`], so its bit pattern orders like its value.
///
/// [`MIN_WEIGHT`]: super::MIN_WEIGHT
/// [`MAX_WEIGHT`]: super::MAX_WEIGHT
#[inline]
pub(crate) fn weighted_score(weight: f64, q: u64) -> f64 {
    weight / neg_ln(unit(q))
}

/// Relative safety margin of [`cutoff`]: far above the few-ulp rounding of
/// [`weighted_score`] (2^-50), far below any gap that would make pruning useless.
const PRUNE_MARGIN: f64 = 1.0 / (1u64 << 20) as f64;

/// The value to pass to [`certainly_below`] for `floor`, a value that the k-th
/// best score is known to reach (a score, or a lower bound of one): `floor`
/// shrunk by [`PRUNE_MARGIN`], so the test stays sound after rounding.
#[inline]
pub(crate) fn cutoff(floor: f64) -> f64 {
    floor * (1.0 - PRUNE_MARGIN)
}

/// Whether the score of (`weight`, `q`) is certainly below the score that
/// produced `cut` (see [`cutoff`]; a `cut` of 0 never prunes), decided without
/// a logarithm. Since `-ln(u) >= 1 - u`, the score is at most
/// `weight / (1 - u)`; `1 - u` is exactly `unit(MAX_Q - q)`. If even that bound
/// is below the margin-shrunk cut, the computed score (a few ulps from the true
/// one) is strictly below the cut's score. Used with a cheap cut both to skip
/// lower bounds that cannot matter and to skip exact scores.
#[inline]
pub(crate) fn certainly_below(weight: f64, q: u64, cut: f64) -> bool {
    weight < unit(MAX_Q - q) * cut
}

/// A lower bound of [`weighted_score`]`(weight, q)`, without a logarithm:
/// since `-ln(u) <= (1 - u) / u`, the score is at least `weight * u / (1 - u)`.
/// Tight where it matters (the winners have `u` near 1); within a few ulps of
/// a true bound after rounding, which [`PRUNE_MARGIN`] absorbs.
#[inline]
pub(crate) fn score_lower_bound(weight: f64, q: u64) -> f64 {
    weight * unit(q) / unit(MAX_Q - q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::{MAX_WEIGHT as MAX_W, MIN_WEIGHT as MIN_W};

    /// A tiny deterministic generator for sampling (not the placement mixer's job).
    fn samples(n: usize) -> impl Iterator<Item = u64> {
        (0..n as u64).map(|i| mix64(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed))
    }

    #[test]
    fn unit_never_touches_zero_or_one() {
        assert!(unit(0) > 0.0);
        assert!(unit(MAX_Q) < 1.0);
        assert_eq!(unit(0), 2f64.powi(-49));
        assert_eq!(unit(MAX_Q), 1.0 - 2f64.powi(-49));
        assert_eq!(quantize(u64::MAX), MAX_Q);
        assert_eq!(quantize(0), 0);
    }

    #[test]
    fn neg_ln_matches_std_within_a_few_ulps() {
        let check = |q: u64| {
            let u = unit(q);
            let ours = neg_ln(u);
            let std = -u.ln();
            let rel = ((ours - std) / std).abs();
            assert!(rel < 4.0 * f64::EPSILON, "q={q} u={u} ours={ours} std={std} rel={rel}");
        };
        for q in samples(200_000).map(quantize) {
            check(q);
        }
        for q in [0, 1, 2, 3, MAX_Q, MAX_Q - 1, MAX_Q / 2, MAX_Q / 3] {
            check(q);
        }
    }

    /// Strict monotonicity on the grid, densely at the seams of the
    /// approximation (powers of two, sqrt(2) times powers of two, both ends)
    /// and at random points elsewhere.
    #[test]
    fn score_strictly_decreases_in_neg_ln_and_increases_in_q() {
        const SPAN: u64 = 2_000;
        let mut starts: Vec<u64> = vec![0, MAX_Q - 2 * SPAN];
        for bit in 1..UNIT_BITS {
            let pow = 1u64 << bit;
            starts.push(pow.saturating_sub(SPAN));
            let root = (pow as f64 * SQRT_2) as u64;
            if root < MAX_Q - SPAN {
                starts.push(root.saturating_sub(SPAN));
            }
        }
        starts.extend(samples(20_000).map(|x| quantize(x).min(MAX_Q - 2 * SPAN)));
        for (i, &start) in starts.iter().enumerate() {
            let span = if i < 2 + 2 * UNIT_BITS as usize { 2 * SPAN } else { 2 };
            let mut prev_ln = neg_ln(unit(start));
            let mut prev_scores = [1.0, 1e-6, 1e6, 0.37].map(|w| weighted_score(w, start));
            for q in start + 1..=start + span {
                let ln = neg_ln(unit(q));
                assert!(ln < prev_ln, "neg_ln not strictly decreasing at q={q}");
                let scores = [1.0, 1e-6, 1e6, 0.37].map(|w| weighted_score(w, q));
                for (s, p) in scores.iter().zip(prev_scores) {
                    assert!(*s > p && s.is_normal(), "score not strictly increasing at q={q}");
                }
                prev_ln = ln;
                prev_scores = scores;
            }
        }
    }

    #[test]
    fn one_minus_unit_is_the_mirrored_cell() {
        for q in samples(10_000).map(quantize).chain([0, 1, MAX_Q - 1, MAX_Q]) {
            assert_eq!(1.0 - unit(q), unit(MAX_Q - q));
        }
    }

    /// The pruning bound never rejects a score at or above the cut's score.
    #[test]
    fn pruning_is_sound() {
        let weights = [MIN_W, 0.5, 1.0, 3.0, MAX_W];
        let qs: Vec<u64> = samples(5_000).map(quantize).chain([0, 1, MAX_Q - 1, MAX_Q]).collect();
        for &w in &weights {
            for &q in &qs {
                let score = weighted_score(w, q);
                // A k-th best exactly equal to this score, or one ulp below, must not prune it.
                for bar in [score, f64::from_bits(score.to_bits() - 1)] {
                    assert!(!certainly_below(w, q, cutoff(bar)), "w={w} q={q}");
                }
            }
        }
        // The lower bound is below the score, and close to it for u near 1.
        for &w in &weights {
            for &q in &qs {
                let (low, score) = (score_lower_bound(w, q), weighted_score(w, q));
                assert!(low <= score * (1.0 + PRUNE_MARGIN), "w={w} q={q}");
                // The score itself never prunes its own lower bound's candidate.
                assert!(!certainly_below(w, q, cutoff(low)), "w={w} q={q}");
            }
        }
        // And it does prune the hopeless: u = 1/2 at weight 1 against a bar of 17.
        assert!(certainly_below(1.0, 1 << (UNIT_BITS - 1), cutoff(17.0)));
        assert!(!certainly_below(1.0, MAX_Q, cutoff(17.0)));
    }

    #[test]
    fn mixer_is_pinned() {
        // Changing the mixer moves customer data: these values are fixed forever.
        // The second one is the published first output of splitmix64 seeded with 0.
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
        assert_eq!(mix64(0x0123_4567_89ab_cdef), 0xb2c0_58e4_ebb5_112c);
    }
}
