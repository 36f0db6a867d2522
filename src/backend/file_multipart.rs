//! Multipart uploads and server-side copies of the `file://` backend.
//!
//! Layout under a bucket directory:
//! ```text
//! u/<upload id>/upload.json     the object's key and stored headers
//! u/<upload id>/<n>.part        part n, renamed into place once written and synced
//! ```
//! Completing an upload concatenates the parts, in order, into a new data file
//! (checking each part's MD5 against the ETag the caller expects), then commits
//! it like a PUT: the multipart ETag is the MD5 of the parts' MD5s, `-N`.
//! A copy inside the backend hard-links the source's immutable data file.
//!
//! # Invariants
//! All file I/O runs on the blocking pool. A part or an object becomes visible
//! only by a rename after its bytes are synced.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::body::BodySource;
use super::error::BackendError;
use super::file::{
    FileBackend, StoredMeta, blocking, commit_meta, discard, locate, no_such_key, nonce, read_meta, storage,
    stored_headers, sync_dir, write_body,
};
use super::object::{CopyOutcome, CopyRequest, PartTarget, PutOutcome, PutRequest};
use crate::error::S3ErrorCode;

/// Directory of uploads inside a bucket directory.
const UPLOADS_DIR: &str = "u";
/// Buffer of the part concatenation and range copies.
const COPY_BUF: usize = 1024 * 1024;

/// `upload.json`.
#[derive(Debug, Serialize, Deserialize)]
struct UploadMeta {
    key: String,
    headers: Vec<(String, String)>,
}

fn no_such_upload() -> BackendError {
    BackendError::Status { status: 404, code: Some(S3ErrorCode::NoSuchUpload) }
}

fn invalid_part() -> BackendError {
    BackendError::Status { status: 400, code: Some(S3ErrorCode::InvalidPart) }
}

/// Upload ids are generated here: 32 hex digits, never a path.
fn upload_dir(bucket_dir: &Path, upload_id: &str) -> Result<PathBuf, BackendError> {
    if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(no_such_upload());
    }
    Ok(bucket_dir.join(UPLOADS_DIR).join(upload_id))
}

/// Copies `len` bytes from `src` into `dst`, returning their MD5.
fn copy_md5(src: &mut File, dst: &mut File, mut len: u64, buf: &mut [u8]) -> io::Result<[u8; 16]> {
    let mut md5 = Md5::new();
    while len > 0 {
        let want = (len as usize).min(buf.len());
        src.read_exact(&mut buf[..want])?;
        dst.write_all(&buf[..want])?;
        md5.update(&buf[..want]);
        len -= want as u64;
    }
    Ok(md5.finalize().into())
}

