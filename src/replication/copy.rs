//! Making one target match a task: copy a version there (Put) or remove the
//! key from it (Delete), then verify.
//!
//! A Put first asks the target (HEAD): if it already holds the version (same
//! logical ETag and size) nothing is copied. Otherwise the source is streamed
//! into the target through bounded buffers: one PUT for objects up to
//! `replication.multipart_threshold_mb`, a multipart upload above it whose
//! progress is saved in the task after every part, so a restarted worker
//! resumes from the parts already copied.
//!
//! The logical ETag: a copy whose backend ETag cannot equal the source's (a
//! large object copied in parts, or a multipart source whose part sizes are
//! unknown) carries the source's ETag in the reserved user metadata
//! `x-amz-meta-sluice-etag`; sluice reports and compares that instead (see
//! [`logical_etag`]). A multipart source whose part sizes are known (uploaded
//! through sluice) is copied with the same parts, so the ETags are equal.

use crate::backend::object::{is_stored_header, stored_headers_from_lines};
use crate::backend::{
    AnyBackend, Backend, BackendError, BodySource, ByteRange, GetRequest, ObjectBody, ObjectHead, PartTarget,
    PutRequest,
};
use crate::error::{S3Error, S3ErrorCode};

use super::task::{CopyProgress, Task};

/// User metadata carrying the logical ETag of a copy whose own ETag differs.
pub const SLUICE_ETAG_HEADER: &str = "x-amz-meta-sluice-etag";
/// Prefix of the user metadata sluice reserves for itself.
pub const RESERVED_META_PREFIX: &str = "x-amz-meta-sluice-";

/// The ETag clients see for an object head: the reserved metadata if present.
pub fn logical_etag(head: &ObjectHead) -> Option<String> {
    sluice_etag_line(&head.header_lines).or_else(|| head.etag.clone())
}

fn sluice_etag_line(lines: &[u8]) -> Option<String> {
    lines.split(|&c| c == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&c| c == b':')?;
        let name = std::str::from_utf8(&line[..colon]).ok()?.trim();
        if !name.eq_ignore_ascii_case(SLUICE_ETAG_HEADER) {
            return None;
        }
        std::str::from_utf8(&line[colon + 1..]).ok().map(|v| v.trim().to_string())
    })
}

/// Why a target could not be made to match.
#[derive(Debug)]
pub enum CopyError {
    /// The target (or the backend a call was made to) failed (retry later).
    Backend(BackendError),
    /// Reading the source failed (retry later; says nothing of the target).
    Source(BackendError),
    /// The source no longer holds the task's version.
    SourceChanged,
    /// What landed does not match (retry).
    Verify,
    /// The task was superseded while copying (stop, do not retry).
    Superseded,
    /// The bytes read from the source do not match the object's record (a
    /// damaged or changed copy): nothing was written; another source is needed.
    SourceCorrupt,
}

impl std::fmt::Display for CopyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CopyError::Backend(e) => write!(f, "backend: {e:?}"),
            CopyError::Source(e) => write!(f, "reading the source: {e:?}"),
            CopyError::SourceChanged => f.write_str("the source no longer holds this version"),
            CopyError::Verify => f.write_str("the copy does not match the source version"),
            CopyError::Superseded => f.write_str("superseded by a newer write"),
            CopyError::SourceCorrupt => f.write_str("the source's bytes do not match the object's record"),
        }
    }
}

impl From<BackendError> for CopyError {
    fn from(e: BackendError) -> Self {
        CopyError::Backend(e)
    }
}

/// Sizes of a copy: one PUT up to `threshold`, parts of `part_size` above.
#[derive(Debug, Clone, Copy)]
pub struct CopyLimits {
    pub threshold: u64,
    pub part_size: u64,
}

