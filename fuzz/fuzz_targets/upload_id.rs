//! Fuzz target: upload ids (`sluice::s3::multipart::UploadToken`).
//!
//! Every input is tried two ways:
//! - as a token (made UTF-8) decoded for a fixed tenant, bucket and key: no
//!   panic, `NoSuchUpload` on failure, and a token that does verify must be
//!   exactly the one `encode` issues for what it decodes to;
//! - split at `0xff` bytes into tenant, key, backend id and backend upload id
//!   (the first 16 bytes are the bucket id): an issued token is base64url of
//!   at most `MAX_TOKEN_LEN` characters, decodes to the same backend fields,
//!   and is refused for another tenant, bucket, key or server key, or with
//!   one character changed.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run upload_id -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::error::S3ErrorCode;
use sluice::s3::multipart::UploadToken;
use sluice::s3::multipart::upload_id::MAX_TOKEN_LEN;

const KEY: [u8; 32] = [0x5a; 32];

fn refused(key: &[u8; 32], tenant: &str, bucket: u128, object: &str, token: &str) {
    let err = UploadToken::decode(key, tenant, bucket, object, token).expect_err("forgery accepted");
    assert_eq!(err.code, S3ErrorCode::NoSuchUpload);
}

fuzz_target!(|data: &[u8]| {
    // 1. Arbitrary text as a token.
    let token = String::from_utf8_lossy(data);
    match UploadToken::decode(&KEY, "tenant", 7, "key", &token) {
        Ok((backend, upload)) => {
            let issued = UploadToken::encode(&KEY, "tenant", 7, "key", &backend, &upload).unwrap();
            assert_eq!(issued, token);
        }
        Err(e) => assert_eq!(e.code, S3ErrorCode::NoSuchUpload),
    }

    // 2. Arbitrary fields through encode and decode.
    let (bucket, rest) = if data.len() >= 16 { data.split_at(16) } else { (&[][..], data) };
    let bucket = bucket.iter().fold(0u128, |b, &x| (b << 8) | u128::from(x));
    let mut fields = rest.split(|&b| b == 0xff).map(String::from_utf8_lossy);
    let (Some(tenant), Some(object), Some(backend), Some(upload)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return;
    };
    let Ok(token) = UploadToken::encode(&KEY, &tenant, bucket, &object, &backend, &upload) else {
        return;
    };
    assert!(token.len() <= MAX_TOKEN_LEN);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
    let (b, u) = UploadToken::decode(&KEY, &tenant, bucket, &object, &token).expect("issued token verifies");
    assert_eq!((b.as_str(), u.as_str()), (&*backend, &*upload));
    refused(&KEY, &format!("{tenant}x"), bucket, &object, &token);
    refused(&KEY, &tenant, bucket ^ 1, &object, &token);
    refused(&KEY, &tenant, bucket, &format!("{object}x"), &token);
    let mut other = KEY;
    other[0] ^= 1;
    refused(&other, &tenant, bucket, &object, &token);
    let i = usize::from(data[0]) % token.len();
    let mut altered = token.clone().into_bytes();
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    refused(&KEY, &tenant, bucket, &object, std::str::from_utf8(&altered).unwrap());
});
