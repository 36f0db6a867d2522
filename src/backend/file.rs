//! The `file://` backend kind: objects in a local directory, the embedded default.
//!
//! Layout under the backend root:
//! ```text
//! <physical bucket>/o/<hh>/<sha256(key)>.meta               JSON: key, size, ETag, headers, data file
//! <physical bucket>/o/<hh>/<sha256(key)>.<nonce>.data        the bytes
//! ```
//! A PUT writes a new data file under a fresh name, fsyncs it, then writes the
//! metadata to a temporary file, fsyncs it and renames it over `<hash>.meta`
//! (the commit point), fsyncs the directory and removes the previous data
//! file. A crash leaves either the old or the new object, never a mix; at worst
//! an unreferenced data file remains. Keys are hashed into file names, so no key
//! can escape the bucket directory. The ETag is the MD5 of the bytes.
//!
//! # Invariants
//! - Every blocking call (open, write, fsync, rename, read) runs on the blocking
//!   thread pool through `monoio::spawn_blocking`, never on an event loop.
//! - A body that fails verification is never committed: its data file is removed.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::body::{BodySource, ObjectBody};
use super::error::BackendError;
use super::object::{GetRequest, ObjectHead, ObjectResponse, PutOutcome, PutRequest};
use crate::error::S3ErrorCode;
use crate::http::date::http_date_from_unix;
use crate::http::limits::BODY_CHUNK;
use crate::s3::listing::page::{BackendPage, ObjectEntry};
use crate::s3::listing::reference::list_sorted;

/// Directory of object files inside a bucket directory.
const OBJECTS_DIR: &str = "o";
/// Times a GET re-reads the metadata when a concurrent overwrite removed the
/// data file it pointed to.
const READ_RETRIES: usize = 3;

/// The metadata file of one object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoredMeta {
    pub(super) key: String,
    pub(super) size: u64,
    /// Quoted MD5 hex.
    pub(super) etag: String,
    pub(super) last_modified: i64,
    /// File name of the data file in the same directory.
    pub(super) data: String,
    /// Stored headers (lowercase name, value).
    pub(super) headers: Vec<(String, String)>,
    /// The verified checksum (`x-amz-checksum-*` header name, base64 value).
    #[serde(default)]
    pub(super) checksum: Option<(String, String)>,
}

/// A `file://` backend rooted at a directory.
pub struct FileBackend {
    root: PathBuf,
}

/// Runs blocking work on the blocking pool.
pub(super) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, BackendError> + Send + 'static,
) -> Result<R, BackendError> {
    match monoio::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => Err(BackendError::Storage(io::ErrorKind::Other)),
    }
}

pub(super) fn storage(e: io::Error) -> BackendError {
    BackendError::Storage(e.kind())
}

pub(super) fn no_such_key() -> BackendError {
    BackendError::Status { status: 404, code: Some(S3ErrorCode::NoSuchKey) }
}

pub(super) fn nonce() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    hex::encode(b)
}

/// Where an object's files live: (directory, metadata path, hash).
pub(super) fn locate(bucket_dir: &Path, key: &str) -> (PathBuf, PathBuf, String) {
    let hash = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    let dir = bucket_dir.join(OBJECTS_DIR).join(&hash[..2]);
    let meta = dir.join(format!("{hash}.meta"));
    (dir, meta, hash)
}

