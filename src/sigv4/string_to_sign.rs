//! The string to sign and the signature over it, shared by verification and
//! outbound signing.
//!
//! ```text
//! StringToSign = "AWS4-HMAC-SHA256" \n amz-date \n date/region/service/aws4_request \n hex(sha256(canonical))
//! Signature    = hex(HMAC(signing-key, StringToSign))
//! ```
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
//! ("Task 2" and "Task 3").
//!
//! # Security
//! - The HMAC is keyed with a signing key borrowed from the cache; its clone
//!   lives only for one signature.

use hmac::Mac;

use super::hex_digest::encode_hex_digest;
use super::limits::{ALGORITHM, AMZ_DATE_LEN, DIGEST_HEX_LEN, DIGEST_LEN, SCOPE_DATE_LEN, SCOPE_TERMINATOR};
use super::signing_key::HmacSha256;

/// The credential scope of a signature (without the access key).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'x> {
    pub date: &'x str,
    pub region: &'x str,
    pub service: &'x str,
}

/// The end of the scope line of a string to sign (`SCOPE_TERMINATOR` and newline).
const SCOPE_TAIL: &[u8] = b"/aws4_request\n";

/// Room for a string to sign on the stack (~140 bytes for a usual scope); a
/// longer scope is fed piece by piece.
const STRING_TO_SIGN_BUF: usize = 256;

/// The signature of the string to sign built from `amz_date`, `scope` and the
/// SHA-256 of a canonical request.
pub(crate) fn signature(
    mac: &HmacSha256,
    amz_date: &[u8],
    scope: &Scope<'_>,
    canonical_hash: &[u8; DIGEST_LEN],
) -> [u8; DIGEST_LEN] {
    let hash_hex = encode_hex_digest(canonical_hash);
    let mut mac = mac.clone();
    // One update of the whole string costs less than thirteen small ones.
    let mut buf = [0u8; STRING_TO_SIGN_BUF];
    match write_string_to_sign(&mut buf, amz_date, scope, &hash_hex) {
        Some(len) => mac.update(&buf[..len]),
        None => {
            for piece in [
                ALGORITHM.as_bytes(),
                b"\n",
                amz_date,
                b"\n",
                scope.date.as_bytes(),
                b"/",
                scope.region.as_bytes(),
                b"/",
                scope.service.as_bytes(),
                b"/",
                SCOPE_TERMINATOR.as_bytes(),
                b"\n",
                &hash_hex,
            ] {
                mac.update(piece);
            }
        }
    }
    mac.finalize().into_bytes().into()
}

/// Writes the string to sign into `buf` and returns its length; `None` when
/// it does not fit or the dates do not have their fixed lengths. The fixed
/// parts are copied as arrays (inline moves), only region and service with a
/// length known at run time.
fn write_string_to_sign(
    buf: &mut [u8; STRING_TO_SIGN_BUF],
    amz_date: &[u8],
    scope: &Scope<'_>,
    hash_hex: &[u8; DIGEST_HEX_LEN],
) -> Option<usize> {
    const HEAD: usize = ALGORITHM.len() + 1 + AMZ_DATE_LEN + 1 + SCOPE_DATE_LEN + 1;
    let amz_date: &[u8; AMZ_DATE_LEN] = amz_date.try_into().ok()?;
    let date: &[u8; SCOPE_DATE_LEN] = scope.date.as_bytes().try_into().ok()?;
    let (region, service) = (scope.region.as_bytes(), scope.service.as_bytes());
    let len = HEAD + region.len() + 1 + service.len() + SCOPE_TAIL.len() + DIGEST_HEX_LEN;
    if len > buf.len() {
        return None;
    }
    buf[..ALGORITHM.len()].copy_from_slice(ALGORITHM.as_bytes());
    let mut at = ALGORITHM.len();
    buf[at] = b'\n';
    buf[at + 1..at + 1 + AMZ_DATE_LEN].copy_from_slice(amz_date);
    at += 1 + AMZ_DATE_LEN;
    buf[at] = b'\n';
    buf[at + 1..at + 1 + SCOPE_DATE_LEN].copy_from_slice(date);
    at += 1 + SCOPE_DATE_LEN;
    buf[at] = b'/';
    at += 1;
    buf[at..at + region.len()].copy_from_slice(region);
    at += region.len();
    buf[at] = b'/';
    at += 1;
    buf[at..at + service.len()].copy_from_slice(service);
    at += service.len();
    buf[at..at + SCOPE_TAIL.len()].copy_from_slice(SCOPE_TAIL);
    at += SCOPE_TAIL.len();
    buf[at..at + DIGEST_HEX_LEN].copy_from_slice(hash_hex);
    Some(at + DIGEST_HEX_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature of `text` under `mac`, the plain way.
    fn hmac_of(mac: &HmacSha256, text: &str) -> [u8; DIGEST_LEN] {
        let mut mac = mac.clone();
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn buffered_or_piecewise_strings_sign_the_same() {
        assert_eq!(SCOPE_TAIL, format!("/{SCOPE_TERMINATOR}\n").as_bytes());
        let mac = <HmacSha256 as Mac>::new_from_slice(&[7u8; 32]).unwrap();
        let hash = [9u8; DIGEST_LEN];
        // The longest region that fits the buffer, one byte more, and usual ones.
        let fixed = ALGORITHM.len() + 1 + AMZ_DATE_LEN + 1 + SCOPE_DATE_LEN + 1 + 1 + 2;
        let longest = STRING_TO_SIGN_BUF - fixed - SCOPE_TAIL.len() - DIGEST_HEX_LEN;
        let regions =
            ["us-east-1".to_string(), "r".repeat(longest), "r".repeat(longest + 1), "r".repeat(300)];
        for region in &regions {
            let scope = Scope { date: "20260301", region, service: "s3" };
            let text = format!(
                "AWS4-HMAC-SHA256\n20260301T120000Z\n20260301/{region}/s3/aws4_request\n{}",
                hex::encode(hash)
            );
            let got = signature(&mac, b"20260301T120000Z", &scope, &hash);
            assert_eq!(got, hmac_of(&mac, &text), "region of {} bytes", region.len());
        }
        let hex = [b'0'; DIGEST_HEX_LEN];
        let mut buf = [0u8; STRING_TO_SIGN_BUF];
        let fits = Scope { date: "20260301", region: &regions[1], service: "s3" };
        let written = write_string_to_sign(&mut buf, b"20260301T120000Z", &fits, &hex);
        assert_eq!(written, Some(STRING_TO_SIGN_BUF));
        let over = Scope { region: &regions[2], ..fits };
        assert_eq!(write_string_to_sign(&mut buf, b"20260301T120000Z", &over, &hex), None);
    }

    /// AWS's published GET Object example: its string to sign and signature.
    #[test]
    fn aws_example_string_to_sign() {
        let key = crate::sigv4::signing_key::derive_signing_key(
            &crate::secret::Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "20130524",
            "us-east-1",
            "s3",
        );
        let mac = crate::sigv4::signing_key::keyed_mac(&key);
        let scope = Scope { date: "20130524", region: "us-east-1", service: "s3" };
        let mut hash = [0u8; DIGEST_LEN];
        hex::decode_to_slice("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972", &mut hash)
            .unwrap();
        assert_eq!(
            hex::encode(signature(&mac, b"20130524T000000Z", &scope, &hash)),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }
}
