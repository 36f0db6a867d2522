//! The upload id sluice hands to clients: [`UploadToken`].
//!
//! A multipart upload lives on one backend, under that backend's own upload
//! id. The client gets a token that names both and is authenticated, so the
//! placement need not be recomputed (backends may join between the parts) and
//! no state is kept per upload.
//!
//! Spec of the id's use: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html>
//! (an opaque string echoed in `uploadId=` of UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload and ListParts).
//!
//! # Format
//! `base64url-nopad(payload)`, payload =
//! `version (1) | len(backend_id) (u8) | backend_id | len(backend_upload_id) (u16 BE) | backend_upload_id | mac (16)`.
//! The alphabet `A-Z a-z 0-9 - _` needs no escaping in a query string; the
//! length is at most [`MAX_TOKEN_LEN`].
//!
//! `mac = HMAC-SHA256(server_key, msg)[..16]`, with
//! `msg = MAC_LABEL | version | lp(tenant) | bucket_id (u128 BE) | lp(key) | lp(backend_id) | lp(backend_upload_id)`,
//! `lp(x) = len(x) as u32 BE | x`. Tenant, bucket and key are bound by the MAC
//! but not carried: the request names them.
//!
//! # Security
//! - Anything that does not verify — forged, altered, truncated, padded,
//!   issued for another tenant, bucket, key or server key — is `NoSuchUpload`,
//!   the answer AWS gives for an unknown id, so a probe learns nothing more.
//! - The MAC is compared in constant time (`subtle`); the length prefixes make
//!   field boundaries unambiguous (`("ab","c")` and `("a","bc")` differ), and
//!   the label separates these MACs from others made with the same server key
//!   (continuation tokens).
//! - The decoder rejects over-long input before decoding and accepts only the
//!   canonical base64url spelling, so one upload has exactly one token.
//! - The backend's upload id is not secret (the token is not encrypted): it is
//!   only meaningful with the backend's credentials, which clients never see.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{S3Error, S3ErrorCode};

type HmacSha256 = Hmac<Sha256>;

/// Version byte of the token layout and MAC input.
pub const TOKEN_VERSION: u8 = 1;
/// Bytes of the truncated HMAC-SHA256 tag: 128 bits, beyond online guessing.
pub const MAC_LEN: usize = 16;
/// Longest backend id (backend ids are config names, `config::MAX_NAME_LEN`).
pub const MAX_BACKEND_ID_BYTES: usize = crate::config::MAX_NAME_LEN;
/// Longest backend upload id carried. AWS ids are ~100-200 characters, MinIO,
/// Ceph and GCS shorter; 1 KiB leaves room while bounding the URL.
pub const MAX_BACKEND_UPLOAD_ID_BYTES: usize = 1024;
/// Largest payload: header, the two ids at their maximum, the MAC.
const MAX_PAYLOAD_LEN: usize = 1 + 1 + MAX_BACKEND_ID_BYTES + 2 + MAX_BACKEND_UPLOAD_ID_BYTES + MAC_LEN;
/// Smallest payload: header, one byte per id, the MAC.
const MIN_PAYLOAD_LEN: usize = 1 + 1 + 1 + 2 + 1 + MAC_LEN;
/// Longest token sluice issues or accepts (base64url without padding).
pub const MAX_TOKEN_LEN: usize = (MAX_PAYLOAD_LEN * 4).div_ceil(3);
/// Shortest well-formed token.
const MIN_TOKEN_LEN: usize = (MIN_PAYLOAD_LEN * 4).div_ceil(3);
/// Domain separation of these MACs from other uses of the server key.
const MAC_LABEL: &[u8] = b"sluice/multipart-upload-id\0";

const _: () = assert!(MAX_BACKEND_ID_BYTES <= u8::MAX as usize);
const _: () = assert!(MAX_BACKEND_UPLOAD_ID_BYTES <= u16::MAX as usize);

