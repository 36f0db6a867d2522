//! One test suite, run against both backend kinds: an S3 backend (a real
//! s3s-fs server) and a `file://` backend, under both drivers.

mod common;

use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use monoio::blocking::DefaultThreadPool;
use monoio::time::TimeDriver;
use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};
use sluice::backend::file::FileBackend;
use sluice::backend::pool::ConnPool;
use sluice::backend::s3::{S3Backend, S3Io, S3Target};
use sluice::backend::{
    AnyBackend, Backend, BodySource, ByteRange, CopyRequest, GetRequest, PutRequest, SliceSource,
};
use sluice::error::{S3Error, S3ErrorCode};
use sluice::secret::Secret;

fn block_on<F: Future>(driver: &str, f: F) -> F::Output {
    let pool = DefaultThreadPool::new(4);
    match driver {
        "uring" => RuntimeBuilder::<TimeDriver<IoUringDriver>>::new()
            .attach_thread_pool(Box::new(pool))
            .build()
            .unwrap()
            .block_on(f),
        _ => RuntimeBuilder::<TimeDriver<LegacyDriver>>::new()
            .attach_thread_pool(Box::new(pool))
            .build()
            .unwrap()
            .block_on(f),
    }
}

/// A body source that withholds its last chunk when it fails, as the client body does.
struct WithholdingSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BodySource for WithholdingSource<'_> {
    async fn next(&mut self, mut buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>) {
        buf.clear();
        let n = (self.data.len() - self.pos).min(buf.capacity().max(1));
        if self.pos + n == self.data.len() {
            return (Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch)), buf);
        }
        buf.extend_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        (Ok(n), buf)
    }
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

async fn read_all(
    backend: &AnyBackend,
    bucket: &str,
    key: &str,
    range: Option<ByteRange>,
) -> (u16, Vec<u8>, Vec<u8>) {
    let req = GetRequest { bucket, key, range, head_only: false, checksum_mode: false };
    let resp = backend.get_object(&req).await.unwrap();
    let mut body = resp.body;
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let (r, b) = body.read(buf).await;
        buf = b;
        let n = r.unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out.len() as u64, resp.head.content_length);
    (resp.head.status, out, resp.head.header_lines)
}

