//! Fuzz target: arbitrary bytes as the `Authorization` header of a fixed S3
//! request, through `sigv4::detect` and, when it parses, full `sigv4::verify`.
//!
//! Each input is tried twice: as the whole header value, and after a valid
//! `AWS4-HMAC-SHA256 Credential=.../aws4_request, ` prefix, so the fuzzer
//! reaches SignedHeaders, the canonical request and the signature check
//! without having to discover the credential format first. Every outcome must
//! be an `Ok` or a `SigV4Error` that maps to an S3 error, never a panic.
//!
//! The parser's fast path for the SDK form must agree with its general path:
//! every UTF-8 value parses as it does behind a leading space, which the
//! fast path refuses and the general one trims.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run sigv4_auth -- -max_total_time=60`.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use sluice::error::S3Error;
use sluice::secret::Secret;
use sluice::sigv4::{
    AuthInput, AuthKind, AuthorizationV4, SigV4Scratch, SigningKeyCache, VerifyCtx, detect, verify,
};

const PREFIX: &[u8] =
    b"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ";
const DATE: &str = "20130524T000000Z";
/// 2013-05-24T00:00:00Z.
const NOW: i64 = 1_369_353_600;

fn run(value: &[u8], scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache) {
    if let Ok(text) = std::str::from_utf8(value) {
        let spaced = format!(" {text}");
        assert_eq!(AuthorizationV4::parse(text), AuthorizationV4::parse(&spaced), "{text:?}");
    }
    let headers = [
        httparse::Header { name: "Host", value: b"examplebucket.s3.amazonaws.com" },
        httparse::Header { name: "Range", value: b"bytes=0-9" },
        httparse::Header { name: "x-amz-content-sha256", value: b"UNSIGNED-PAYLOAD" },
        httparse::Header { name: "x-amz-date", value: DATE.as_bytes() },
        httparse::Header { name: "x-amz-meta-a", value: b"  b   c " },
        httparse::Header { name: "Authorization", value },
    ];
    let input =
        AuthInput { method: "PUT", path: "/b/a%2Fb/%zz/\u{e9}", query: "acl&b=1&a", headers: &headers };
    let auth = match detect(&input) {
        Ok(auth) => auth,
        Err(e) => {
            let _ = S3Error::from(e);
            return;
        }
    };
    assert!(matches!(auth, AuthKind::Header(_)), "an Authorization header is header auth");
    let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let ctx = VerifyCtx { region: "us-east-1", now: NOW };
    if let Err(e) = verify(&input, &auth, &secret, 1, &ctx, scratch, cache) {
        let _ = S3Error::from(e);
    }
}

fn fuzz_one(data: &[u8], scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache) {
    run(data, scratch, cache);
    let mut prefixed = PREFIX.to_vec();
    prefixed.extend_from_slice(data);
    run(&prefixed, scratch, cache);
}

thread_local! {
    /// Per-core state as in the server, reused across inputs like a worker's.
    static STATE: RefCell<(SigV4Scratch, SigningKeyCache)> = RefCell::new(Default::default());
}

fuzz_target!(|data: &[u8]| {
    STATE.with_borrow_mut(|(scratch, cache)| fuzz_one(data, scratch, cache));
});
