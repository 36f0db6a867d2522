//! ListObjectsV2 continuation tokens: opaque to clients, validated by sluice.
//!
//! A token is the unpadded base64url of
//! ```text
//! version (1 byte) | kind (1 byte: 0 key, 1 common prefix) | name (UTF-8) | MAC (16 bytes)
//! ```
//! where `name` is the last entry the previous page returned and MAC is
//! HMAC-SHA256 under the server's 32-byte listing key over
//! `DOMAIN | bucket id (16 bytes, big-endian) | version | kind | name`,
//! truncated to 16 bytes. base64url needs no escaping in a query string.
//!
//! # Security
//! - A forged, altered, truncated, or other bucket's token, or one made under
//!   another key, fails the MAC and is `InvalidArgument` ("The continuation
//!   token provided is incorrect."), as is anything longer than
//!   [`MAX_TOKEN_LEN`] (checked before decoding). The MAC is compared in
//!   constant time.
//! - A token reveals the last key of the previous page, which its holder was
//!   just sent; binding it to the bucket id stops replay against another
//!   bucket (even one named the same later).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{S3Error, S3ErrorCode};

use super::page::{Entry, EntryKind};

/// Format version written in every token; others are refused.
pub const TOKEN_VERSION: u8 = 1;

/// Longest entry name a token carries. S3 keys are at most 1024 bytes; four
/// times that leaves room for backends with longer keys while keeping a
/// token far below the 16 KiB request-head limit.
pub const MAX_TOKEN_NAME_BYTES: usize = 4096;

/// Bytes of the truncated HMAC-SHA256 tag.
const MAC_LEN: usize = 16;

/// Version and kind bytes.
const HEADER_LEN: usize = 2;

/// Longest token accepted, in characters: unpadded base64 of the largest payload.
pub const MAX_TOKEN_LEN: usize = (HEADER_LEN + MAX_TOKEN_NAME_BYTES + MAC_LEN).div_ceil(3) * 4;

/// Domain separation: this key's MACs mean "listing token" and nothing else.
const DOMAIN: &[u8] = b"sluice/list-token";

const INCORRECT: &str = "The continuation token provided is incorrect.";

/// The entry a continuation token resumes after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEntry {
    pub kind: EntryKind,
    pub name: String,
}

impl From<&Entry> for LastEntry {
    fn from(e: &Entry) -> Self {
        LastEntry { kind: e.kind(), name: e.name().to_owned() }
    }
}

fn kind_byte(kind: EntryKind) -> u8 {
    match kind {
        EntryKind::Key => 0,
        EntryKind::Prefix => 1,
    }
}

fn mac(key: &[u8; 32], bucket_id: u128, version: u8, kind: u8, name: &[u8]) -> [u8; MAC_LEN] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(DOMAIN);
    mac.update(&bucket_id.to_be_bytes());
    mac.update(&[version, kind]);
    mac.update(name);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; MAC_LEN];
    tag.copy_from_slice(&full[..MAC_LEN]);
    tag
}

/// The token resuming after `last` in bucket `bucket_id`. A name longer than
/// [`MAX_TOKEN_NAME_BYTES`] makes a token that [`decode`] refuses.
pub fn encode(key: &[u8; 32], bucket_id: u128, last: &Entry) -> String {
    encode_last(key, bucket_id, last.kind(), last.name())
}

/// [`encode`] from the parts.
pub fn encode_last(key: &[u8; 32], bucket_id: u128, kind: EntryKind, name: &str) -> String {
    let kind = kind_byte(kind);
    let mut raw = Vec::with_capacity(HEADER_LEN + name.len() + MAC_LEN);
    raw.push(TOKEN_VERSION);
    raw.push(kind);
    raw.extend_from_slice(name.as_bytes());
    raw.extend_from_slice(&mac(key, bucket_id, TOKEN_VERSION, kind, name.as_bytes()));
    B64.encode(raw)
}