async fn suite(backend: AnyBackend) {
    let bucket = "sl-suite-bucket";
    backend.create_bucket(bucket).await.unwrap();
    backend.create_bucket(bucket).await.expect("create is idempotent");
    assert!(backend.bucket_is_empty(bucket).await.unwrap());

    let headers: &[(&str, &[u8])] = &[("Content-Type", b"text/x-suite"), ("x-amz-meta-color", b"green")];
    for size in [0usize, 1, 300 * 1024 + 7] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        let key = format!("dir/obj {size}");
        let put = PutRequest {
            bucket,
            key: &key,
            content_length: size as u64,
            headers,
            payload_sha256: None,
            forwarded: &[],
            part: None,
        };
        let out = backend.put_object(&put, &mut SliceSource::new(&data)).await.unwrap();
        let md5 = md5_hex(&data);
        assert_eq!(out.etag, format!("\"{md5}\""));
        let (status, got, lines) = read_all(&backend, bucket, &key, None).await;
        assert_eq!(status, 200);
        assert_eq!(got, data, "size {size}");
        let lines = String::from_utf8(lines).unwrap().to_ascii_lowercase();
        assert!(lines.contains("content-type: text/x-suite"), "{lines}");
        assert!(lines.contains("x-amz-meta-color: green"), "{lines}");
        assert!(lines.contains(&format!("etag: \"{md5}\"")), "{lines}");
        let head = backend
            .get_object(&GetRequest { bucket, key: &key, range: None, head_only: true, checksum_mode: false })
            .await
            .unwrap();
        assert_eq!(head.head.content_length, size as u64);
        assert_eq!(head.head.etag.as_deref(), Some(format!("\"{md5}\"").as_str()));
        assert!(head.head.last_modified.is_some());
    }
    assert!(!backend.bucket_is_empty(bucket).await.unwrap());

    // ranges
    let key = "dir/obj 307207";
    let full = read_all(&backend, bucket, key, None).await.1;
    for (range, lo, hi) in [
        (ByteRange::From { first: 5, last: Some(9) }, 5, 9),
        (ByteRange::From { first: 300_000, last: None }, 300_000, full.len() - 1),
        (ByteRange::Suffix(10), full.len() - 10, full.len() - 1),
        (ByteRange::From { first: 0, last: Some(10_000_000) }, 0, full.len() - 1),
    ] {
        let (status, got, lines) = read_all(&backend, bucket, key, Some(range)).await;
        assert_eq!(status, 206);
        assert_eq!(got, &full[lo..=hi]);
        let lines = String::from_utf8(lines).unwrap().to_ascii_lowercase();
        assert!(lines.contains(&format!("content-range: bytes {lo}-{hi}/{}", full.len())), "{lines}");
    }
    let bad = GetRequest {
        bucket,
        key,
        range: Some(ByteRange::From { first: 10_000_000, last: None }),
        head_only: false,
        checksum_mode: false,
    };
    let err = backend.get_object(&bad).await.err().unwrap();
    assert_eq!(S3Error::from(err).code, S3ErrorCode::InvalidRange);

    // missing keys
    let missing = GetRequest { bucket, key: "nope", range: None, head_only: false, checksum_mode: false };
    assert!(backend.get_object(&missing).await.err().unwrap().is_not_found());
    backend.delete_object(bucket, "nope").await.expect("deleting a missing key succeeds");

    // a body that fails its check (and so withholds its last bytes) leaves
    // nothing behind, even over an existing object
    for (key, old) in [("failing", None), ("dir/obj 1", Some(full.clone()))] {
        let data = vec![9u8; 200 * 1024];
        let put = PutRequest {
            bucket,
            key,
            content_length: data.len() as u64,
            headers: &[],
            payload_sha256: None,
            forwarded: &[],
            part: None,
        };
        let mut src = WithholdingSource { data: &data, pos: 0 };
        let err = backend.put_object(&put, &mut src).await.err().unwrap();
        assert_eq!(S3Error::from(err).code, S3ErrorCode::XAmzContentSHA256Mismatch);
        let after = backend
            .get_object(&GetRequest { bucket, key, range: None, head_only: true, checksum_mode: false })
            .await;
        match old {
            None => assert!(after.err().unwrap().is_not_found(), "{key}: no object may appear"),
            Some(_) => assert_eq!(after.unwrap().head.content_length, 1, "{key}: the old object stays"),
        }
    }

    // multipart: two parts (the first at the 5 MiB minimum), completed in order
    let a: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
    let b = b"tail bytes".to_vec();
    let upload = backend.create_multipart(bucket, "multi", headers).await.unwrap();
    let mut etags = Vec::new();
    for (n, data) in [(1u16, &a), (2, &b)] {
        let put = PutRequest {
            bucket,
            key: "multi",
            content_length: data.len() as u64,
            headers: &[],
            payload_sha256: None,
            forwarded: &[],
            part: Some(sluice::backend::PartTarget { upload_id: &upload, number: n }),
        };
        let out = backend.put_object(&put, &mut SliceSource::new(data)).await.unwrap();
        assert_eq!(out.etag, format!("\"{}\"", md5_hex(data)));
        etags.push((n, out.etag));
    }
    let etag = backend.complete_multipart(bucket, "multi", &upload, &etags).await.unwrap();
    let mut md5s = Vec::new();
    md5s.extend_from_slice(&hex::decode(md5_hex(&a)).unwrap());
    md5s.extend_from_slice(&hex::decode(md5_hex(&b)).unwrap());
    assert_eq!(etag.trim_matches('"'), format!("{}-2", md5_hex(&md5s)));
    let (_, got, lines) = read_all(&backend, bucket, "multi", None).await;
    assert_eq!(got.len(), a.len() + b.len());
    assert!(got[..a.len()] == a[..] && got[a.len()..] == b[..]);
    assert!(String::from_utf8(lines).unwrap().to_ascii_lowercase().contains("x-amz-meta-color: green"));
    // an aborted upload cannot be completed
    let upload = backend.create_multipart(bucket, "aborted", &[]).await.unwrap();
    backend.abort_multipart(bucket, "aborted", &upload).await.unwrap();
    assert!(backend.complete_multipart(bucket, "aborted", &upload, &[(1, "\"x\"".into())]).await.is_err());

    // server-side copies: COPY keeps the source headers, REPLACE sets new ones
    let copy = CopyRequest {
        src_bucket: bucket,
        src_key: "dir/obj 307207",
        dst_bucket: bucket,
        dst_key: "copied",
        replace: None,
        part: None,
        range: None,
    };
    let out = backend.copy_object(&copy).await.unwrap();
    assert_eq!(out.etag.trim_matches('"'), md5_hex(&full));
    let (_, got, lines) = read_all(&backend, bucket, "copied", None).await;
    assert_eq!(got, full);
    assert!(String::from_utf8(lines).unwrap().to_ascii_lowercase().contains("content-type: text/x-suite"));
    let replaced: &[(&str, &[u8])] = &[("Content-Type", b"image/png")];
    backend.copy_object(&CopyRequest { dst_key: "replaced", replace: Some(replaced), ..copy }).await.unwrap();
    let (_, got, lines) = read_all(&backend, bucket, "replaced", None).await;
    assert_eq!(got, full);
    let lines = String::from_utf8(lines).unwrap().to_ascii_lowercase();
    assert!(lines.contains("content-type: image/png") && !lines.contains("x-amz-meta-color"), "{lines}");
    // UploadPartCopy of a range, then a normal part
    let upload = backend.create_multipart(bucket, "from-copy", &[]).await.unwrap();
    let p1 = backend
        .copy_object(&CopyRequest {
            dst_key: "from-copy",
            part: Some(sluice::backend::PartTarget { upload_id: &upload, number: 1 }),
            range: Some((0, 99)),
            ..copy
        })
        .await
        .unwrap();
    assert_eq!(p1.etag.trim_matches('"'), md5_hex(&full[..100]));
    let etag = backend.complete_multipart(bucket, "from-copy", &upload, &[(1, p1.etag)]).await.unwrap();
    assert!(etag.trim_matches('"').ends_with("-1"));
    assert_eq!(read_all(&backend, bucket, "from-copy", None).await.1, &full[..100]);
    for key in ["multi", "copied", "replaced", "from-copy"] {
        backend.delete_object(bucket, key).await.unwrap();
    }

    // overwrite, delete
    let put = PutRequest {
        bucket,
        key: "over",
        content_length: 3,
        headers: &[],
        payload_sha256: None,
        forwarded: &[],
        part: None,
    };
    backend.put_object(&put, &mut SliceSource::new(b"one")).await.unwrap();
    backend.put_object(&put, &mut SliceSource::new(b"two")).await.unwrap();
    assert_eq!(read_all(&backend, bucket, "over", None).await.1, b"two");
    for key in ["over", "dir/obj 0", "dir/obj 1", "dir/obj 307207"] {
        backend.delete_object(bucket, key).await.unwrap();
        let gone = backend
            .get_object(&GetRequest { bucket, key, range: None, head_only: false, checksum_mode: false })
            .await;
        assert!(gone.err().unwrap().is_not_found(), "{key}");
    }
    assert!(backend.bucket_is_empty(bucket).await.unwrap());
    backend.delete_bucket(bucket).await.unwrap();
    backend.delete_bucket(bucket).await.expect("deleting a missing bucket succeeds");
}

