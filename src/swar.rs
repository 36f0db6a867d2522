//! Byte-lane arithmetic on 64-bit words ("SIMD within a register"): eight
//! bytes classified or compared per instruction, for the short strings of a
//! request head (header names, SigV4 scopes and lists, hex digests) where a
//! byte loop is too slow and a vector library call too costly to set up.
//!
//! Lane `k` of a word is byte `k` of the slice it was loaded from
//! (little-endian loads), so `trailing_zeros() / 8` of a lane mask is the
//! index of the first marked byte.

/// One in every byte lane.
pub const LANES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte lane: the bit lane masks mark.
pub const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
/// Bytes in a word.
pub const WORD: usize = 8;

/// The high bit of each lane of `x` whose byte lies in `lo..=hi` (both below
/// 0x80); lanes holding bytes of 0x80 and above are never marked.
#[inline(always)]
pub fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    debug_assert!(lo <= hi && hi < 0x80);
    // Every lane of `low7` is below 0x80, so no addition carries into the next lane.
    let low7 = x & !HIGH_BITS;
    let at_least_lo = low7 + LANES * u64::from(0x80 - lo);
    let above_hi = low7 + LANES * u64::from(0x7F - hi);
    at_least_lo & !above_hi & !x & HIGH_BITS
}

/// The high bit of each lane of `x` equal to `b` (below 0x80).
#[inline(always)]
pub fn eq_byte(x: u64, b: u8) -> u64 {
    in_range(x, b, b)
}

/// The eight bytes of `s` from `at`, zero-padded past its end.
#[inline(always)]
pub fn load(s: &[u8], at: usize) -> u64 {
    match s.get(at..at + WORD) {
        Some(bytes) => {
            let mut w = [0u8; WORD];
            w.copy_from_slice(bytes);
            u64::from_le_bytes(w)
        }
        None => s.get(at..).unwrap_or_default().iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value against every range with bounds below 0x80, in every lane.
    #[test]
    fn in_range_marks_exactly_the_bytes_in_range() {
        let ranges =
            [(0, 0), (0, 0x7F), (b'0', b'9'), (b'a', b'z'), (b'A', b'Z'), (b';', b';'), (0x7F, 0x7F)];
        for (lo, hi) in ranges {
            for b in 0..=255u8 {
                for lane in 0..WORD {
                    // The other lanes hold a value outside the range, next to
                    // a lane boundary where possible, so a stray carry shows.
                    for other in [0x00u8, 0x7F, 0x80, 0xFF].into_iter().filter(|o| !(lo..=hi).contains(o)) {
                        let x =
                            (LANES * u64::from(other)) & !(0xFF << (8 * lane)) | (u64::from(b) << (8 * lane));
                        let want = if (lo..=hi).contains(&b) { 0x80 << (8 * lane) } else { 0 };
                        assert_eq!(in_range(x, lo, hi), want, "{b:#x} in {lo:#x}..={hi:#x} lane {lane}");
                    }
                }
            }
        }
    }

    #[test]
    fn loads() {
        let s = b"0123456789";
        assert_eq!(load(s, 0), u64::from_le_bytes(*b"01234567"));
        assert_eq!(load(s, 8), u64::from_le_bytes(*b"89\0\0\0\0\0\0"));
        assert_eq!(load(s, 10), 0);
        assert_eq!(eq_byte(load(s, 0), b'3'), 0x80 << 24);
    }
}
