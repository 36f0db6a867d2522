//! Mid-stream read failover: when the backend serving a GetObject fails after
//! the response head went out, the rest of the body comes from another copy
//! that holds the same version, with a ranged GET from the first byte the
//! client has not seen. The client sees one uninterrupted body.
//!
//! # Invariants
//! - A copy continues the body only when its logical ETag and total size equal
//!   those of the response already under way; otherwise the connection is cut
//!   (the client sees a short body, never a spliced one).
//! - At most [`MAX_READ_RESUMES`] resumes per response, each trying the copies
//!   that `plan_read` says are complete, in placement order.

use smallvec::SmallVec;

use crate::backend::{Backend, BackendError, ByteRange, GetRequest, ObjectBody, ObjectHead};
use crate::meta::BucketInfo;
use crate::replication::copy::logical_etag;
use crate::s3::object_ops::note_backend_error;
use crate::s3::replicate::plan_read;
use crate::s3::service::Ctx;

/// Times one GetObject response may switch to another copy mid-body.
pub const MAX_READ_RESUMES: usize = 2;

/// Where a streaming GetObject is, so that another copy can continue it.
pub struct ReadResume {
    /// The backend now serving the body.
    index: u16,
    /// Backends that failed during this response.
    failed: SmallVec<[u16; 4]>,
    /// The logical ETag of the version being sent.
    etag: Option<String>,
    /// The object's total size.
    total: u64,
    /// The next absolute byte to send, and the last one (inclusive).
    next: u64,
    last: u64,
    resumes: usize,
}

impl ReadResume {
    /// Tracks a body served by backend `index` with head `head` (a 200 for the
    /// whole object or a 206 with its `Content-Range`).
    pub fn new(index: u16, head: &ObjectHead) -> ReadResume {
        let (first, last, total) = match head.status {
            206 => content_range(&head.header_lines).unwrap_or((0, 0, 0)),
            _ => (0, head.content_length.saturating_sub(1), head.content_length),
        };
        ReadResume {
            index,
            failed: SmallVec::new(),
            etag: logical_etag(head),
            total,
            next: first,
            last,
            resumes: 0,
        }
    }

    /// `n` more bytes reached the client.
    pub fn advance(&mut self, n: usize) {
        self.next += n as u64;
    }

    /// After the current backend failed with `err`: a body that continues at
    /// the next unsent byte from another copy of the same version, or `None`
    /// when no copy can.
    pub async fn reopen(
        &mut self,
        ctx: &Ctx<'_, '_>,
        b: &BucketInfo,
        key: &str,
        err: &BackendError,
    ) -> Option<ObjectBody> {
        note_backend_error(ctx, self.index, err);
        self.failed.push(self.index);
        if self.resumes >= MAX_READ_RESUMES || self.etag.is_none() || self.total == 0 || self.next > self.last
        {
            return None;
        }
        self.resumes += 1;
        let range = ByteRange::From { first: self.next, last: Some(self.last) };
        let req = GetRequest {
            bucket: &b.physical,
            key,
            range: Some(range),
            head_only: false,
            checksum_mode: false,
        };
        for index in plan_read(ctx, b, key, true).order {
            if self.failed.contains(&index) || !ctx.core.is_up(ctx.snap, index) {
                continue;
            }
            let Some(backend) = ctx.core.backend(ctx.snap, index) else { continue };
            match backend.get_object(&req).await {
                Ok(resp) if self.continues(&resp.head) => {
                    tracing::info!(
                        request_id = ctx.request_id,
                        from = self.next,
                        "read resumed on another copy"
                    );
                    self.index = index;
                    return Some(resp.body);
                }
                Ok(_) => {}
                Err(e) => {
                    note_backend_error(ctx, index, &e);
                    self.failed.push(index);
                }
            }
        }
        None
    }

    /// Whether `head` answers the ranged GET with the same version.
    fn continues(&self, head: &ObjectHead) -> bool {
        head.status == 206
            && logical_etag(head) == self.etag
            && content_range(&head.header_lines) == Some((self.next, self.last, self.total))
            && head.content_length == self.last - self.next + 1
    }
}

/// `(first, last, total)` of a `Content-Range: bytes first-last/total` line.
fn content_range(lines: &[u8]) -> Option<(u64, u64, u64)> {
    let value = lines.split(|&c| c == b'\n').find_map(|line| {
        let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-range").then(|| value.trim())
    })?;
    let (span, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?, total.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(status: u16, len: u64, lines: &str) -> ObjectHead {
        ObjectHead {
            status,
            content_length: len,
            etag: Some("\"e\"".into()),
            last_modified: None,
            header_lines: lines.as_bytes().to_vec(),
        }
    }

    #[test]
    fn parses_content_range() {
        assert_eq!(content_range(b"ETag: x\r\nContent-Range: bytes 5-9/20\r\n"), Some((5, 9, 20)));
        assert_eq!(content_range(b"content-range:bytes 0-0/1\r\n"), Some((0, 0, 1)));
        assert_eq!(content_range(b"Content-Range: bytes */20\r\n"), None);
        assert_eq!(content_range(b"ETag: x\r\n"), None);
    }

    #[test]
    fn a_copy_continues_only_the_same_version_and_span() {
        let mut r = ReadResume::new(0, &head(200, 100, ""));
        r.advance(40);
        assert!(r.continues(&head(206, 60, "Content-Range: bytes 40-99/100\r\n")));
        assert!(!r.continues(&head(200, 100, "")), "a whole body would repeat bytes");
        assert!(!r.continues(&head(206, 60, "Content-Range: bytes 40-99/101\r\n")), "another size");
        let mut other = head(206, 60, "Content-Range: bytes 40-99/100\r\n");
        other.etag = Some("\"f\"".into());
        assert!(!r.continues(&other), "another version");
        let mut ranged = ReadResume::new(0, &head(206, 10, "Content-Range: bytes 10-19/100\r\n"));
        ranged.advance(4);
        assert!(ranged.continues(&head(206, 6, "Content-Range: bytes 14-19/100\r\n")));
    }
}