pub(super) fn read_meta(path: &Path) -> Result<Option<StoredMeta>, BackendError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| BackendError::Storage(io::ErrorKind::InvalidData)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage(e)),
    }
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl FileBackend {
    pub fn new(root: PathBuf) -> Self {
        FileBackend { root }
    }

    pub(super) fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    pub async fn create_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        let dir = self.bucket_dir(bucket).join(OBJECTS_DIR);
        blocking(move || fs::create_dir_all(&dir).map_err(storage)).await
    }

    /// Active health check: the root directory is reachable.
    pub async fn probe(&self) -> Result<(), BackendError> {
        let root = self.root.clone();
        blocking(move || match fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(BackendError::Storage(io::ErrorKind::NotADirectory)),
            Err(e) => Err(storage(e)),
        })
        .await
    }

    pub async fn bucket_is_empty(&self, bucket: &str) -> Result<bool, BackendError> {
        let dir = self.bucket_dir(bucket).join(OBJECTS_DIR);
        blocking(move || {
            let fanout = match fs::read_dir(&dir) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
                Err(e) => return Err(storage(e)),
            };
            for sub in fanout {
                let sub = sub.map_err(storage)?;
                for entry in fs::read_dir(sub.path()).map_err(storage)? {
                    let name = entry.map_err(storage)?.file_name();
                    if name.to_string_lossy().ends_with(".meta") {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        })
        .await
    }

    /// One listing call: every metadata file of the bucket is read and the
    /// reference listing semantics applied. O(objects) per call: fine for the
    /// embedded default, not for buckets of millions of objects.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<BackendPage, BackendError> {
        let dir = self.bucket_dir(bucket).join(OBJECTS_DIR);
        let (prefix, delimiter, start_after) =
            (prefix.to_string(), delimiter.map(str::to_string), start_after.to_string());
        blocking(move || {
            let mut objects = BTreeMap::new();
            let fanout = match fs::read_dir(&dir) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BackendPage::default()),
                Err(e) => return Err(storage(e)),
            };
            for sub in fanout {
                let sub = sub.map_err(storage)?;
                let Ok(entries) = fs::read_dir(sub.path()) else { continue };
                for entry in entries.flatten() {
                    if !entry.file_name().to_string_lossy().ends_with(".meta") {
                        continue;
                    }
                    let Some(meta) = read_meta(&entry.path()).ok().flatten() else { continue };
                    if !meta.key.starts_with(&prefix) {
                        continue;
                    }
                    let modified = crate::time::format_iso8601(meta.last_modified);
                    let object = ObjectEntry {
                        key: meta.key.clone(),
                        last_modified: String::from_utf8_lossy(&modified).into_owned(),
                        etag: meta.etag,
                        size: meta.size,
                        storage_class: "STANDARD".to_string(),
                    };
                    objects.insert(meta.key, object);
                }
            }
            Ok(list_sorted(&objects, &prefix, delimiter.as_deref(), &start_after, max_keys))
        })
        .await
    }

    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        if !self.bucket_is_empty(bucket).await? {
            return Err(BackendError::Status { status: 409, code: Some(S3ErrorCode::BucketNotEmpty) });
        }
        let dir = self.bucket_dir(bucket);
        blocking(move || match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage(e)),
        })
        .await
    }

    pub async fn put_object<B: BodySource>(
        &self,
        put: &PutRequest<'_>,
        body: &mut B,
    ) -> Result<PutOutcome, BackendError> {
        if let Some(part) = put.part {
            return self.put_part(put, part, body).await;
        }
        let (dir, meta_path, hash) = locate(&self.bucket_dir(put.bucket), put.key);
        let data_name = format!("{hash}.{}.data", nonce());
        let data_path = dir.join(&data_name);
        let (file, md5) = write_body(data_path.clone(), body, put.content_length).await?;
        let etag = format!("\"{}\"", hex::encode(md5));
        let meta = StoredMeta {
            key: put.key.to_string(),
            size: put.content_length,
            etag: etag.clone(),
            last_modified: crate::time::now_unix(),
            data: data_name,
            headers: stored_headers(put.headers),
            checksum: body.checksum().map(|(n, v)| (n.to_string(), v)),
        };
        let committed = blocking(move || {
            file.sync_all().map_err(storage)?;
            drop(file);
            commit_meta(&dir, &meta_path, &hash, &meta)
        })
        .await;
        match committed {
            Ok(()) => Ok(PutOutcome { etag }),
            Err(e) => Err(discard(data_path, e).await),
        }
    }

    pub async fn get_object(&self, get: &GetRequest<'_>) -> Result<ObjectResponse, BackendError> {
        let (dir, meta_path, _) = locate(&self.bucket_dir(get.bucket), get.key);
        let (range, head_only) = (get.range, get.head_only);
        let (meta, file, span) = blocking(move || {
            for _ in 0..READ_RETRIES {
                let meta = read_meta(&meta_path)?.ok_or_else(no_such_key)?;
                let span = match range {
                    None => None,
                    Some(r) => Some(r.resolve(meta.size).ok_or(BackendError::Status {
                        status: 416,
                        code: Some(S3ErrorCode::InvalidRange),
                    })?),
                };
                if head_only {
                    return Ok((meta, None, span));
                }
                match File::open(dir.join(&meta.data)) {
                    Ok(mut f) => {
                        if let Some((first, _)) = span {
                            f.seek(SeekFrom::Start(first)).map_err(storage)?;
                        }
                        return Ok((meta, Some(f), span));
                    }
                    // Overwritten between the two reads: read the new metadata.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(storage(e)),
                }
            }
            Err(BackendError::Storage(io::ErrorKind::NotFound))
        })
        .await?;
        Ok(object_response(&meta, file, span, head_only, get.checksum_mode))
    }

    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackendError> {
        let (dir, meta_path, _) = locate(&self.bucket_dir(bucket), key);
        blocking(move || {
            let Some(meta) = read_meta(&meta_path)? else { return Ok(()) };
            match fs::remove_file(&meta_path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(storage(e)),
            }
            let _ = sync_dir(&dir);
            let _ = fs::remove_file(dir.join(meta.data));
            Ok(())
        })
        .await
    }
}

