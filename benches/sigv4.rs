//! SigV4 benchmarks: verifying a typical S3 PUT (header auth) and a presigned
//! GET with a warm signing-key cache (target < 1 µs each), signing a backend
//! request, and deriving a signing key (the cost of a cache miss).
//!
//! Run: `cargo bench --bench sigv4` (add `-- --quick` for a fast, noisy run).
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sluice::secret::Secret;
use sluice::sigv4::{
    AuthInput, OutboundRequest, SigV4Scratch, SigningKeyCache, VerifyCtx, derive_signing_key, detect,
    sign_headers, verify,
};
use sluice::time::{format_amz_date, parse_amz_date};

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const PAYLOAD: &str = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
const SIGNED: &str = "content-length;content-type;host;x-amz-content-sha256;x-amz-date";

fn bench_verify_put(c: &mut Criterion) {
    let now = parse_amz_date("20260301T120000Z").unwrap();
    let amz_date = format_amz_date(now);
    let mut headers = vec![
        httparse::Header { name: "Host", value: b"s3.sluice.example:9000" },
        httparse::Header {
            name: "User-Agent",
            value: b"aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 botocore/2.4.5",
        },
        httparse::Header { name: "Content-Type", value: b"application/octet-stream" },
        httparse::Header { name: "Content-Length", value: b"1048576" },
        httparse::Header { name: "x-amz-content-sha256", value: PAYLOAD.as_bytes() },
        httparse::Header { name: "x-amz-date", value: &amz_date },
        httparse::Header { name: "Expect", value: b"100-continue" },
    ];
    let path = "/my-bucket/datasets/2026/03/01/part-00042.parquet";
    let secret = Secret::new(SECRET);
    let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
    let mut authorization = Vec::new();
    let out = OutboundRequest {
        method: "PUT",
        path,
        query: "",
        headers: &headers,
        signed_headers: SIGNED,
        payload_hash: PAYLOAD,
    };
    sign_headers(&out, (AK, &secret), REGION, "s3", now, &mut scratch, &mut cache, &mut authorization);
    headers.push(httparse::Header { name: "Authorization", value: &authorization });
    let input = AuthInput { method: "PUT", path, query: "", headers: &headers };
    let ctx = VerifyCtx { region: REGION, now };

    c.bench_function("sigv4/verify_put_header_auth_warm", |b| {
        b.iter(|| {
            let input = black_box(&input);
            let auth = detect(input).unwrap();
            let v = verify(input, &auth, &secret, 1, &ctx, &mut scratch, &mut cache).unwrap();
            black_box(v.seed_signature[0])
        })
    });

    c.bench_function("sigv4/detect_put_header_auth", |b| {
        b.iter(|| {
            let auth = detect(black_box(&input)).unwrap();
            black_box(auth.access_key().map(str::len))
        })
    });
    let auth = detect(&input).unwrap();
    c.bench_function("sigv4/verify_only_put_header_auth_warm", |b| {
        b.iter(|| {
            let v = verify(black_box(&input), black_box(&auth), &secret, 1, &ctx, &mut scratch, &mut cache)
                .unwrap();
            black_box(v.seed_signature[0])
        })
    });

    let sign_headers_list = &headers[..headers.len() - 1];
    let out = OutboundRequest {
        method: "PUT",
        path,
        query: "",
        headers: sign_headers_list,
        signed_headers: SIGNED,
        payload_hash: PAYLOAD,
    };
    let mut out_authorization = Vec::with_capacity(256);
    c.bench_function("sigv4/sign_headers_backend_put_warm", |b| {
        b.iter(|| {
            let out = black_box(&out);
            sign_headers(
                out,
                (AK, &secret),
                REGION,
                "s3",
                now,
                &mut scratch,
                &mut cache,
                &mut out_authorization,
            );
            black_box(out_authorization.len())
        })
    });
}

fn bench_verify_presigned(c: &mut Criterion) {
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
    c.bench_function("sigv4/verify_presigned_get_warm", |b| {
        b.iter(|| {
            let input = black_box(&input);
            let auth = detect(input).unwrap();
            let v = verify(input, &auth, &secret, 1, &ctx, &mut scratch, &mut cache).unwrap();
            black_box(v.seed_signature[0])
        })
    });
}

fn bench_derive(c: &mut Criterion) {
    let secret = Secret::new(SECRET);
    c.bench_function("sigv4/derive_signing_key_cache_miss", |b| {
        b.iter(|| derive_signing_key(&secret, black_box("20260301"), REGION, "s3"))
    });
}

criterion_group!(benches, bench_verify_put, bench_verify_presigned, bench_derive);
criterion_main!(benches);
