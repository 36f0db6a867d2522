//! Criterion bench: parsing a typical S3 PUT request head (target < 300 ns).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use sluice::http::{HeadStatus, header_storage, parse_head};

/// A PUT as boto3 sends it (header names and sizes as seen on the wire).
const PUT_HEAD: &[u8] = b"PUT /logs/2026/11/29/ingest-000123.json HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\
Accept-Encoding: identity\r\n\
Content-Type: application/json\r\n\
User-Agent: Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18 md/arch#x86_64 lang/python#3.11.7 cfg/retry-mode#legacy Botocore/1.43.11\r\n\
Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\n\
Expect: 100-continue\r\n\
X-Amz-Date: 20261129T031500Z\r\n\
X-Amz-Content-SHA256: UNSIGNED-PAYLOAD\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=AKACME/20261129/us-east-1/s3/aws4_request, SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\r\n\
amz-sdk-invocation-id: 3f1f2c7e-9a4b-4d8e-b1c2-7e5f0a9d8c6b\r\n\
amz-sdk-request: attempt=1\r\n\
Content-Length: 4096\r\n\
\r\n";

fn bench(c: &mut Criterion) {
    c.bench_function("parse_head/s3_put", |b| {
        b.iter(|| {
            let mut storage = header_storage();
            match parse_head(black_box(PUT_HEAD), &mut storage) {
                Ok(HeadStatus::Complete { head, head_len }) => {
                    black_box((head.content_length(), head_len));
                }
                _ => unreachable!("the bench head is complete"),
            }
        })
    });
}

/// httparse alone on the same head: the floor sluice's parser builds on.
fn baseline(c: &mut Criterion) {
    c.bench_function("parse_head/httparse_only", |b| {
        b.iter(|| {
            let mut storage = header_storage();
            let mut req = httparse::Request::new(&mut []);
            black_box(req.parse_with_uninit_headers(black_box(PUT_HEAD), &mut storage).is_ok());
        })
    });
}

criterion_group!(benches, bench, baseline);
criterion_main!(benches);
