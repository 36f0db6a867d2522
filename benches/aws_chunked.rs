//! aws-chunked benchmarks: decoding an 8 MiB body sent in 64 KiB chunks (the
//! chunk size of the Java, Go, Rust and JS SDKs) with chunk-signature
//! verification, the unsigned-trailer mode, and the raw throughput of the
//! checksums clients put in trailers (CRC32C, CRC64NVME, CRC32 via
//! `crc-fast`) next to SHA-256 (the cost floor of signed chunks).
//!
//! Run: `cargo bench --bench aws_chunked` (add `-- --quick` for a fast, noisy run).
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>.
//!
//! # Invariants
//! - Bodies are built once outside the timed loop; the decoder reads them in
//!   `BODY_CHUNK` pieces into one `BODY_CHUNK` output buffer, as the
//!   connection loop does.

use std::hint::black_box;

use crc_fast::CrcAlgorithm;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use sluice::http::aws_chunked::{AwsChunkedDecoder, AwsChunkedMode};
use sluice::http::limits::BODY_CHUNK;
use sluice::sigv4::chunk_signature::ChunkSigner;

/// Decoded size of the benchmarked body.
const BODY: usize = 8 * 1024 * 1024;

/// Chunk size of the benchmarked body.
const CHUNK: usize = 64 * 1024;

/// The declared trailer of the unsigned-trailer body.
const TRAILER: &str = "x-amz-checksum-crc32c";

fn signer() -> ChunkSigner {
    ChunkSigner::from_parts(&[7; 32], b"20260301T120000Z", "20260301", "us-east-1", &[9; 32])
}

fn data() -> Vec<u8> {
    (0..BODY).map(|i| (i * 31 % 251) as u8).collect()
}

/// `data` framed in `mode`, chunks signed by `signer()` in the signed modes.
fn encode(mode: AwsChunkedMode, data: &[u8]) -> Vec<u8> {
    let mut s = signer();
    let mut body = Vec::with_capacity(data.len() + data.len() / CHUNK * 100 + 200);
    let mut line = |body: &mut Vec<u8>, piece: &[u8]| {
        body.extend_from_slice(format!("{:x}", piece.len()).as_bytes());
        if mode == AwsChunkedMode::Signed {
            let sig = s.sign_chunk(&Sha256::digest(piece).into());
            body.extend_from_slice(format!(";chunk-signature={}", hex::encode(sig)).as_bytes());
        }
        body.extend_from_slice(b"\r\n");
    };
    for piece in data.chunks(CHUNK) {
        line(&mut body, piece);
        body.extend_from_slice(piece);
        body.extend_from_slice(b"\r\n");
    }
    line(&mut body, b"");
    if mode == AwsChunkedMode::UnsignedTrailer {
        body.extend_from_slice(format!("{TRAILER}:AAAAAA==\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

/// Decodes `body` whole, `BODY_CHUNK` bytes of input at a time.
fn decode(mut dec: AwsChunkedDecoder, body: &[u8], out: &mut Vec<u8>) -> u64 {
    let mut pos = 0;
    while !dec.is_done() {
        let end = (pos + BODY_CHUNK).min(body.len());
        out.clear();
        pos += dec.decode(&body[pos..end], out).expect("the bench body is valid");
        black_box(&out[..]);
    }
    dec.decoded_so_far()
}

fn bench_decode(c: &mut Criterion) {
    let data = data();
    let signed = encode(AwsChunkedMode::Signed, &data);
    let unsigned = encode(AwsChunkedMode::UnsignedTrailer, &data);
    let mut out = Vec::with_capacity(BODY_CHUNK);
    let mut group = c.benchmark_group("aws_chunked_8MiB_64KiB_chunks");
    group.throughput(Throughput::Bytes(BODY as u64));
    group.sample_size(20);
    group.bench_function("signed_verify", |b| {
        b.iter(|| {
            let dec = AwsChunkedDecoder::new(AwsChunkedMode::Signed, Some(signer()), BODY as u64, &[]);
            assert_eq!(decode(dec, black_box(&signed), &mut out), BODY as u64);
        })
    });
    group.bench_function("unsigned_trailer", |b| {
        b.iter(|| {
            let dec = AwsChunkedDecoder::new(AwsChunkedMode::UnsignedTrailer, None, BODY as u64, &[TRAILER]);
            assert_eq!(decode(dec, black_box(&unsigned), &mut out), BODY as u64);
        })
    });
    group.finish();
}

fn bench_checksums(c: &mut Criterion) {
    let data = data();
    let mut group = c.benchmark_group("checksum_8MiB");
    group.throughput(Throughput::Bytes(BODY as u64));
    group.sample_size(20);
    for (name, alg) in [
        ("crc32c", CrcAlgorithm::Crc32Iscsi),
        ("crc64nvme", CrcAlgorithm::Crc64Nvme),
        ("crc32", CrcAlgorithm::Crc32IsoHdlc),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut d = crc_fast::Digest::new(alg);
                d.update(black_box(&data));
                d.finalize()
            })
        });
    }
    group.bench_function("sha256", |b| b.iter(|| Sha256::digest(black_box(&data))));
    group.finish();
}

criterion_group!(benches, bench_decode, bench_checksums);
criterion_main!(benches);