/// HEAD of the task's key on `backend`; None when it has no such object.
async fn head_of_key(backend: &AnyBackend, task: &Task) -> Result<Option<ObjectHead>, BackendError> {
    let req = GetRequest {
        bucket: &task.physical,
        key: &task.key,
        range: None,
        head_only: true,
        checksum_mode: false,
    };
    match backend.get_object(&req).await {
        Ok(resp) => Ok(Some(resp.head)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `backend` holds `task`'s version of the key.
pub async fn holds_version(backend: &AnyBackend, task: &Task) -> Result<bool, BackendError> {
    Ok(head_of_key(backend, task).await?.is_some_and(|head| {
        head.content_length == task.version.size
            && logical_etag(&head).as_deref() == Some(task.version.etag.as_str())
    }))
}

/// Whether `backend` has no object under the key.
pub async fn lacks_key(backend: &AnyBackend, task: &Task) -> Result<bool, BackendError> {
    Ok(head_of_key(backend, task).await?.is_none())
}

/// A source body as the body of a PUT to a target. Its CRC-64/NVME is
/// computed as it streams; with `expect`, the final bytes are handed out only
/// when it matches the object's record, so a damaged or changed source copy
/// never completes a PUT on the target.
struct SourceBody {
    body: ObjectBody,
    remaining: u64,
    copied: u64,
    crc: crc_fast::Digest,
    expect: Option<u64>,
    /// The bytes did not match `expect`.
    corrupt: bool,
}

impl SourceBody {
    fn new(body: ObjectBody, len: u64, expect: Option<u64>) -> Self {
        SourceBody {
            body,
            remaining: len,
            copied: 0,
            crc: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
            expect,
            corrupt: false,
        }
    }
}

impl BodySource for SourceBody {
    async fn next(&mut self, buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>) {
        let (r, buf) = self.body.read(buf).await;
        match r {
            Ok(0) if self.remaining > 0 => (Err(S3Error::new(S3ErrorCode::IncompleteBody)), buf),
            Ok(n) => {
                self.remaining = self.remaining.saturating_sub(n as u64);
                self.copied += n as u64;
                self.crc.update(&buf[..n]);
                if self.remaining == 0
                    && n > 0
                    && let Some(expect) = self.expect
                    && self.crc.finalize() != expect
                {
                    self.corrupt = true;
                    return (Err(S3Error::new(S3ErrorCode::BadDigest)), buf);
                }
                (Ok(n), buf)
            }
            Err(e) => (Err(S3Error::from(e)), buf),
        }
    }
}

/// The `x-amz-checksum-*` header a replica PUT carries, so the target
/// verifies what it received and keeps the object's checksum: the client's
/// own checksum when it sent one, else sluice's CRC-64/NVME.
fn checksum_header(task: &Task) -> Option<(String, Vec<u8>)> {
    use base64::Engine;
    if let Some((name, value)) = &task.version.checksum {
        return Some((name.clone(), value.as_bytes().to_vec()));
    }
    let crc = task.version.crc64?;
    let value = base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes());
    Some(("x-amz-checksum-crc64nvme".to_string(), value.into_bytes()))
}

/// Headers the copy stores: the source's stored headers (its own sluice
/// metadata dropped), plus the logical ETag when the copy's ETag will differ.
fn copy_headers(source: &ObjectHead, task: &Task, etag_will_differ: bool) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = stored_headers_from_lines(&source.header_lines)
        .into_iter()
        .filter(|(n, _)| !n.starts_with(RESERVED_META_PREFIX) && is_stored_header(n))
        .collect();
    if etag_will_differ {
        headers.push((SLUICE_ETAG_HEADER.to_string(), task.version.etag.as_bytes().to_vec()));
    }
    headers
}

/// Reads `range` of the source and writes it to `target` (as the object, or
/// as a part); with `expect`, the whole object's bytes must have that CRC.
/// Returns (ETag, bytes copied, CRC-64/NVME of the bytes read).
async fn stream(
    source: &AnyBackend,
    target: &AnyBackend,
    task: &Task,
    range: Option<(u64, u64)>,
    headers: &[(&str, &[u8])],
    part: Option<PartTarget<'_>>,
    expect: Option<u64>,
) -> Result<(String, u64, u64), CopyError> {
    let get = GetRequest {
        bucket: &task.physical,
        key: &task.key,
        range: range.map(|(a, b)| ByteRange::From { first: a, last: Some(b) }),
        head_only: false,
        checksum_mode: false,
    };
    let resp = source.get_object(&get).await.map_err(CopyError::Source)?;
    if logical_etag(&resp.head).as_deref() != Some(task.version.etag.as_str()) {
        return Err(CopyError::SourceChanged);
    }
    let len = resp.head.content_length;
    let mut body = SourceBody::new(resp.body, len, expect);
    let put = PutRequest {
        bucket: &task.physical,
        key: &task.key,
        content_length: len,
        headers,
        payload_sha256: None,
        forwarded: &[],
        part,
    };
    let out = match target.put_object(&put, &mut body).await {
        Ok(out) => out,
        Err(_) if body.corrupt => return Err(CopyError::SourceCorrupt),
        Err(e) => return Err(e.into()),
    };
    Ok((out.etag, body.copied, body.crc.finalize()))
}

/// Copies the task's version from `source` to `target` (id `target_id`).
/// `save` persists the task's multipart progress; it returns false when the
/// task was superseded. Returns the bytes copied.
pub async fn copy_version<F, Fut>(
    source: &AnyBackend,
    target: &AnyBackend,
    target_id: &str,
    task: &mut Task,
    limits: CopyLimits,
    mut save: F,
) -> Result<u64, CopyError>
where
    F: FnMut(Task) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let head_req = GetRequest {
        bucket: &task.physical,
        key: &task.key,
        range: None,
        head_only: true,
        checksum_mode: false,
    };
    let head = match source.get_object(&head_req).await {
        Ok(r) => r.head,
        Err(e) if e.is_not_found() => return Err(CopyError::SourceChanged),
        Err(e) => return Err(CopyError::Source(e)),
    };
    if logical_etag(&head).as_deref() != Some(task.version.etag.as_str())
        || head.content_length != task.version.size
    {
        return Err(CopyError::SourceChanged);
    }
    let size = task.version.size;
    let known_parts = !task.part_sizes.is_empty() && task.part_sizes.iter().sum::<u64>() == size;
    let multipart_source = task.version.etag.trim_matches('"').contains('-');
    if size <= limits.threshold && !known_parts {
        let mut headers = copy_headers(&head, task, multipart_source);
        headers.extend(checksum_header(task));
        let refs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let (_, copied, _) = stream(source, target, task, None, &refs, None, task.version.crc64).await?;
        return Ok(copied);
    }
    // Multipart copy, resumable: part sizes of the source when known (same
    // ETag), fixed parts otherwise (logical ETag in metadata).
    let mut progress = match task.copy.take() {
        Some(p) if p.target == target_id => p,
        other => {
            if let Some(stale) = other {
                let _ = target.abort_multipart(&task.physical, &task.key, &stale.upload_id).await;
            }
            let headers = copy_headers(&head, task, !known_parts);
            let refs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
            let upload_id = target.create_multipart(&task.physical, &task.key, &refs).await?;
            CopyProgress {
                target: target_id.to_string(),
                upload_id,
                part_size: limits.part_size,
                parts: Vec::new(),
                crcs: Vec::new(),
            }
        }
    };
    // A resumed copy keeps the part size it started with.
    let sizes: Vec<u64> = if known_parts {
        task.part_sizes.clone()
    } else {
        let part_size = progress.part_size.max(1);
        let mut v = vec![part_size; (size / part_size) as usize];
        if !size.is_multiple_of(part_size) || size == 0 {
            v.push(size % part_size);
        }
        v
    };
    let mut copied = 0u64;
    let mut offset = 0u64;
    for (i, len) in sizes.iter().enumerate() {
        let number = (i + 1) as u16;
        let range = (*len > 0).then(|| (offset, offset + len - 1));
        offset += len;
        if progress.parts.iter().any(|(n, _)| *n == number) {
            continue;
        }
        let part = PartTarget { upload_id: &progress.upload_id, number };
        let (etag, n, crc) = stream(source, target, task, range, &[], Some(part), None).await?;
        copied += n;
        progress.parts.push((number, etag));
        progress.crcs.push((number, crc));
        task.copy = Some(progress.clone());
        if !save(task.clone()).await {
            let _ = target.abort_multipart(&task.physical, &task.key, &progress.upload_id).await;
            return Err(CopyError::Superseded);
        }
    }
    progress.parts.sort_by_key(|(n, _)| *n);
    // The parts' CRCs combine into the object's: checked against the record
    // before the copy becomes visible on the target.
    if let Some(expect) = task.version.crc64
        && let Some(crc) = combined_crc(&progress, &sizes)
        && crc != expect
    {
        let _ = target.abort_multipart(&task.physical, &task.key, &progress.upload_id).await;
        task.copy = None;
        return Err(CopyError::SourceCorrupt);
    }
    target.complete_multipart(&task.physical, &task.key, &progress.upload_id, &progress.parts).await?;
    task.copy = None;
    Ok(copied)
}

/// The CRC-64/NVME of the whole object from the parts' (None when a part's
/// is unknown: copied by a sluice that did not record them).
fn combined_crc(progress: &CopyProgress, sizes: &[u64]) -> Option<u64> {
    let mut crc: Option<u64> = None;
    for (i, len) in sizes.iter().enumerate() {
        let number = (i + 1) as u16;
        let part = progress.crcs.iter().find(|(n, _)| *n == number)?.1;
        crc = Some(match crc {
            None => part,
            Some(c) => crc_fast::checksum_combine(crc_fast::CrcAlgorithm::Crc64Nvme, c, part, *len),
        });
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_etag_prefers_the_reserved_metadata() {
        let mut head = ObjectHead { etag: Some("\"abc-3\"".into()), ..ObjectHead::default() };
        assert_eq!(logical_etag(&head).as_deref(), Some("\"abc-3\""));
        head.header_lines = b"Content-Type: x\r\nX-Amz-Meta-Sluice-Etag: \"def\"\r\n".to_vec();
        assert_eq!(logical_etag(&head).as_deref(), Some("\"def\""));
    }
}
