//! Fuzz target: arbitrary bytes as the query string of a presigned S3 GET,
//! through `sigv4::detect` (the presigned parser) and, when it parses, full
//! `sigv4::verify`.
//!
//! The bytes are made UTF-8 (lossily; a parsed request target is always a
//! `&str`) and tried twice: as the whole query, and after a valid
//! algorithm / credential / date prefix, so the fuzzer reaches expiry,
//! SignedHeaders, the canonical query and the signature check quickly. Every
//! outcome must be an `Ok` or a `SigV4Error`, never a panic.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run sigv4_presigned -- -max_total_time=60`.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use sluice::error::S3Error;
use sluice::secret::Secret;
use sluice::sigv4::{AuthInput, SigV4Scratch, SigningKeyCache, VerifyCtx, detect, verify};

const PREFIX: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
    &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
    &X-Amz-Date=20130524T000000Z&";
/// One hour after the X-Amz-Date of the prefix.
const NOW: i64 = 1_369_357_200;

fn run(query: &str, scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache) {
    let headers = [
        httparse::Header { name: "Host", value: b"examplebucket.s3.amazonaws.com" },
        httparse::Header { name: "x-amz-content-sha256", value: b"UNSIGNED-PAYLOAD" },
    ];
    let input = AuthInput { method: "GET", path: "/test.txt", query, headers: &headers };
    let auth = match detect(&input) {
        Ok(auth) => auth,
        Err(e) => {
            let _ = S3Error::from(e);
            return;
        }
    };
    let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let ctx = VerifyCtx { region: "us-east-1", now: NOW };
    if let Err(e) = verify(&input, &auth, &secret, 1, &ctx, scratch, cache) {
        let _ = S3Error::from(e);
    }
}

fn fuzz_one(data: &[u8], scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache) {
    let query = String::from_utf8_lossy(data);
    run(&query, scratch, cache);
    run(&format!("{PREFIX}{query}"), scratch, cache);
}

thread_local! {
    /// Per-core state as in the server, reused across inputs like a worker's.
    static STATE: RefCell<(SigV4Scratch, SigningKeyCache)> = RefCell::new(Default::default());
}

fuzz_target!(|data: &[u8]| {
    STATE.with_borrow_mut(|(scratch, cache)| fuzz_one(data, scratch, cache));
});