/// Why a token could not be issued: the backend's values are out of bounds.
/// `S3Error::from` gives `InternalError` (the client did nothing wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// Empty or longer than [`MAX_BACKEND_ID_BYTES`].
    BackendId,
    /// Empty or longer than [`MAX_BACKEND_UPLOAD_ID_BYTES`].
    BackendUploadId,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::BackendId => write!(f, "backend id must be 1..={MAX_BACKEND_ID_BYTES} bytes"),
            EncodeError::BackendUploadId => {
                write!(f, "backend upload id must be 1..={MAX_BACKEND_UPLOAD_ID_BYTES} bytes")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<EncodeError> for S3Error {
    fn from(_: EncodeError) -> Self {
        S3Error::new(S3ErrorCode::InternalError)
    }
}

/// Issues and checks upload ids (see the module docs).
pub struct UploadToken;

impl UploadToken {
    /// The token for the upload `backend_upload_id` on `backend_id`, valid
    /// only for `tenant`'s bucket `bucket_id` and `key`.
    pub fn encode(
        server_key: &[u8; 32],
        tenant: &str,
        bucket_id: u128,
        key: &str,
        backend_id: &str,
        backend_upload_id: &str,
    ) -> Result<String, EncodeError> {
        if backend_id.is_empty() || backend_id.len() > MAX_BACKEND_ID_BYTES {
            return Err(EncodeError::BackendId);
        }
        if backend_upload_id.is_empty() || backend_upload_id.len() > MAX_BACKEND_UPLOAD_ID_BYTES {
            return Err(EncodeError::BackendUploadId);
        }
        let mut payload = Vec::with_capacity(4 + backend_id.len() + backend_upload_id.len() + MAC_LEN);
        payload.push(TOKEN_VERSION);
        payload.push(backend_id.len() as u8); // bounded above
        payload.extend_from_slice(backend_id.as_bytes());
        payload.extend_from_slice(&(backend_upload_id.len() as u16).to_be_bytes()); // bounded above
        payload.extend_from_slice(backend_upload_id.as_bytes());
        let tag =
            mac(server_key, tenant, bucket_id, key, backend_id.as_bytes(), backend_upload_id.as_bytes());
        payload.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(payload))
    }

    /// `(backend_id, backend_upload_id)` of `token` if sluice issued it for
    /// this tenant, bucket and key; `NoSuchUpload` otherwise.
    pub fn decode(
        server_key: &[u8; 32],
        tenant: &str,
        bucket_id: u128,
        key: &str,
        token: &str,
    ) -> Result<(String, String), S3Error> {
        let no_such_upload = || S3Error::new(S3ErrorCode::NoSuchUpload);
        if !(MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&token.len()) {
            return Err(no_such_upload());
        }
        let payload = URL_SAFE_NO_PAD.decode(token).map_err(|_| no_such_upload())?;
        let (backend_id, upload_id, tag) = split(&payload).ok_or_else(no_such_upload)?;
        let expected = mac(server_key, tenant, bucket_id, key, backend_id, upload_id);
        if !bool::from(expected.ct_eq(tag)) {
            return Err(no_such_upload());
        }
        // Verified bytes were written from `&str`s; the checks cannot fail
        // unless the server key leaked.
        let backend_id = std::str::from_utf8(backend_id).map_err(|_| no_such_upload())?;
        let upload_id = std::str::from_utf8(upload_id).map_err(|_| no_such_upload())?;
        Ok((backend_id.to_owned(), upload_id.to_owned()))
    }
}

