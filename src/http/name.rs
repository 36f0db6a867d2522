//! Case-insensitive equality of header names, eight bytes at a time.
//!
//! Every request is matched against a handful of names (`authorization`,
//! `x-amz-date`, each SignedHeaders name, ...), and on the SigV4 hot path
//! those comparisons add up. `<[u8]>::eq_ignore_ascii_case` lowercases one
//! byte at a time; [`eq_ignore_case`] gives the same answer with word-sized
//! loads: names of different lengths are rejected at once, and equal lengths
//! cost one or two word comparisons for typical names (up to 16 bytes).
//!
//! # Invariants
//! - `eq_ignore_case(a, b) == a.eq_ignore_ascii_case(b)` for all byte strings,
//!   including non-ASCII bytes (which are never folded): tested exhaustively
//!   over every byte pair at every position of every length up to 17.

use crate::swar::{WORD, in_range, load};

/// Half a word: names of 4..8 bytes are compared as two overlapping halves.
const HALF: usize = 4;

/// Lowercases the ASCII capitals among eight bytes; every other byte,
/// including non-ASCII ones, is left as it is.
#[inline(always)]
fn lower(x: u64) -> u64 {
    // 0x80 >> 2 is the ASCII case bit 0x20.
    x | (in_range(x, b'A', b'Z') >> 2)
}

#[inline]
fn half(s: &[u8], at: usize) -> u64 {
    let mut w = [0u8; HALF];
    w.copy_from_slice(&s[at..at + HALF]);
    u64::from(u32::from_le_bytes(w))
}

/// Whether `a` and `b` are equal ignoring ASCII case (as
/// `a.eq_ignore_ascii_case(b)`).
#[inline(always)]
pub fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= WORD {
        // Whole words, then the last word (overlapping the previous one).
        let mut at = 0;
        while at + WORD < n {
            if lower(load(a, at)) != lower(load(b, at)) {
                return false;
            }
            at += WORD;
        }
        return lower(load(a, n - WORD)) == lower(load(b, n - WORD));
    }
    if n >= HALF {
        let pack = |s: &[u8]| half(s, 0) | half(s, n - HALF) << 32;
        return lower(pack(a)) == lower(pack(b));
    }
    a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// Whether `a` equals `lower`, a string without ASCII capitals (a constant,
/// or a name validated as lowercase), ignoring the ASCII case of `a`: as
/// [`eq_ignore_case`], with only `a` folded.
#[inline(always)]
pub fn eq_lowercase(a: &[u8], lower_b: &[u8]) -> bool {
    debug_assert!(!lower_b.iter().any(u8::is_ascii_uppercase), "{lower_b:?} has capitals");
    let n = a.len();
    if n != lower_b.len() {
        return false;
    }
    if n >= WORD {
        let mut at = 0;
        while at + WORD < n {
            if lower(load(a, at)) != load(lower_b, at) {
                return false;
            }
            at += WORD;
        }
        return lower(load(a, n - WORD)) == load(lower_b, n - WORD);
    }
    if n >= HALF {
        let pack = |s: &[u8]| half(s, 0) | half(s, n - HALF) << 32;
        return lower(pack(a)) == pack(lower_b);
    }
    a.iter().zip(lower_b).all(|(x, y)| x.to_ascii_lowercase() == *y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_names() {
        assert!(eq_ignore_case(b"Content-Length", b"content-length"));
        assert!(eq_ignore_case(b"X-Amz-Content-SHA256", b"x-amz-content-sha256"));
        assert!(eq_ignore_case(b"Host", b"host"));
        assert!(eq_ignore_case(b"", b""));
        assert!(!eq_ignore_case(b"x-amz-date", b"user-agent"));
        assert!(!eq_ignore_case(b"x-amz-meta-a", b"x-amz-meta-b"));
        assert!(!eq_ignore_case(b"host", b"hos"));
        // `^` and `~` differ only in the case bit but are not letters
        assert!(!eq_ignore_case(b"x-a^", b"x-a~"));
        assert!(!eq_ignore_case(b"@", b"`"));
    }

    /// Every pair of byte values at every position of every length up to 17
    /// (all three comparison paths; the other bytes are letters of mixed
    /// case) agrees with std.
    #[test]
    fn agrees_with_std_for_every_byte_pair() {
        let filler_a = b"AbCdEfGhIjKlMnOpQ";
        let filler_b = b"aBcDeFgHiJkLmNoPq";
        for len in 1..=17 {
            for pos in 0..len {
                let (mut a, mut b) = (filler_a[..len].to_vec(), filler_b[..len].to_vec());
                for x in 0..=255u8 {
                    for y in 0..=255u8 {
                        a[pos] = x;
                        b[pos] = y;
                        assert_eq!(eq_ignore_case(&a, &b), a.eq_ignore_ascii_case(&b), "{a:?} {b:?}");
                    }
                }
            }
        }
    }

    /// `eq_lowercase` agrees with std for every byte of `a` at every position
    /// of every length up to 17, against lowercase strings.
    #[test]
    fn eq_lowercase_agrees_with_std() {
        let lower_b = b"abcdefghijklmnopq";
        for len in 0..=lower_b.len() {
            for pos in 0..len {
                let mut a = b"ABCDEFGHIJKLMNOPQ"[..len].to_vec();
                for x in 0..=255u8 {
                    a[pos] = x;
                    let want = a.eq_ignore_ascii_case(&lower_b[..len]);
                    assert_eq!(eq_lowercase(&a, &lower_b[..len]), want, "{a:?}");
                }
            }
        }
        assert!(!eq_lowercase(b"host", b"hos"));
    }

    #[test]
    fn lengths_differ() {
        assert!(!eq_ignore_case(b"abcdefgh", b"abcdefghi"));
        assert!(!eq_ignore_case(b"", b"a"));
    }
}
