//! Fuzz target: arbitrary bytes as an aws-chunked body, in the three modes.
//!
//! Input layout: byte 0 picks the mode, the output capacity and whether a
//! trailer is declared; byte 1 the split point; bytes 2-3 the
//! `x-amz-decoded-content-length`; the rest is the body, fed in two pieces.
//! Every outcome must be `Ok` or an `AwsChunkedError` that maps to an S3
//! error, never a panic; `out` never grows past its capacity, the decoded
//! length never exceeds the declared one and the captured trailers stay
//! within their limits.
//!
//! The same bytes are also framed as a valid body (signed with the fuzz
//! signer when the mode is signed, chunk sizes from byte 0) and must decode
//! back to themselves: a round trip that reaches the signature checks the
//! fuzzer cannot forge.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run aws_chunked -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::error::S3Error;
use sluice::http::aws_chunked::{
    AwsChunkedDecoder, AwsChunkedMode, MAX_AWS_TRAILER_BYTES, MAX_AWS_TRAILER_FIELDS,
};
use sluice::s3::integrity::ChecksumAlgorithm;
use sluice::sigv4::chunk_signature::ChunkSigner;

const MODES: [AwsChunkedMode; 3] =
    [AwsChunkedMode::Signed, AwsChunkedMode::SignedTrailer, AwsChunkedMode::UnsignedTrailer];
const CAPS: [usize; 4] = [1, 7, 64, 4096];
const TRAILER: &str = "x-amz-checksum-crc32";

fn signer() -> ChunkSigner {
    ChunkSigner::from_parts(&[1; 32], b"20130524T000000Z", "20130524", "us-east-1", &[2; 32])
}

fn decoder(mode: AwsChunkedMode, decoded_len: u64, expected: &[&str]) -> AwsChunkedDecoder {
    AwsChunkedDecoder::new(mode, mode.is_signed().then(signer), decoded_len, expected)
}

/// Feeds `pieces` with an output of `cap` bytes; returns the data or the error.
fn run(mut dec: AwsChunkedDecoder, pieces: [&[u8]; 2], cap: usize, decoded_len: u64) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut out = Vec::with_capacity(cap);
    for piece in pieces {
        let mut pos = 0;
        while pos < piece.len() && !dec.is_done() {
            out.clear();
            match dec.decode(&piece[pos..], &mut out) {
                Ok(used) => {
                    assert!(used <= piece.len() - pos);
                    assert!(out.len() <= cap, "out grew past its capacity");
                    assert!(used > 0 || !out.is_empty() || dec.is_done(), "no progress");
                    pos += used;
                    data.extend_from_slice(&out);
                }
                Err(e) => {
                    let _ = S3Error::from(e);
                    // errors are sticky
                    assert_eq!(dec.decode(b"0\r\n\r\n", &mut out), Err(e));
                    return None;
                }
            }
            assert!(dec.decoded_so_far() <= decoded_len);
            assert_eq!(dec.decoded_so_far(), data.len() as u64);
            assert!(dec.trailers().len() <= MAX_AWS_TRAILER_FIELDS);
            let trailer_bytes: usize = dec.trailers().iter().map(|(n, v)| n.len() + v.len()).sum();
            assert!(trailer_bytes <= MAX_AWS_TRAILER_BYTES);
        }
    }
    match dec.finish() {
        Ok(()) => {
            assert_eq!(data.len() as u64, decoded_len);
            Some(data)
        }
        Err(e) => {
            let _ = S3Error::from(e);
            None
        }
    }
}

/// SHA-256 through sluice's own hasher (the fuzz crate has no `sha2`).
fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = ChecksumAlgorithm::Sha256.hasher();
    h.update(data);
    h.finish().try_into().expect("32 bytes")
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `data` as a valid body of `mode`, in chunks of `chunk` bytes.
fn encode(mode: AwsChunkedMode, data: &[u8], chunk: usize, trailer: bool) -> Vec<u8> {
    let mut s = signer();
    let mut body = Vec::new();
    let mut line = |body: &mut Vec<u8>, piece: &[u8]| {
        body.extend_from_slice(format!("{:x}", piece.len()).as_bytes());
        if mode.is_signed() {
            let sig = s.sign_chunk(&sha256(piece));
            body.extend_from_slice(format!(";chunk-signature={}", hex(&sig)).as_bytes());
        }
        body.extend_from_slice(b"\r\n");
    };
    for piece in data.chunks(chunk) {
        line(&mut body, piece);
        body.extend_from_slice(piece);
        body.extend_from_slice(b"\r\n");
    }
    line(&mut body, b"");
    let canonical = format!("{TRAILER}:AAAAAA==\n");
    if trailer {
        body.extend_from_slice(format!("{TRAILER}:AAAAAA==\r\n").as_bytes());
    }
    if mode == AwsChunkedMode::SignedTrailer {
        let hashed: &[u8] = if trailer { canonical.as_bytes() } else { b"" };
        let sig = s.sign_trailer(&sha256(hashed));
        body.extend_from_slice(format!("x-amz-trailer-signature:{}\r\n", hex(&sig)).as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

fuzz_target!(|input: &[u8]| {
    let [ctl, split, len_lo, len_hi, body @ ..] = input else { return };
    let mode = MODES[usize::from(ctl % 3)];
    let cap = CAPS[usize::from(ctl >> 2 & 3)];
    let declare = ctl & 0x10 != 0 && mode.has_trailer();
    let expected: &[&str] = if declare { &[TRAILER] } else { &[] };
    let decoded_len = u64::from(u16::from_le_bytes([*len_lo, *len_hi]));
    let at = usize::from(*split) * body.len() / 255;
    let (a, b) = body.split_at(at.min(body.len()));

    // Arbitrary bytes: no panic, bounded, whatever the split.
    let whole = run(decoder(mode, decoded_len, expected), [body, &[]], cap, decoded_len);
    let in_two = run(decoder(mode, decoded_len, expected), [a, b], cap, decoded_len);
    assert_eq!(whole, in_two, "the split point changed the result");

    // Round trip of the same bytes framed correctly.
    let chunk = usize::from(ctl >> 5) * 9 + 1;
    let framed = encode(mode, body, chunk, declare);
    let (a, b) = framed.split_at(usize::from(*split) * framed.len() / 255);
    let back = run(decoder(mode, body.len() as u64, expected), [a, b], cap, body.len() as u64);
    assert_eq!(back.as_deref(), Some(body), "a valid body must decode to its data");
});