/// The fields of a payload: `(backend_id, backend_upload_id, mac)`, if the
/// layout is exactly right (version, non-empty bounded ids, nothing extra).
fn split(payload: &[u8]) -> Option<(&[u8], &[u8], &[u8; MAC_LEN])> {
    let (&version, rest) = payload.split_first()?;
    if version != TOKEN_VERSION {
        return None;
    }
    let (&id_len, rest) = rest.split_first()?;
    let id_len = usize::from(id_len);
    if id_len == 0 || id_len > MAX_BACKEND_ID_BYTES || rest.len() < id_len + 2 {
        return None;
    }
    let (backend_id, rest) = rest.split_at(id_len);
    let (len, rest) = rest.split_at(2);
    let upload_len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if upload_len == 0 || upload_len > MAX_BACKEND_UPLOAD_ID_BYTES || rest.len() != upload_len + MAC_LEN {
        return None;
    }
    let (upload_id, tag) = rest.split_at(upload_len);
    Some((backend_id, upload_id, tag.try_into().ok()?))
}

/// The truncated HMAC over every field, length-prefixed.
fn mac(
    server_key: &[u8; 32],
    tenant: &str,
    bucket_id: u128,
    key: &str,
    backend_id: &[u8],
    backend_upload_id: &[u8],
) -> [u8; MAC_LEN] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(server_key).expect("HMAC takes keys of any length");
    let mut field = |bytes: &[u8]| {
        // Every field is far below 4 GiB (request heads are 16 KiB).
        m.update(&(bytes.len() as u32).to_be_bytes());
        m.update(bytes);
    };
    field(MAC_LABEL);
    field(&[TOKEN_VERSION]);
    field(tenant.as_bytes());
    field(&bucket_id.to_be_bytes());
    field(key.as_bytes());
    field(backend_id);
    field(backend_upload_id);
    let full = m.finalize().into_bytes();
    let mut tag = [0u8; MAC_LEN];
    tag.copy_from_slice(&full[..MAC_LEN]);
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const TENANT: &str = "acme";
    const BUCKET: u128 = 0x0123_4567_89ab_cdef_0011_2233_4455_6677;
    const OBJECT: &str = "photos/2024/cat.jpg";
    const BACKEND: &str = "eu-1";
    const AWS_ID: &str = "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA";

    fn token() -> String {
        UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, BACKEND, AWS_ID).unwrap()
    }

    fn rejected(key: &[u8; 32], tenant: &str, bucket: u128, object: &str, token: &str) {
        let err = UploadToken::decode(key, tenant, bucket, object, token).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::NoSuchUpload, "{token:?}");
        assert_eq!(err.status(), 404);
    }

    #[test]
    fn round_trip() {
        let t = token();
        assert_eq!(
            UploadToken::decode(&KEY, TENANT, BUCKET, OBJECT, &t).unwrap(),
            (BACKEND.to_string(), AWS_ID.to_string())
        );
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{t}");
        // Deterministic: the same upload always has the same id.
        assert_eq!(t, token());
        // Unicode keys and odd backend ids.
        let key = "d\u{e9}j\u{e0}/\u{1F600} <&>\"'";
        let up = "2~x/+=.?&%20 \u{e9}";
        let t = UploadToken::encode(&KEY, "t", 0, key, "b.1_-", up).unwrap();
        assert_eq!(UploadToken::decode(&KEY, "t", 0, key, &t).unwrap(), ("b.1_-".into(), up.into()));
    }

    #[test]
    fn bounds() {
        let long_backend = "b".repeat(MAX_BACKEND_ID_BYTES);
        let long_id = "u".repeat(MAX_BACKEND_UPLOAD_ID_BYTES);
        let t = UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, &long_backend, &long_id).unwrap();
        assert_eq!(t.len(), MAX_TOKEN_LEN);
        assert!(UploadToken::decode(&KEY, TENANT, BUCKET, OBJECT, &t).is_ok());
        let t = UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, "b", "u").unwrap();
        assert_eq!(t.len(), MIN_TOKEN_LEN);
        assert!(UploadToken::decode(&KEY, TENANT, BUCKET, OBJECT, &t).is_ok());
        let too_long_backend = "b".repeat(MAX_BACKEND_ID_BYTES + 1);
        let too_long_id = "u".repeat(MAX_BACKEND_UPLOAD_ID_BYTES + 1);
        assert_eq!(
            UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, &too_long_backend, "u"),
            Err(EncodeError::BackendId)
        );
        assert_eq!(UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, "", "u"), Err(EncodeError::BackendId));
        assert_eq!(
            UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, "b", &too_long_id),
            Err(EncodeError::BackendUploadId)
        );
        assert_eq!(
            UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, "b", ""),
            Err(EncodeError::BackendUploadId)
        );
        assert_eq!(S3Error::from(EncodeError::BackendId).code, S3ErrorCode::InternalError);
    }

    #[test]
    fn every_altered_character_is_rejected() {
        let t = token();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..t.len() {
            for &c in alphabet.iter().step_by(7).chain(b"=+/ .%".iter()) {
                let mut bytes = t.clone().into_bytes();
                if bytes[i] == c {
                    continue;
                }
                bytes[i] = c;
                rejected(&KEY, TENANT, BUCKET, OBJECT, &String::from_utf8(bytes).unwrap());
            }
        }
    }

    #[test]
    fn every_flipped_payload_bit_is_rejected() {
        let payload = URL_SAFE_NO_PAD.decode(token()).unwrap();
        for i in 0..payload.len() {
            for bit in 0..8 {
                let mut p = payload.clone();
                p[i] ^= 1 << bit;
                rejected(&KEY, TENANT, BUCKET, OBJECT, &URL_SAFE_NO_PAD.encode(&p));
            }
        }
    }

    #[test]
    fn truncated_and_extended_tokens_are_rejected() {
        let t = token();
        for cut in 0..t.len() {
            rejected(&KEY, TENANT, BUCKET, OBJECT, &t[..cut]);
        }
        for extra in ["A", "AA", "AAAA", "=", "==", "%3D", " ", "\n"] {
            rejected(&KEY, TENANT, BUCKET, OBJECT, &format!("{t}{extra}"));
            rejected(&KEY, TENANT, BUCKET, OBJECT, &format!("{extra}{t}"));
        }
        // Extra payload bytes after a valid MAC.
        let mut p = URL_SAFE_NO_PAD.decode(&t).unwrap();
        p.push(0);
        rejected(&KEY, TENANT, BUCKET, OBJECT, &URL_SAFE_NO_PAD.encode(&p));
        // The standard alphabet or padding instead of base64url without padding.
        let p = URL_SAFE_NO_PAD.decode(&t).unwrap();
        let std = base64::engine::general_purpose::STANDARD.encode(&p);
        if std != t {
            rejected(&KEY, TENANT, BUCKET, OBJECT, &std);
        }
    }

    #[test]
    fn non_canonical_spelling_is_rejected() {
        // Payload lengths that leave spare bits in the last character.
        let t = UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, "b", "up").unwrap();
        assert_ne!(t.len() % 4, 0);
        let last = *t.as_bytes().last().unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&c| c == last).unwrap();
        // Same decoded bytes, different spare bits.
        let spare = if t.len() % 4 == 2 { 0b1111 } else { 0b11 };
        for s in 1..=spare {
            let mut b = t.clone().into_bytes();
            *b.last_mut().unwrap() = alphabet[(idx & !spare) | s];
            if b != t.as_bytes() {
                rejected(&KEY, TENANT, BUCKET, OBJECT, &String::from_utf8(b).unwrap());
            }
        }
    }

    #[test]
    fn other_tenant_bucket_key_or_server_key() {
        let t = token();
        rejected(&KEY, "acme2", BUCKET, OBJECT, &t);
        rejected(&KEY, "", BUCKET, OBJECT, &t);
        rejected(&KEY, TENANT, BUCKET + 1, OBJECT, &t);
        rejected(&KEY, TENANT, BUCKET ^ (1 << 127), OBJECT, &t);
        rejected(&KEY, TENANT, BUCKET, "photos/2024/cat.jpg ", &t);
        rejected(&KEY, TENANT, BUCKET, "photos/2024/Cat.jpg", &t);
        rejected(&KEY, TENANT, BUCKET, "", &t);
        let mut other = KEY;
        other[31] ^= 1;
        rejected(&other, TENANT, BUCKET, OBJECT, &t);
        rejected(&[0; 32], TENANT, BUCKET, OBJECT, &t);
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        // Moving bytes between tenant and key, or between the backend fields,
        // must change the MAC.
        let a = mac(&KEY, "ab", 1, "c", b"x", b"yz");
        assert_ne!(a, mac(&KEY, "a", 1, "bc", b"x", b"yz"));
        assert_ne!(a, mac(&KEY, "ab", 1, "c", b"xy", b"z"));
        assert_ne!(a, mac(&KEY, "ab", 1, "cx", b"", b"yz"));
    }

    #[test]
    fn other_backend_fields_are_rejected() {
        // Re-pointing a genuine token at another backend or upload id, MAC kept.
        let payload = URL_SAFE_NO_PAD.decode(token()).unwrap();
        let tag = &payload[payload.len() - MAC_LEN..];
        let forge = |backend: &str, upload: &str| {
            let mut p = vec![TOKEN_VERSION, backend.len() as u8];
            p.extend_from_slice(backend.as_bytes());
            p.extend_from_slice(&(upload.len() as u16).to_be_bytes());
            p.extend_from_slice(upload.as_bytes());
            p.extend_from_slice(tag);
            URL_SAFE_NO_PAD.encode(p)
        };
        assert!(UploadToken::decode(&KEY, TENANT, BUCKET, OBJECT, &forge(BACKEND, AWS_ID)).is_ok());
        rejected(&KEY, TENANT, BUCKET, OBJECT, &forge("us-1", AWS_ID));
        rejected(&KEY, TENANT, BUCKET, OBJECT, &forge(BACKEND, "another-upload"));
        // A token of another upload on the same key verifies only as that upload.
        let other = UploadToken::encode(&KEY, TENANT, BUCKET, OBJECT, "us-1", "u2").unwrap();
        assert_eq!(
            UploadToken::decode(&KEY, TENANT, BUCKET, OBJECT, &other).unwrap(),
            ("us-1".to_string(), "u2".to_string())
        );
        // Another version byte.
        let mut p = payload.clone();
        p[0] = TOKEN_VERSION + 1;
        rejected(&KEY, TENANT, BUCKET, OBJECT, &URL_SAFE_NO_PAD.encode(&p));
    }

    #[test]
    fn garbage_empty_and_too_long() {
        for g in ["", "x", "null", "VXBsb2FkIElE", "2~abcdef", "../../etc", "\u{e9}\u{e9}\u{e9}", "%00%00"] {
            rejected(&KEY, TENANT, BUCKET, OBJECT, g);
        }
        rejected(&KEY, TENANT, BUCKET, OBJECT, &AWS_ID.repeat(2));
        rejected(&KEY, TENANT, BUCKET, OBJECT, &"A".repeat(MAX_TOKEN_LEN + 1));
        rejected(&KEY, TENANT, BUCKET, OBJECT, &"A".repeat(1 << 20));
        // Well-formed layout, zero MAC.
        let mut p = vec![TOKEN_VERSION, 1, b'b', 0, 1, b'u'];
        p.extend_from_slice(&[0; MAC_LEN]);
        rejected(&KEY, TENANT, BUCKET, OBJECT, &URL_SAFE_NO_PAD.encode(&p));
        // Lengths claiming more than the payload holds, or zero.
        for bad in [[TOKEN_VERSION, 200, 0, 0], [TOKEN_VERSION, 0, 0, 1], [TOKEN_VERSION, 1, b'b', 0]] {
            let mut p = bad.to_vec();
            p.extend_from_slice(&[0xff; 20]);
            rejected(&KEY, TENANT, BUCKET, OBJECT, &URL_SAFE_NO_PAD.encode(&p));
        }
    }
}