/// Streams a verified body into a new file at `path` (its directory is
/// created). Pulls the first chunk before creating anything, so an empty body
/// that fails verification leaves no trace; on any failure the file is
/// removed. Returns the (unsynced) file and the MD5 of the bytes.
pub(super) async fn write_body<B: BodySource>(
    path: PathBuf,
    body: &mut B,
    expected: u64,
) -> Result<(File, [u8; 16]), BackendError> {
    let (r, mut chunk) = body.next(Vec::with_capacity(BODY_CHUNK)).await;
    let mut n = r.map_err(BackendError::Source)?;
    let p = path.clone();
    let mut file = blocking(move || {
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(storage)?;
        }
        File::create_new(&p).map_err(storage)
    })
    .await?;
    let mut md5 = Md5::new();
    let mut size: u64 = 0;
    while n > 0 {
        let written = blocking(move || {
            file.write_all(&chunk).map_err(storage)?;
            md5.update(&chunk);
            Ok((file, md5, chunk))
        })
        .await;
        (file, md5, chunk) = match written {
            Ok(v) => v,
            Err(e) => return Err(discard(path, e).await),
        };
        size += n as u64;
        let (r, c) = body.next(chunk).await;
        chunk = c;
        n = match r {
            Ok(n) => n,
            Err(e) => return Err(discard(path, BackendError::Source(e)).await),
        };
    }
    if size != expected {
        return Err(discard(path, BackendError::Source(S3ErrorCode::IncompleteBody.into())).await);
    }
    Ok((file, md5.finalize().into()))
}

/// Stored headers as kept in the metadata file (lowercase names).
pub(super) fn stored_headers(headers: &[(&str, &[u8])]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), String::from_utf8_lossy(v).into_owned())).collect()
}

