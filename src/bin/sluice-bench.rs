//! `sluice-bench`: an S3 load generator for end-to-end measurements, used to
//! compare sluice with a backend reached directly (same tool, same requests,
//! one run). It signs with SigV4 (sluice's own signer), keeps connections
//! alive, and generates bodies on the fly so a 1 GiB object needs no 1 GiB
//! buffer.
//!
//! ```text
//! sluice-bench put --endpoint http://127.0.0.1:9000 --access-key AK --secret-key SK \
//!     --bucket b --size 1073741824 --count 1 --concurrency 1 --mode chunked-signed
//! sluice-bench get ... (same flags; reads the keys the put wrote)
//! ```
//! Output: one JSON line (bytes, seconds, MiB/s, requests/s, latency
//! percentiles). Modes: `unsigned` (UNSIGNED-PAYLOAD), `sha256` (signed
//! payload hash), `chunked-signed` (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
//! 64 KiB chunks).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use sha2::{Digest, Sha256};
use sluice::secret::Secret;
use sluice::sigv4::{
    ChunkSigner, OutboundRequest, SigV4Scratch, SigningKeyCache, derive_signing_key, sign_headers,
};

/// Size of the repeating block bodies are made of.
const BLOCK: usize = 1024 * 1024;
/// aws-chunked chunk size (what the AWS SDKs use).
const AWS_CHUNK: usize = 64 * 1024;
/// `;chunk-signature=` plus 64 hex digits.
const CHUNK_SIG_LEN: usize = 17 + 64;
/// Socket buffer for reading responses.
const READ_BUF: usize = 256 * 1024;

#[derive(Parser)]
#[command(name = "sluice-bench", about = "S3 load generator for end-to-end benchmarks")]
struct Cli {
    /// put or get
    op: Op,
    #[arg(long)]
    endpoint: String,
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key: String,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY")]
    secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long)]
    bucket: String,
    /// Key prefix; objects are `<prefix><n>`.
    #[arg(long, default_value = "bench/obj-")]
    prefix: String,
    /// Object size in bytes.
    #[arg(long, default_value_t = 4096)]
    size: u64,
    /// Objects in total.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Parallel connections.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    #[arg(long, value_enum, default_value_t = Mode::Unsigned)]
    mode: Mode,
}