/// Validates `token` for bucket `bucket_id` and returns the entry it names.
pub fn decode(key: &[u8; 32], bucket_id: u128, token: &str) -> Result<LastEntry, S3Error> {
    let incorrect = || S3Error::with_message(S3ErrorCode::InvalidArgument, INCORRECT);
    if token.len() > MAX_TOKEN_LEN {
        return Err(incorrect());
    }
    let raw = B64.decode(token).map_err(|_| incorrect())?;
    if raw.len() < HEADER_LEN + MAC_LEN {
        return Err(incorrect());
    }
    let (body, tag) = raw.split_at(raw.len() - MAC_LEN);
    let (version, kind, name) = (body[0], body[1], &body[HEADER_LEN..]);
    // The MAC is checked first, over whatever was sent: nothing else about
    // the token is looked at unless it is sluice's own.
    let want = mac(key, bucket_id, version, kind, name);
    if !bool::from(want.ct_eq(tag)) {
        return Err(incorrect());
    }
    if version != TOKEN_VERSION || name.len() > MAX_TOKEN_NAME_BYTES {
        return Err(incorrect());
    }
    let kind = match kind {
        0 => EntryKind::Key,
        1 => EntryKind::Prefix,
        _ => return Err(incorrect()),
    };
    let name = String::from_utf8(name.to_vec()).map_err(|_| incorrect())?;
    Ok(LastEntry { kind, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const BUCKET: u128 = 0x0123_4567_89ab_cdef_0011_2233_4455_6677;

    fn check_incorrect(r: Result<LastEntry, S3Error>) {
        let e = r.unwrap_err();
        assert_eq!(e.code, S3ErrorCode::InvalidArgument);
        assert_eq!(e.message, INCORRECT);
    }

    #[test]
    fn round_trip() {
        for (kind, name) in [
            (EntryKind::Key, "photos/2006/January/sample.jpg"),
            (EntryKind::Prefix, "a/"),
            (EntryKind::Key, "日本語 𝄞 &<>+%/"),
            (EntryKind::Key, ""),
        ] {
            let t = encode_last(&KEY, BUCKET, kind, name);
            assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{t}");
            assert_eq!(decode(&KEY, BUCKET, &t).unwrap(), LastEntry { kind, name: name.into() });
        }
        let long = "k".repeat(MAX_TOKEN_NAME_BYTES);
        let t = encode_last(&KEY, BUCKET, EntryKind::Key, &long);
        assert!(t.len() <= MAX_TOKEN_LEN);
        assert_eq!(decode(&KEY, BUCKET, &t).unwrap().name, long);
    }

    #[test]
    fn encode_from_entry() {
        let t = encode(&KEY, BUCKET, &Entry::Prefix("x/".into()));
        assert_eq!(
            decode(&KEY, BUCKET, &t).unwrap(),
            LastEntry { kind: EntryKind::Prefix, name: "x/".into() }
        );
        assert_ne!(t, encode_last(&KEY, BUCKET, EntryKind::Key, "x/"), "the kind is part of the token");
    }

    #[test]
    fn other_bucket_or_key_is_refused() {
        let t = encode_last(&KEY, BUCKET, EntryKind::Key, "k");
        check_incorrect(decode(&KEY, BUCKET + 1, &t));
        check_incorrect(decode(&[8; 32], BUCKET, &t));
    }

    #[test]
    fn every_altered_bit_is_refused() {
        let t = encode_last(&KEY, BUCKET, EntryKind::Prefix, "dir/");
        let raw = B64.decode(&t).unwrap();
        for i in 0..raw.len() {
            for bit in 0..8 {
                let mut r = raw.clone();
                r[i] ^= 1 << bit;
                check_incorrect(decode(&KEY, BUCKET, &B64.encode(&r)));
            }
        }
        // Flipping the kind with the rest intact is caught too.
        let mut r = raw.clone();
        r[1] = 0;
        check_incorrect(decode(&KEY, BUCKET, &B64.encode(&r)));
    }

    #[test]
    fn truncated_and_garbage_are_refused() {
        let t = encode_last(&KEY, BUCKET, EntryKind::Key, "some/key");
        for n in 0..t.len() {
            check_incorrect(decode(&KEY, BUCKET, &t[..n]));
        }
        for bad in ["", "!!!!", "not a token", "AAAA", &format!("{t}="), &format!("{t}A")] {
            check_incorrect(decode(&KEY, BUCKET, bad));
        }
        // A forged token of the right shape but a made-up MAC.
        let mut forged = vec![TOKEN_VERSION, 0];
        forged.extend_from_slice(b"secret/");
        forged.extend_from_slice(&[0u8; MAC_LEN]);
        check_incorrect(decode(&KEY, BUCKET, &B64.encode(&forged)));
        // Standard base64 (`+`, `/`) is not accepted in place of base64url.
        let std = base64::engine::general_purpose::STANDARD.encode(B64.decode(&t).unwrap());
        if std != t {
            check_incorrect(decode(&KEY, BUCKET, &std));
        }
    }

    #[test]
    fn length_is_bounded_before_decoding() {
        check_incorrect(decode(&KEY, BUCKET, &"A".repeat(MAX_TOKEN_LEN + 1)));
        // A validly signed name over the bound is refused as well.
        let t = encode_last(&KEY, BUCKET, EntryKind::Key, &"k".repeat(MAX_TOKEN_NAME_BYTES + 1));
        check_incorrect(decode(&KEY, BUCKET, &t));
    }

    #[test]
    fn other_version_is_refused() {
        let name = b"k";
        let mut raw = vec![TOKEN_VERSION + 1, 0];
        raw.extend_from_slice(name);
        raw.extend_from_slice(&mac(&KEY, BUCKET, TOKEN_VERSION + 1, 0, name));
        check_incorrect(decode(&KEY, BUCKET, &B64.encode(&raw)));
        let mut raw = vec![TOKEN_VERSION, 2];
        raw.extend_from_slice(name);
        raw.extend_from_slice(&mac(&KEY, BUCKET, TOKEN_VERSION, 2, name));
        check_incorrect(decode(&KEY, BUCKET, &B64.encode(&raw)));
    }
}
