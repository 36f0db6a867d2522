//! Whether every byte of a short string is in a class, checked sixteen
//! bytes per step in a form the compiler turns into vector compares (SSE2 on
//! x86-64) without `unsafe`: a fold with `&`, no early exit inside a chunk.
//!
//! # Invariants
//! - [`all_bytes`]`(s, ok)` equals `s.iter().all(|&b| ok(b))` for every `s`
//!   (tested at every length and position up to three chunks).

/// Bytes checked per step: one SSE2 vector.
const CHUNK: usize = 16;

/// Whether `ok` holds for every byte of `s`. `ok` must be branch-free
/// arithmetic on the byte, its tests joined with `|` and `&`: `||` and `&&`
/// branch, and a chunk with a branch is checked byte by byte.
#[inline(always)]
pub(crate) fn all_bytes(s: &[u8], ok: impl Fn(u8) -> bool) -> bool {
    let chunk_ok = |c: &[u8]| c.iter().fold(true, |all, &b| all & ok(b));
    if s.len() < CHUNK {
        return chunk_ok(s);
    }
    let mut chunks = s.chunks_exact(CHUNK);
    let mut all = true;
    for c in chunks.by_ref() {
        all &= chunk_ok(c);
    }
    // The bytes past the last whole chunk, checked as the last sixteen.
    all && (chunks.remainder().is_empty() || chunk_ok(&s[s.len() - CHUNK..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_iter_all() {
        let lower = |b: u8| b.wrapping_sub(b'a') < 26;
        for len in 0..=3 * CHUNK + 1 {
            let mut s = vec![b'q'; len];
            assert!(all_bytes(&s, lower), "len {len}");
            for at in 0..len {
                for bad in [b'A', b'{', b'`', 0x80, 0xE1, 0] {
                    s[at] = bad;
                    assert!(!all_bytes(&s, lower), "len {len}, {bad:#x} at {at}");
                }
                s[at] = b'q';
            }
        }
    }
}