#[derive(Clone, Copy, ValueEnum)]
enum Op {
    Put,
    Get,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Mode {
    Unsigned,
    Sha256,
    ChunkedSigned,
}

struct Target {
    host: String,
    addr: std::net::SocketAddr,
    access_key: String,
    secret: Secret,
    region: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rest = cli.endpoint.strip_prefix("http://").context("--endpoint must be http://host:port")?;
    let host = rest.trim_end_matches('/').to_string();
    let addr = host.to_socket_addrs()?.next().context("cannot resolve the endpoint")?;
    let target = Arc::new(Target {
        host,
        addr,
        access_key: cli.access_key.clone(),
        secret: Secret::new(cli.secret_key.clone()),
        region: cli.region.clone(),
    });
    let block: Arc<Vec<u8>> =
        Arc::new((0..BLOCK).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let cli = Arc::new(cli);
    let started = Instant::now();
    let workers: Vec<_> = (0..cli.concurrency.max(1))
        .map(|_| {
            let (target, block, next, cli) = (target.clone(), block.clone(), next.clone(), cli.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut conn = Conn::open(&target)?;
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cli.count {
                        return Ok(latencies);
                    }
                    let key = format!("{}{i}", cli.prefix);
                    let t = Instant::now();
                    match cli.op {
                        Op::Put => conn.put(&target, &cli.bucket, &key, cli.size, cli.mode, &block)?,
                        Op::Get => conn.get(&target, &cli.bucket, &key, cli.size)?,
                    }
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.join().map_err(|_| anyhow::anyhow!("a worker panicked"))??);
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;
    let bytes = cli.size * cli.count as u64;
    println!(
        "{{\"op\":\"{}\",\"count\":{},\"size\":{},\"concurrency\":{},\"seconds\":{secs:.3},\"mib_per_s\":{:.1},\"req_per_s\":{:.1},\"p50_ms\":{:.2},\"p99_ms\":{:.2}}}",
        match cli.op {
            Op::Put => "put",
            Op::Get => "get",
        },
        cli.count,
        cli.size,
        cli.concurrency,
        bytes as f64 / secs / (1024.0 * 1024.0),
        cli.count as f64 / secs,
        pct(0.5),
        pct(0.99),
    );
    Ok(())
}

/// One keep-alive connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    scratch: SigV4Scratch,
    cache: SigningKeyCache,
}

impl Conn {
    fn open(t: &Target) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(t.addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Conn {
            stream,
            buf: vec![0; READ_BUF],
            scratch: SigV4Scratch::new(),
            cache: SigningKeyCache::new(),
        })
    }

    /// Signs and writes a request head.
    fn head(
        &mut self,
        t: &Target,
        method: &str,
        path: &str,
        extra: &[(&str, String)],
        payload: &str,
    ) -> anyhow::Result<(i64, String)> {
        let now = sluice::time::now_unix();
        let date = String::from_utf8(sluice::time::format_amz_date(now).to_vec())?;
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), t.host.clone()),
            ("x-amz-content-sha256".into(), payload.to_string()),
            ("x-amz-date".into(), date),
        ];
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.clone())));
        headers.sort();
        let signed: Vec<&str> =
            headers.iter().map(|(n, _)| n.as_str()).filter(|n| *n != "content-length").collect();
        let signed = signed.join(";");
        let hdrs: Vec<httparse::Header<'_>> =
            headers.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect();
        let req = OutboundRequest {
            method,
            path,
            query: "",
            headers: &hdrs,
            signed_headers: &signed,
            payload_hash: payload,
        };
        let mut auth = Vec::new();
        sign_headers(
            &req,
            (&t.access_key, &t.secret),
            &t.region,
            "s3",
            now,
            &mut self.scratch,
            &mut self.cache,
            &mut auth,
        );
        let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
        for (n, v) in &headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"authorization: ");
        out.extend_from_slice(&auth);
        out.extend_from_slice(b"\r\n\r\n");
        self.stream.write_all(&out)?;
        let auth = String::from_utf8(auth)?;
        let seed = auth.rsplit("Signature=").next().unwrap_or_default().to_string();
        Ok((now, seed))
    }

    fn put(
        &mut self,
        t: &Target,
        bucket: &str,
        key: &str,
        size: u64,
        mode: Mode,
        block: &[u8],
    ) -> anyhow::Result<()> {
        let path = format!("/{bucket}/{key}");
        match mode {
            Mode::Unsigned | Mode::Sha256 => {
                let payload = if mode == Mode::Sha256 {
                    let mut h = Sha256::new();
                    for_each_piece(size, block, BLOCK, |p| h.update(p));
                    hex::encode(h.finalize())
                } else {
                    "UNSIGNED-PAYLOAD".to_string()
                };
                self.head(t, "PUT", &path, &[("content-length", size.to_string())], &payload)?;
                let mut err = None;
                for_each_piece(size, block, BLOCK, |p| {
                    if err.is_none() {
                        err = self.stream.write_all(p).err();
                    }
                });
                if let Some(e) = err {
                    return Err(e.into());
                }
            }
            Mode::ChunkedSigned => {
                let chunks = size.div_ceil(AWS_CHUNK as u64);
                let mut encoded = 0u64;
                let mut left = size;
                for _ in 0..chunks {
                    let n = left.min(AWS_CHUNK as u64);
                    encoded += format!("{n:x}").len() as u64 + CHUNK_SIG_LEN as u64 + 2 + n + 2;
                    left -= n;
                }
                encoded += 1 + CHUNK_SIG_LEN as u64 + 4; // "0;chunk-signature=...\r\n\r\n"
                let extra = [
                    ("content-encoding", "aws-chunked".to_string()),
                    ("content-length", encoded.to_string()),
                    ("x-amz-decoded-content-length", size.to_string()),
                ];
                let (now, seed) = self.head(t, "PUT", &path, &extra, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")?;
                let amz_date = sluice::time::format_amz_date(now);
                let date = std::str::from_utf8(&amz_date[..8])?;
                let key = derive_signing_key(&t.secret, date, &t.region, "s3");
                let mut seed_bytes = [0u8; 32];
                hex::decode_to_slice(&seed, &mut seed_bytes)?;
                let mut signer = ChunkSigner::from_parts(&key, &amz_date, date, &t.region, &seed_bytes);
                let mut left = size;
                let mut out = Vec::with_capacity(AWS_CHUNK + 128);
                loop {
                    let n = left.min(AWS_CHUNK as u64) as usize;
                    let data = &block[..n];
                    let sig = signer.sign_chunk(&Sha256::digest(data).into());
                    out.clear();
                    out.extend_from_slice(
                        format!("{n:x};chunk-signature={}\r\n", hex::encode(sig)).as_bytes(),
                    );
                    out.extend_from_slice(data);
                    out.extend_from_slice(b"\r\n");
                    if n == 0 {
                        self.stream.write_all(&out)?;
                        break;
                    }
                    self.stream.write_all(&out)?;
                    left -= n as u64;
                }
            }
        }
        let status = self.read_response(false)?;
        if status != 200 {
            bail!("PUT {path}: HTTP {status}");
        }
        Ok(())
    }

    fn get(&mut self, t: &Target, bucket: &str, key: &str, size: u64) -> anyhow::Result<()> {
        let path = format!("/{bucket}/{key}");
        self.head(t, "GET", &path, &[], sluice::sigv4::EMPTY_SHA256_HEX)?;
        let status = self.read_response(true)?;
        if status != 200 {
            bail!("GET {path}: HTTP {status}");
        }
        let _ = size;
        Ok(())
    }

    /// Reads a response head and its Content-Length body (discarded).
    fn read_response(&mut self, expect_body: bool) -> anyhow::Result<u16> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if self.stream.read(&mut byte)? == 0 {
                bail!("connection closed");
            }
            head.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&head);
        let status: u16 = text.get(9..12).and_then(|s| s.parse().ok()).context("bad status line")?;
        let len: u64 = text
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
            })
            .unwrap_or(0);
        let mut left = len;
        while left > 0 {
            let want = (left as usize).min(self.buf.len());
            let n = self.stream.read(&mut self.buf[..want])?;
            if n == 0 {
                bail!("connection closed mid-body");
            }
            left -= n as u64;
        }
        let _ = expect_body;
        Ok(status)
    }
}

/// Calls `f` with consecutive pieces of a `size`-byte body made of `block`.
fn for_each_piece(size: u64, block: &[u8], piece: usize, mut f: impl FnMut(&[u8])) {
    let mut left = size;
    while left > 0 {
        let n = (left as usize).min(piece).min(block.len());
        f(&block[..n]);
        left -= n as u64;
    }
}
