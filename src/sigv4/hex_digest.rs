//! The 64-hex-digit digests of SigV4 (signatures, `x-amz-content-sha256`,
//! the canonical request hash in the string to sign), decoded and encoded.
//!
//! Every verified request decodes two digests and encodes one. Both are
//! written as branch-free loops over fixed-size arrays, one byte per step,
//! which the compiler turns into vector instructions (SSE2 on x86-64: sixteen
//! digits per instruction, no loop left): ~120 instructions for a decode,
//! where eight digits per machine word took ~310.
//!
//! # Invariants
//! - [`decode_hex_digest`] accepts exactly 64 digits `0-9 a-f A-F` and
//!   nothing else; tested against the `hex` crate for every byte value at
//!   every position.
//! - [`encode_hex_digest`] writes lowercase digits, as SigV4 requires; tested
//!   against the `hex` crate for every byte value.

use super::limits::{DIGEST_HEX_LEN, DIGEST_LEN};

/// The bit that tells ASCII lowercase letters from capitals.
const ASCII_CASE_BIT: u8 = 0x20;
/// Values of the digits `0-9`, and of the letters `a-f` counted from `a`.
const DIGIT_VALUES: u8 = 10;
const LETTER_VALUES: u8 = 6;

/// The lowercase hex form of a 32-byte digest.
pub(crate) fn encode_hex_digest(digest: &[u8; DIGEST_LEN]) -> [u8; DIGEST_HEX_LEN] {
    let digit = |n: u8| if n < DIGIT_VALUES { b'0' + n } else { b'a' - DIGIT_VALUES + n };
    let mut out = [0u8; DIGEST_HEX_LEN];
    for (pair, &b) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = digit(b >> 4);
        pair[1] = digit(b & 0x0F);
    }
    out
}

/// Decodes exactly 64 hex digits (either case) into a 32-byte digest.
pub(crate) fn decode_hex_digest(hex: &[u8]) -> Option<[u8; DIGEST_LEN]> {
    let mut out = [0u8; DIGEST_LEN];
    decode_hex_digest_into(hex, &mut out).then_some(out)
}

/// Decodes exactly 64 hex digits (either case) into `out` and returns true;
/// returns false for anything else (`out` then holds nothing meaningful).
/// Decoding in place spares the caller a copy of the digest.
#[inline]
pub(crate) fn decode_hex_digest_into(hex: &[u8], out: &mut [u8; DIGEST_LEN]) -> bool {
    let Ok(hex) = <&[u8; DIGEST_HEX_LEN]>::try_from(hex) else {
        return false;
    };
    let mut nibbles = [0u8; DIGEST_HEX_LEN];
    let mut invalid = false;
    for (nibble, &c) in nibbles.iter_mut().zip(hex) {
        let digit = c.wrapping_sub(b'0');
        // Setting the case bit folds `A-F` onto `a-f` and no other byte into it.
        let letter = (c | ASCII_CASE_BIT).wrapping_sub(b'a');
        invalid |= digit >= DIGIT_VALUES && letter >= LETTER_VALUES;
        *nibble = if digit < DIGIT_VALUES { digit } else { letter.wrapping_add(DIGIT_VALUES) };
    }
    for (byte, pair) in out.iter_mut().zip(nibbles.chunks_exact(2)) {
        *byte = pair[0] << 4 | pair[1];
    }
    !invalid
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