/// Makes `meta` (whose data file is written and synced) the object: writes the
/// metadata to a temporary file, syncs it, renames it over `meta_path` (the
/// commit point), syncs the directory and removes the previous data file.
/// Blocking: call on the blocking pool.
pub(super) fn commit_meta(
    dir: &Path,
    meta_path: &Path,
    hash: &str,
    meta: &StoredMeta,
) -> Result<(), BackendError> {
    let old = read_meta(meta_path).ok().flatten();
    let tmp = dir.join(format!("{hash}.meta.{}.tmp", nonce()));
    let json = serde_json::to_vec(meta).map_err(|_| BackendError::Storage(io::ErrorKind::InvalidData))?;
    let mut f = File::create_new(&tmp).map_err(storage)?;
    f.write_all(&json).and_then(|_| f.sync_all()).map_err(storage)?;
    fs::rename(&tmp, meta_path).map_err(storage)?;
    sync_dir(dir).map_err(storage)?;
    if let Some(old) = old
        && old.data != meta.data
    {
        let _ = fs::remove_file(dir.join(old.data));
    }
    Ok(())
}

/// Removes an uncommitted data file and passes the error on.
pub(super) async fn discard(path: PathBuf, err: BackendError) -> BackendError {
    let _ = blocking(move || {
        let _ = fs::remove_file(&path);
        Ok(())
    })
    .await;
    err
}

fn object_response(
    meta: &StoredMeta,
    file: Option<File>,
    span: Option<(u64, u64)>,
    head_only: bool,
    checksum_mode: bool,
) -> ObjectResponse {
    let mut lines = Vec::with_capacity(256);
    let mut line = |name: &str, value: &str| {
        if !value.bytes().any(|b| b == b'\r' || b == b'\n') {
            lines.extend_from_slice(name.as_bytes());
            lines.extend_from_slice(b": ");
            lines.extend_from_slice(value.as_bytes());
            lines.extend_from_slice(b"\r\n");
        }
    };
    for (n, v) in &meta.headers {
        line(n, v);
    }
    line("ETag", &meta.etag);
    line("Last-Modified", &http_date_from_unix(meta.last_modified));
    line("Accept-Ranges", "bytes");
    if let Some((name, value)) = meta.checksum.as_ref().filter(|_| checksum_mode && span.is_none()) {
        line(name, value);
    }
    let (status, len) = match span {
        Some((first, last)) => {
            line("Content-Range", &format!("bytes {first}-{last}/{}", meta.size));
            (206, last - first + 1)
        }
        None => (200, meta.size),
    };
    let head = ObjectHead {
        status,
        content_length: len,
        etag: Some(meta.etag.clone()),
        last_modified: Some(meta.last_modified),
        header_lines: lines,
    };
    let body = match file {
        Some(file) if !head_only => ObjectBody::File(FileBody { file: Some(file), remaining: len }),
        _ => ObjectBody::Empty,
    };
    ObjectResponse { head, body }
}

/// A file backend object body, read on the blocking pool.
pub struct FileBody {
    file: Option<File>,
    remaining: u64,
}

impl FileBody {
    pub async fn read(&mut self, mut buf: Vec<u8>) -> (Result<usize, BackendError>, Vec<u8>) {
        buf.clear();
        let want = self.remaining.min(buf.capacity() as u64) as usize;
        let Some(mut file) = self.file.take().filter(|_| want > 0) else {
            return (Ok(0), buf);
        };
        let res = monoio::spawn_blocking(move || {
            buf.resize(want, 0);
            let mut filled = 0;
            while filled < want {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        buf.truncate(filled);
                        return (Err(storage(e)), file, buf);
                    }
                }
            }
            buf.truncate(filled);
            (Ok(filled), file, buf)
        })
        .await;
        match res {
            Ok((Ok(0), _, buf)) => (Err(BackendError::Storage(io::ErrorKind::UnexpectedEof)), buf),
            Ok((Ok(n), file, buf)) => {
                self.remaining -= n as u64;
                self.file = Some(file);
                (Ok(n), buf)
            }
            Ok((Err(e), _, buf)) => (Err(e), buf),
            Err(_) => (Err(BackendError::Storage(io::ErrorKind::Other)), Vec::with_capacity(BODY_CHUNK)),
        }
    }
}
