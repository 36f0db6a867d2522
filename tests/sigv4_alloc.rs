//! Proves the SigV4 hot path allocation free: after one warm-up call that
//! fills the signing-key cache and grows the scratch buffers, verifying a
//! typical header-auth PUT and a typical presigned GET performs zero heap
//! allocations.
//!
//! A counting `#[global_allocator]` wraps `std::alloc::System` and counts, per
//! thread, the allocations made while counting is switched on, so other test
//! threads cannot disturb the count.
//!
//! Spec of the requests: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.

// A GlobalAlloc impl is `unsafe` by definition; this file only forwards to System.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sluice::secret::Secret;
use sluice::sigv4::{
    AuthInput, OutboundRequest, SigV4Scratch, SigningKeyCache, VerifyCtx, detect, sign_headers, verify,
};
use sluice::time::{format_amz_date, parse_amz_date};

struct Counting;

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc() {
    // try_with: the thread-local may already be gone while a thread exits.
    let on = ENABLED.try_with(Cell::get).unwrap_or(false);
    if on {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// GlobalAlloc contract; the bookkeeping touches only const-initialised
// thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Number of allocations `f` makes on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    COUNT.with(|c| c.set(0));
    ENABLED.with(|e| e.set(true));
    let r = f();
    ENABLED.with(|e| e.set(false));
    (COUNT.with(Cell::get), r)
}

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";

#[test]
fn counter_sees_allocations() {
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert!(n >= 1, "the counting allocator must observe a Vec allocation");
    drop(v);
}

#[test]
fn warm_header_auth_put_allocates_nothing() {
    let now = parse_amz_date("20260301T120000Z").unwrap();
    let amz_date = format_amz_date(now);
    let payload = "UNSIGNED-PAYLOAD";
    let signed = "content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner";
    let mut headers = vec![
        httparse::Header { name: "Host", value: b"s3.sluice.example:9000" },
        httparse::Header { name: "User-Agent", value: b"aws-sdk-rust/1.3.0 os/linux lang/rust/1.85.0" },
        httparse::Header { name: "Content-Type", value: b"application/octet-stream" },
        httparse::Header { name: "Content-Length", value: b"1048576" },
        httparse::Header { name: "x-amz-content-sha256", value: payload.as_bytes() },
        httparse::Header { name: "x-amz-date", value: &amz_date },
        httparse::Header { name: "x-amz-meta-owner", value: b"team  data " },
        httparse::Header { name: "Expect", value: b"100-continue" },
    ];
    let path = "/photos/2026/03/01/IMG%200001.jpg";
    let query = "x-id=PutObject";
    let secret = Secret::new(SECRET);
    let mut authorization = Vec::new();
    {
        let out = OutboundRequest {
            method: "PUT",
            path,
            query,
            headers: &headers,
            signed_headers: signed,
            payload_hash: payload,
        };
        let (mut s, mut c) = (SigV4Scratch::new(), SigningKeyCache::new());
        sign_headers(&out, (AK, &secret), REGION, "s3", now, &mut s, &mut c, &mut authorization);
    }
    headers.push(httparse::Header { name: "Authorization", value: &authorization });

    let input = AuthInput { method: "PUT", path, query, headers: &headers };
    let ctx = VerifyCtx { region: REGION, now };
    let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
    let run = |scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache| {
        let auth = detect(&input).expect("detect");
        let v = verify(&input, &auth, &secret, 7, &ctx, scratch, cache).expect("verify");
        v.seed_signature[0]
    };
    run(&mut scratch, &mut cache); // warm-up: fills the cache
    let (n, _) = allocations(|| run(&mut scratch, &mut cache));
    assert_eq!(n, 0, "warm header-auth verification allocated {n} times");
    let (n, _) = allocations(|| (0..100).map(|_| run(&mut scratch, &mut cache)).count());
    assert_eq!(n, 0, "100 warm verifications allocated {n} times");
}

#[test]
fn warm_presigned_get_allocates_nothing() {
    // AWS's published presigned URL example.
    let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
        &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let headers = [
        httparse::Header { name: "Host", value: b"examplebucket.s3.amazonaws.com" },
        httparse::Header { name: "User-Agent", value: b"curl/8.5.0" },
        httparse::Header { name: "Accept", value: b"*/*" },
    ];
    let input = AuthInput { method: "GET", path: "/test.txt", query, headers: &headers };
    let ctx = VerifyCtx { region: REGION, now: parse_amz_date("20130524T010000Z").unwrap() };
    let secret = Secret::new(SECRET);
    let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
    let run = |scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache| {
        let auth = detect(&input).expect("detect");
        let v = verify(&input, &auth, &secret, 1, &ctx, scratch, cache).expect("verify");
        v.seed_signature[0]
    };
    run(&mut scratch, &mut cache);
    let (n, _) = allocations(|| run(&mut scratch, &mut cache));
    assert_eq!(n, 0, "warm presigned verification allocated {n} times");
}

#[test]
fn warm_failures_allocate_nothing_either() {
    // A wrong signature takes the raw-path retry too; still no allocation.
    let now = parse_amz_date("20260301T120000Z").unwrap();
    let amz_date = format_amz_date(now);
    let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260301/us-east-1/s3/aws4_request, \
        SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
        Signature=0000000000000000000000000000000000000000000000000000000000000000";
    let headers = [
        httparse::Header { name: "host", value: b"h" },
        httparse::Header { name: "x-amz-content-sha256", value: b"UNSIGNED-PAYLOAD" },
        httparse::Header { name: "x-amz-date", value: &amz_date },
        httparse::Header { name: "authorization", value: auth.as_bytes() },
    ];
    let input = AuthInput { method: "GET", path: "/b/a%2Fb", query: "", headers: &headers };
    let ctx = VerifyCtx { region: REGION, now };
    let secret = Secret::new(SECRET);
    let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
    let run = |scratch: &mut SigV4Scratch, cache: &mut SigningKeyCache| {
        let auth = detect(&input).expect("detect");
        verify(&input, &auth, &secret, 1, &ctx, scratch, cache).is_err()
    };
    assert!(run(&mut scratch, &mut cache));
    let (n, failed) = allocations(|| run(&mut scratch, &mut cache));
    assert!(failed);
    assert_eq!(n, 0, "warm failing verification allocated {n} times");
}