fn s3_backend(server: &common::S3sFs) -> AnyBackend {
    let addr = format!("127.0.0.1:{}", server.port).parse().unwrap();
    let target = S3Target {
        id: server.id.clone(),
        host_header: format!("127.0.0.1:{}", server.port),
        access_key: server.access_key.clone(),
        secret: Secret::new(server.secret_key.clone()),
        signing_region: "us-east-1".into(),
        key_version: 1,
    };
    AnyBackend::S3(S3Backend::new(
        target,
        Rc::new(ConnPool::new(Some(addr))),
        Rc::new(S3Io::new(Duration::from_secs(10))),
    ))
}

#[test]
fn s3_backend_passes_the_suite() {
    for d in common::drivers() {
        let dir = tempfile::tempdir().unwrap();
        let server = common::S3sFs::start("suite", "r", dir.path());
        block_on(d, suite(s3_backend(&server)));
    }
}

#[test]
fn file_backend_passes_the_suite() {
    for d in common::drivers() {
        let dir = tempfile::tempdir().unwrap();
        block_on(d, suite(AnyBackend::File(FileBackend::new(dir.path().to_path_buf()))));
        // Nothing is left behind: no temporary or orphaned data files.
        let leftovers: Vec<_> = walk(dir.path());
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn s3_backend_reuses_pooled_connections_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = common::S3sFs::start("pool", "r", dir.path());
    let backend = s3_backend(&server);
    block_on(common::any_driver(), async {
        backend.create_bucket("sl-pool").await.unwrap();
        let put = PutRequest {
            bucket: "sl-pool",
            key: "k",
            content_length: 2,
            headers: &[],
            payload_sha256: None,
            forwarded: &[],
            part: None,
        };
        backend.put_object(&put, &mut SliceSource::new(b"hi")).await.unwrap();
    });
    // The backend restarts: pooled connections are dead; requests still work.
    server.restart();
    block_on(common::any_driver(), async {
        let (_, got, _) = read_all(&backend, "sl-pool", "k", None).await;
        assert_eq!(got, b"hi");
    });
    server.stop();
    block_on(common::any_driver(), async {
        let err = backend
            .get_object(&GetRequest {
                bucket: "sl-pool",
                key: "k",
                range: None,
                head_only: false,
                checksum_mode: false,
            })
            .await;
        let err = err.err().unwrap();
        assert!(err.is_failover(), "{err:?}");
        assert_eq!(S3Error::from(err).code, S3ErrorCode::ServiceUnavailable);
    });
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