impl FileBackend {
    /// Starts an upload; returns its id.
    pub async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        headers: &[(&str, &[u8])],
    ) -> Result<String, BackendError> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|_| BackendError::Storage(io::ErrorKind::Other))?;
        let id = hex::encode(raw);
        let dir = upload_dir(&self.bucket_dir(bucket), &id)?;
        let meta = UploadMeta { key: key.to_string(), headers: stored_headers(headers) };
        blocking(move || {
            fs::create_dir_all(&dir).map_err(storage)?;
            let json =
                serde_json::to_vec(&meta).map_err(|_| BackendError::Storage(io::ErrorKind::InvalidData))?;
            let path = dir.join("upload.json");
            let mut f = File::create_new(&path).map_err(storage)?;
            f.write_all(&json).and_then(|_| f.sync_all()).map_err(storage)?;
            sync_dir(&dir).map_err(storage)
        })
        .await?;
        Ok(id)
    }

    /// UploadPart: the body becomes `<n>.part` of the upload.
    pub(super) async fn put_part<B: BodySource>(
        &self,
        put: &PutRequest<'_>,
        part: PartTarget<'_>,
        body: &mut B,
    ) -> Result<PutOutcome, BackendError> {
        let dir = upload_dir(&self.bucket_dir(put.bucket), part.upload_id)?;
        if !dir.join("upload.json").is_file() {
            return Err(no_such_upload());
        }
        let tmp = dir.join(format!("{}.{}.tmp", part.number, nonce()));
        let (file, md5) = write_body(tmp.clone(), body, put.content_length).await?;
        let final_path = dir.join(format!("{}.part", part.number));
        let t = tmp.clone();
        let committed = blocking(move || {
            file.sync_all().map_err(storage)?;
            fs::rename(&t, &final_path).map_err(storage)?;
            sync_dir(t.parent().unwrap_or(Path::new("."))).map_err(storage)
        })
        .await;
        match committed {
            Ok(()) => Ok(PutOutcome { etag: format!("\"{}\"", hex::encode(md5)) }),
            Err(e) => Err(discard(tmp, e).await),
        }
    }

    /// Concatenates the listed parts into the object. `parts` are (number,
    /// quoted ETag) in ascending order; a missing part or an ETag that does not
    /// match the part's MD5 is InvalidPart.
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u16, String)],
    ) -> Result<String, BackendError> {
        let bucket_dir = self.bucket_dir(bucket);
        let up = upload_dir(&bucket_dir, upload_id)?;
        let (dir, meta_path, hash) = locate(&bucket_dir, key);
        let parts = parts.to_vec();
        blocking(move || {
            let meta: UploadMeta = match fs::read(up.join("upload.json")) {
                Ok(b) => serde_json::from_slice(&b)
                    .map_err(|_| BackendError::Storage(io::ErrorKind::InvalidData))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(no_such_upload()),
                Err(e) => return Err(storage(e)),
            };
            fs::create_dir_all(&dir).map_err(storage)?;
            let data_name = format!("{hash}.{}.data", nonce());
            let data_path = dir.join(&data_name);
            let mut out = File::create_new(&data_path).map_err(storage)?;
            let mut buf = vec![0u8; COPY_BUF];
            let mut md5s = Md5::new();
            let mut size = 0u64;
            let result = (|| {
                for (n, etag) in &parts {
                    let mut part = File::open(up.join(format!("{n}.part"))).map_err(|_| invalid_part())?;
                    let len = part.metadata().map_err(storage)?.len();
                    let md5 = copy_md5(&mut part, &mut out, len, &mut buf).map_err(storage)?;
                    if etag.trim_matches('"') != hex::encode(md5) {
                        return Err(invalid_part());
                    }
                    md5s.update(md5);
                    size += len;
                }
                out.sync_all().map_err(storage)
            })();
            if let Err(e) = result {
                let _ = fs::remove_file(&data_path);
                return Err(e);
            }
            let etag = format!("\"{}-{}\"", hex::encode(md5s.finalize()), parts.len());
            let object = StoredMeta {
                key: meta.key,
                size,
                etag: etag.clone(),
                last_modified: crate::time::now_unix(),
                data: data_name,
                headers: meta.headers,
                checksum: None,
            };
            if let Err(e) = commit_meta(&dir, &meta_path, &hash, &object) {
                let _ = fs::remove_file(&data_path);
                return Err(e);
            }
            let _ = fs::remove_dir_all(&up);
            Ok(etag)
        })
        .await
    }

    /// Drops an upload and its parts; succeeds if it is already gone.
    pub async fn abort_multipart(
        &self,
        bucket: &str,
        _key: &str,
        upload_id: &str,
    ) -> Result<(), BackendError> {
        let up = upload_dir(&self.bucket_dir(bucket), upload_id)?;
        blocking(move || match fs::remove_dir_all(&up) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage(e)),
        })
        .await
    }

    /// CopyObject (hard link of the immutable data file plus new metadata) or
    /// UploadPartCopy (a byte range copied into a part file).
    pub async fn copy_object(&self, copy: &CopyRequest<'_>) -> Result<CopyOutcome, BackendError> {
        let (src_dir, src_meta_path, _) = locate(&self.bucket_dir(copy.src_bucket), copy.src_key);
        let dst_bucket_dir = self.bucket_dir(copy.dst_bucket);
        let (dst_dir, dst_meta_path, dst_hash) = locate(&dst_bucket_dir, copy.dst_key);
        let dst_key = copy.dst_key.to_string();
        let replace = copy.replace.map(stored_headers);
        let part = match copy.part {
            Some(p) => Some((upload_dir(&dst_bucket_dir, p.upload_id)?, p.number)),
            None => None,
        };
        let range = copy.range;
        blocking(move || {
            let src = read_meta(&src_meta_path)?.ok_or_else(no_such_key)?;
            let now = crate::time::now_unix();
            if let Some((up, number)) = part {
                if !up.join("upload.json").is_file() {
                    return Err(no_such_upload());
                }
                let (first, last) = match range {
                    Some((a, b)) if a <= b && b < src.size => (a, b),
                    Some(_) => {
                        return Err(BackendError::Status {
                            status: 416,
                            code: Some(S3ErrorCode::InvalidRange),
                        });
                    }
                    None if src.size == 0 => (0, 0),
                    None => (0, src.size - 1),
                };
                let len = if src.size == 0 { 0 } else { last - first + 1 };
                let mut input = File::open(src_dir.join(&src.data)).map_err(storage)?;
                input.seek(SeekFrom::Start(first)).map_err(storage)?;
                let tmp = up.join(format!("{number}.{}.tmp", nonce()));
                let mut out = File::create_new(&tmp).map_err(storage)?;
                let mut buf = vec![0u8; COPY_BUF];
                let md5 = copy_md5(&mut input, &mut out, len, &mut buf)
                    .and_then(|m| out.sync_all().map(|_| m))
                    .and_then(|m| fs::rename(&tmp, up.join(format!("{number}.part"))).map(|_| m));
                return match md5 {
                    Ok(m) => {
                        Ok(CopyOutcome { etag: format!("\"{}\"", hex::encode(m)), last_modified: Some(now) })
                    }
                    Err(e) => {
                        let _ = fs::remove_file(&tmp);
                        Err(storage(e))
                    }
                };
            }
            fs::create_dir_all(&dst_dir).map_err(storage)?;
            let data_name = format!("{dst_hash}.{}.data", nonce());
            let data_path = dst_dir.join(&data_name);
            fs::hard_link(src_dir.join(&src.data), &data_path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => no_such_key(),
                _ => storage(e),
            })?;
            let meta = StoredMeta {
                key: dst_key,
                size: src.size,
                etag: src.etag.clone(),
                last_modified: now,
                data: data_name,
                headers: replace.unwrap_or(src.headers),
                checksum: src.checksum.clone(),
            };
            if let Err(e) = commit_meta(&dst_dir, &dst_meta_path, &dst_hash, &meta) {
                let _ = fs::remove_file(&data_path);
                return Err(e);
            }
            Ok(CopyOutcome { etag: src.etag, last_modified: Some(now) })
        })
        .await
    }
}
