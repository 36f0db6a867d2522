//! Repair, scrub and discovery: what every backend holds, compared with
//! placement.
//!
//! A scan lists the bucket's physical bucket on every configured backend
//! (eligible or not: a residency change leaves copies on backends the policy
//! no longer allows), merges the listings in key order, and for each key
//! compares the holders with the replica set placement gives today:
//!
//! - the **source** is the primary when it holds the key, else the holder
//!   with the newest `LastModified` (after a placement change the new primary
//!   may not hold the object yet);
//! - a replica-set backend without the source's version (absent, or another
//!   ETag/size) is **under-replicated** there: the task copies it;
//! - a holder outside the replica set is **misplaced**: the task removes it
//!   once the replica set holds the version (this is how rebalancing after a
//!   new backend or a policy change happens).
//!
//! `sluice repair` and the periodic scrub queue one `Put` task per key that
//! needs work; `sluice discover` only counts. Keys with a pending task are
//! left to it. A repair task is queued only if the key still has no pending
//! task in the transaction that stores it, so it can never supersede a
//! client's write; a repair task whose source changed before it ran is
//! dropped (the write that changed it has its own task).
//!
//! Memory is bounded: one page per backend and one batch of tasks.

use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::backend::{AnyBackend, Backend, BackendError, GetRequest};
use crate::error::S3ErrorCode;
use crate::meta::{BucketInfo, MetaError, MetaStore, Snapshot};
use crate::placement;
use crate::s3::listing::page::{BackendPage, Entry, ObjectEntry};

use super::copy::logical_etag;
use super::task::{ObjectRecord, ObjectVersion, Task, TaskKind};

/// Keys asked of a backend per listing request.
pub const LIST_PAGE: usize = 1000;
/// Tasks stored per LMDB transaction.
pub const TASK_BATCH: usize = 256;
/// Tries per listing page before a transient failure
/// ([`BackendError::is_transient`]: 500/502/503/504 or a broken connection)
/// stops the scan. A backend listing a directory while objects in it are
/// removed (a drain, a rebalance) can answer 500: s3s-fs does.
pub const LIST_ATTEMPTS: u32 = 3;
/// Wait before the first retry of a listing page; doubled for each next one.
pub const LIST_RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Why a scan stopped.
#[derive(Debug)]
pub enum RepairError {
    /// A backend could not be listed or asked (the bucket's scan stopped there;
    /// tasks already queued stay valid).
    Backend { backend: String, error: BackendError },
    /// The metadata store failed.
    Store(MetaError),
    /// The blocking pool is gone (shutting down).
    Interrupted,
}

impl std::fmt::Display for RepairError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepairError::Backend { backend, error } => write!(f, "backend {backend}: {error:?}"),
            RepairError::Store(e) => write!(f, "metadata store: {e}"),
            RepairError::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for RepairError {}

impl From<MetaError> for RepairError {
    fn from(e: MetaError) -> Self {
        RepairError::Store(e)
    }
}

/// What one backend holds of one bucket.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct BackendCounts {
    pub backend: String,
    /// Objects (keys) it holds.
    pub objects: u64,
    pub bytes: u64,
    /// Keys whose replica set includes this backend but which it lacks (or
    /// holds in another version).
    pub under_replicated: u64,
    /// Keys it holds outside their replica set.
    pub misplaced: u64,
}

/// One bucket's scan.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct BucketReport {
    pub bucket: String,
    pub tenant: String,
    /// The bucket's name on every backend.
    pub physical: String,
    pub replicas: u8,
    /// Distinct keys found.
    pub objects: u64,
    /// Keys with fewer correct copies in their replica set than `replicas`.
    pub under_replicated: u64,
    /// Keys with a copy outside their replica set.
    pub misplaced: u64,
    /// Keys left alone because a replication task is pending for them.
    pub pending: u64,
    /// Keys with a record but no copy that matches it: lost (reported, never
    /// "repaired" from a copy the record does not vouch for).
    #[serde(default)]
    pub lost: u64,
    /// Repair tasks queued (0 for discovery).
    pub queued: u64,
    pub backends: Vec<BackendCounts>,
    /// Why the scan stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a scan does with what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Count only (`sluice discover`).
    Discover,
    /// Count and queue tasks (`sluice repair`, the scrub).
    Repair,
}

/// Counts a key's `missing` replicas and its copies outside `replicas` in
/// `report`; returns the backends holding those misplaced copies.
fn tally(report: &mut BucketReport, replicas: &[u16], holdings: &[Holding], missing: &[u16]) -> Vec<u16> {
    let misplaced: Vec<u16> = holdings.iter().map(|h| h.backend).filter(|i| !replicas.contains(i)).collect();
    for &r in missing {
        report.backends[usize::from(r)].under_replicated += 1;
    }
    for &m in &misplaced {
        report.backends[usize::from(m)].misplaced += 1;
    }
    report.under_replicated += u64::from(!missing.is_empty());
    report.misplaced += u64::from(!misplaced.is_empty());
    misplaced
}

/// One backend's copy of a key.
#[derive(Debug, Clone)]
struct Holding {
    backend: u16,
    etag: String,
    size: u64,
    last_modified: String,
}

/// A backend's listing, one page at a time.
struct Cursor {
    index: u16,
    backend: Rc<AnyBackend>,
    page: VecDeque<ObjectEntry>,
    after: String,
    exhausted: bool,
}

impl Cursor {
    /// The next key of this backend, fetching a page when needed.
    async fn head(&mut self, physical: &str) -> Result<Option<&ObjectEntry>, BackendError> {
        while self.page.is_empty() && !self.exhausted {
            match self.list_page(physical).await {
                Ok(page) => {
                    self.page.extend(page.entries.into_iter().filter_map(|e| match e {
                        Entry::Object(o) => Some(o),
                        Entry::Prefix(_) => None,
                    }));
                    match self.page.back() {
                        Some(last) if page.is_truncated => self.after = last.key.clone(),
                        _ => self.exhausted = true,
                    }
                }
                Err(BackendError::Status { status: 404, code: Some(S3ErrorCode::NoSuchBucket) }) => {
                    self.exhausted = true
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.page.front())
    }

    /// One listing page, retried while the failure is transient.
    async fn list_page(&self, physical: &str) -> Result<BackendPage, BackendError> {
        retry_transient(LIST_ATTEMPTS, LIST_RETRY_BACKOFF, || {
            self.backend.list_objects(physical, "", None, &self.after, LIST_PAGE)
        })
        .await
    }
}

/// Runs `call` up to `attempts` times while it fails in a way another try may
/// not repeat ([`BackendError::is_transient`]), waiting `backoff`, then twice
/// as long, between tries. Any other outcome is returned at once.
async fn retry_transient<T, Fut>(
    attempts: u32,
    mut backoff: Duration,
    mut call: impl FnMut() -> Fut,
) -> Result<T, BackendError>
where
    Fut: std::future::Future<Output = Result<T, BackendError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_transient() && attempt < attempts => {
                monoio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// A scan of buckets over one snapshot.
pub struct Scanner<'a, F: Fn(u16) -> Option<Rc<AnyBackend>>> {
    pub snap: &'a Snapshot,
    /// The backend at a snapshot index.
    pub backends: F,
    pub store: Arc<MetaStore>,
    pub mode: Mode,
    /// Keys examined per second at most (`None`: as fast as backends answer).
    pub rate: Option<u64>,
}

async fn blocking<R: Send + 'static>(
    store: &Arc<MetaStore>,
    f: impl FnOnce(&MetaStore) -> Result<R, MetaError> + Send + 'static,
) -> Result<R, RepairError> {
    let store = store.clone();
    match monoio::spawn_blocking(move || f(&store)).await {
        Ok(r) => r.map_err(RepairError::Store),
        Err(_) => Err(RepairError::Interrupted),
    }
}

impl<F: Fn(u16) -> Option<Rc<AnyBackend>>> Scanner<'_, F> {
    fn id(&self, index: u16) -> &str {
        self.snap.backends.get(usize::from(index)).map_or("?", |b| b.id.as_str())
    }

    /// Scans one bucket. Errors stop the scan; what was found so far is in
    /// the report, with the error.
    pub async fn scan_bucket(&self, b: &BucketInfo) -> BucketReport {
        let mut report = BucketReport {
            bucket: b.name.clone(),
            tenant: b.tenant.clone(),
            physical: b.physical.clone(),
            replicas: b.replicas,
            backends: self
                .snap
                .backends
                .iter()
                .map(|x| BackendCounts { backend: x.id.clone(), ..Default::default() })
                .collect(),
            ..Default::default()
        };
        if let Err(e) = self.scan_into(b, &mut report).await {
            tracing::warn!(bucket = %b.name, error = %e, "scan stopped early");
            report.error = Some(e.to_string());
        }
        report
    }

    async fn scan_into(&self, b: &BucketInfo, report: &mut BucketReport) -> Result<(), RepairError> {
        let bucket_id = b.id_hex.clone();
        let pending: HashSet<String> = blocking(&self.store, move |s| {
            Ok(s.tasks()
                .all_pending()?
                .into_iter()
                .filter(|t| t.bucket_id == bucket_id)
                .map(|t| t.key)
                .collect())
        })
        .await?;
        let mut cursors: Vec<Cursor> = self
            .snap
            .backends
            .iter()
            .filter_map(|x| {
                (self.backends)(x.index).map(|backend| Cursor {
                    index: x.index,
                    backend,
                    page: VecDeque::new(),
                    after: String::new(),
                    exhausted: false,
                })
            })
            .collect();
        let started = Instant::now();
        let mut batch: Vec<Task> = Vec::new();
        loop {
            // The smallest key any backend has next.
            let mut next: Option<String> = None;
            for c in cursors.iter_mut() {
                let index = c.index;
                let head = c
                    .head(&b.physical)
                    .await
                    .map_err(|error| RepairError::Backend { backend: self.id(index).to_string(), error })?;
                if let Some(o) = head
                    && next.as_ref().is_none_or(|n| o.key < *n)
                {
                    next = Some(o.key.clone());
                }
            }
            let Some(key) = next else { break };
            let mut holdings: Vec<Holding> = Vec::new();
            for c in cursors.iter_mut() {
                if c.page.front().is_some_and(|o| o.key == key)
                    && let Some(o) = c.page.pop_front()
                {
                    holdings.push(Holding {
                        backend: c.index,
                        etag: o.etag,
                        size: o.size,
                        last_modified: o.last_modified,
                    });
                }
            }
            report.objects += 1;
            let has_pending = pending.contains(&key);
            let record = if has_pending { None } else { self.record(b, &key).await? };
            if let Some(task) = self.examine(b, &key, &holdings, has_pending, false, record, report).await? {
                batch.push(task);
                if batch.len() >= TASK_BATCH {
                    report.queued += self.flush(&mut batch).await?;
                }
            }
            if let Some(rate) = self.rate {
                let due = Duration::from_secs_f64(report.objects as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    monoio::time::sleep(wait).await;
                }
            }
        }
        report.queued += self.flush(&mut batch).await?;
        Ok(())
    }

    /// Examines one key on every backend (what a scan does for each key) and
    /// queues its repair task if it needs one; returns the tasks queued (0 or
    /// 1). Used for the keys of left-over write intents.
    pub async fn repair_key(&self, b: &BucketInfo, key: &str) -> Result<u64, RepairError> {
        let mut report = BucketReport {
            backends: self
                .snap
                .backends
                .iter()
                .map(|x| BackendCounts { backend: x.id.clone(), ..Default::default() })
                .collect(),
            ..Default::default()
        };
        let mut holdings: Vec<Holding> = Vec::new();
        for x in &self.snap.backends {
            let Some(backend) = (self.backends)(x.index) else { continue };
            // The key itself sorts first among the keys it prefixes.
            let page = match retry_transient(LIST_ATTEMPTS, LIST_RETRY_BACKOFF, || {
                backend.list_objects(&b.physical, key, None, "", 1)
            })
            .await
            {
                Ok(page) => page,
                Err(BackendError::Status { status: 404, code: Some(S3ErrorCode::NoSuchBucket) }) => continue,
                Err(error) => return Err(RepairError::Backend { backend: x.id.clone(), error }),
            };
            if let Some(Entry::Object(o)) = page.entries.into_iter().next()
                && o.key == key
            {
                holdings.push(Holding {
                    backend: x.index,
                    etag: o.etag,
                    size: o.size,
                    last_modified: o.last_modified,
                });
            }
        }
        if holdings.is_empty() {
            return Ok(0);
        }
        let record = self.record(b, key).await?;
        let task = self.examine(b, key, &holdings, false, true, record, &mut report).await?;
        let mut batch: Vec<Task> = task.into_iter().collect();
        self.flush(&mut batch).await
    }

    async fn flush(&self, batch: &mut Vec<Task>) -> Result<u64, RepairError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let mut tasks = std::mem::take(batch);
        blocking(&self.store, move |s| s.tasks().enqueue_if_idle(&mut tasks).map(|n| n as u64)).await
    }

    /// The record of `key`, if sluice has one.
    async fn record(&self, b: &BucketInfo, key: &str) -> Result<Option<ObjectRecord>, RepairError> {
        let (bid, k) = (b.id_hex.clone(), key.to_string());
        blocking(&self.store, move |s| s.tasks().record(&bid, &k)).await
    }

    /// Counts one key and returns the task it needs, if any. With a record,
    /// copies are judged against it (see [`Scanner::examine_by_record`]).
    /// Without one, `newest`: the source is the newest copy even when the
    /// primary holds one (a left-over write intent: the write may have gone
    /// to a handoff backend while the primary kept an older version).
    #[allow(clippy::too_many_arguments)]
    async fn examine(
        &self,
        b: &BucketInfo,
        key: &str,
        holdings: &[Holding],
        has_pending: bool,
        newest: bool,
        record: Option<ObjectRecord>,
        report: &mut BucketReport,
    ) -> Result<Option<Task>, RepairError> {
        for h in holdings {
            let c = &mut report.backends[usize::from(h.backend)];
            c.objects += 1;
            c.bytes += h.size;
        }
        if let Some(record) = record
            && !has_pending
        {
            return self.examine_by_record(b, key, holdings, record, report).await;
        }
        if has_pending {
            report.pending += 1;
            return Ok(None);
        }
        let Ok(replicas) = placement::place(b.id, key.as_bytes(), &b.candidates, usize::from(b.replicas))
        else {
            return Ok(None);
        };
        let newest_copy = || holdings.iter().max_by(|x, y| x.last_modified.cmp(&y.last_modified));
        let source = if newest { newest_copy() } else { holdings.iter().find(|h| h.backend == replicas[0]) }
            .or_else(newest_copy)
            .expect("a listed key has a holder");
        // Copies whose listed ETag differs may still be the same version (a
        // multipart copy has its own ETag): compare logical ETags then.
        let mut source_version: Option<ObjectVersion> = None;
        let mut missing: Vec<u16> = Vec::new();
        for &r in replicas.iter() {
            let good = match holdings.iter().find(|h| h.backend == r) {
                None => false,
                Some(h) if h.backend == source.backend => true,
                Some(h) if h.size != source.size => false,
                Some(h) if h.etag == source.etag => true,
                Some(h) => {
                    if source_version.is_none() {
                        source_version = self.version(source.backend, &b.physical, key).await?;
                    }
                    let theirs = self.version(h.backend, &b.physical, key).await?;
                    match (&source_version, theirs) {
                        (Some(s), Some(t)) => s.etag == t.etag && s.size == t.size,
                        _ => false,
                    }
                }
            };
            if !good {
                missing.push(r);
            }
        }
        let misplaced = tally(report, &replicas, holdings, &missing);
        if self.mode == Mode::Discover || (missing.is_empty() && misplaced.is_empty()) {
            return Ok(None);
        }
        if source_version.is_none() {
            source_version = self.version(source.backend, &b.physical, key).await?;
        }
        let Some(version) = source_version else {
            return Ok(None); // deleted since it was listed
        };
        Ok(Some(self.repair_task(b, key, source.backend, version, &missing, &misplaced)))
    }

    /// [`Scanner::examine`] for a key with a record: the copies whose logical
    /// ETag and size are the record's are good; the source is the primary if
    /// its copy is good, else the newest good copy; every replica-set backend
    /// without a good copy is a target, whatever it holds; a key with no good
    /// copy at all is lost: counted, logged, and left alone.
    async fn examine_by_record(
        &self,
        b: &BucketInfo,
        key: &str,
        holdings: &[Holding],
        record: ObjectRecord,
        report: &mut BucketReport,
    ) -> Result<Option<Task>, RepairError> {
        let Ok(replicas) = placement::place(b.id, key.as_bytes(), &b.candidates, usize::from(b.replicas))
        else {
            return Ok(None);
        };
        let mut good: Vec<&Holding> = Vec::new();
        for h in holdings {
            if h.size != record.size {
                continue;
            }
            // Listings may carry no ETag, or the backend's own for a copy
            // made in parts: ask for the logical one then.
            let matches = if h.etag == record.etag {
                true
            } else {
                self.version(h.backend, &b.physical, key).await?.is_some_and(|v| v.etag == record.etag)
            };
            if matches {
                good.push(h);
            }
        }
        let Some(source) = good
            .iter()
            .find(|h| h.backend == replicas[0])
            .or_else(|| good.iter().max_by(|x, y| x.last_modified.cmp(&y.last_modified)))
            .copied()
        else {
            report.lost += 1;
            tracing::error!(
                bucket = %b.name,
                key = %key,
                copies = holdings.len(),
                "no copy matches the object's record: the object is lost"
            );
            return Ok(None);
        };
        let missing: Vec<u16> =
            replicas.iter().copied().filter(|r| !good.iter().any(|g| g.backend == *r)).collect();
        let misplaced = tally(report, &replicas, holdings, &missing);
        if self.mode == Mode::Discover || (missing.is_empty() && misplaced.is_empty()) {
            return Ok(None);
        }
        let version =
            ObjectVersion { etag: record.etag, size: record.size, checksum: None, crc64: record.crc64 };
        Ok(Some(self.repair_task(b, key, source.backend, version, &missing, &misplaced)))
    }

    /// The repair task copying `version` from `source` to `missing` and then
    /// removing the `misplaced` copies.
    fn repair_task(
        &self,
        b: &BucketInfo,
        key: &str,
        source: u16,
        version: ObjectVersion,
        missing: &[u16],
        misplaced: &[u16],
    ) -> Task {
        let source_id = self.id(source).to_string();
        let targets = missing.iter().map(|&i| self.id(i).to_string()).collect();
        let cleanup = misplaced.iter().map(|&i| self.id(i).to_string()).collect();
        Task { repair: true, ..Task::new(b, key, TaskKind::Put, source_id, version, targets, cleanup) }
    }

    /// The version `backend` holds of `key` (logical ETag and size; copies are
    /// verified by those), None when it holds none.
    async fn version(
        &self,
        backend: u16,
        physical: &str,
        key: &str,
    ) -> Result<Option<ObjectVersion>, RepairError> {
        let Some(b) = (self.backends)(backend) else { return Ok(None) };
        let req = GetRequest { bucket: physical, key, range: None, head_only: true, checksum_mode: false };
        match b.get_object(&req).await {
            Ok(resp) => Ok(logical_etag(&resp.head).map(|etag| ObjectVersion {
                etag,
                size: resp.head.content_length,
                checksum: None,
                crc64: None,
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(error) => Err(RepairError::Backend { backend: self.id(backend).to_string(), error }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn run<R>(f: impl std::future::Future<Output = R>) -> R {
        monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().unwrap().block_on(f)
    }

    const INTERNAL: BackendError =
        BackendError::Status { status: 500, code: Some(S3ErrorCode::InternalError) };

    /// Answers `failures` errors, then `Ok` with the number of the call.
    fn flaky(
        calls: &Cell<u32>,
        failures: u32,
        error: BackendError,
    ) -> impl FnMut() -> std::future::Ready<Result<u32, BackendError>> + '_ {
        move || {
            calls.set(calls.get() + 1);
            std::future::ready(if calls.get() <= failures { Err(error.clone()) } else { Ok(calls.get()) })
        }
    }

    #[test]
    fn a_transient_failure_is_retried() {
        let calls = Cell::new(0);
        let got = run(retry_transient(3, Duration::from_millis(1), flaky(&calls, 2, INTERNAL)));
        assert_eq!(got.unwrap(), 3);
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn retries_stop_after_the_last_attempt() {
        let calls = Cell::new(0);
        let got = run(retry_transient(3, Duration::from_millis(1), flaky(&calls, 5, BackendError::Io)));
        assert!(matches!(got, Err(BackendError::Io)), "{got:?}");
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn a_lasting_failure_is_not_retried() {
        let denied = BackendError::Status { status: 403, code: Some(S3ErrorCode::AccessDenied) };
        for error in [denied, BackendError::Timeout, BackendError::Unreachable] {
            let calls = Cell::new(0);
            let got = run(retry_transient(3, Duration::from_millis(1), flaky(&calls, 1, error.clone())));
            assert_eq!(got, Err(error));
            assert_eq!(calls.get(), 1);
        }
    }

    /// A loopback HTTP server that answers the scripted responses in order,
    /// one per request, and returns the request lines it saw. A real S3
    /// server cannot be made to fail one listing on cue; this one can.
    fn scripted_server(script: Vec<String>) -> (std::net::SocketAddr, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut script = script.into_iter().peekable();
            while script.peek().is_some() {
                let (conn, _) = listener.accept().unwrap();
                // A client that holds a connection without using it cannot hang the test.
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                // One connection, requests in turn, until the client closes it.
                while script.peek().is_some() {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    seen.push(line.trim_end().to_string());
                    let mut header = String::new();
                    while reader.read_line(&mut header).unwrap_or(0) > 0 && header != "\r\n" {
                        header.clear();
                    }
                    conn.write_all(script.next().unwrap_or_default().as_bytes()).unwrap();
                }
            }
            seen
        });
        (addr, handle)
    }

    fn http(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    fn list_page_xml(keys: &[&str], truncated: bool) -> String {
        let contents: String = keys
            .iter()
            .map(|k| {
                format!(
                    "<Contents><Key>{k}</Key><LastModified>2026-12-03T00:00:00.000Z</LastModified>\
                     <ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>1</Size></Contents>"
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name>\
                 <IsTruncated>{truncated}</IsTruncated>{contents}</ListBucketResult>"
        )
    }

    /// A cursor over a backend that answers 500 once, then two pages: every
    /// key comes out once and in order, and the failed page is asked again
    /// from the same place.
    #[test]
    fn a_cursor_asks_a_failed_page_again_from_the_same_key() {
        let internal = "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>x</Message></Error>";
        let (addr, server) = scripted_server(vec![
            http("200 OK", &list_page_xml(&["a", "b"], true)),
            http("500 Internal Server Error", internal),
            http("200 OK", &list_page_xml(&["c"], false)),
        ]);
        let keys = run(async move {
            let target = crate::backend::s3::S3Target {
                id: "stub".into(),
                host_header: addr.to_string(),
                access_key: "AK".into(),
                secret: crate::secret::Secret::new("SK"),
                signing_region: "us-east-1".into(),
                key_version: 1,
            };
            let io = Rc::new(crate::backend::s3::S3Io::new(Duration::from_secs(5)));
            let pool = Rc::new(crate::backend::pool::ConnPool::new(Some(addr)));
            let backend = Rc::new(AnyBackend::S3(crate::backend::s3::S3Backend::new(target, pool, io)));
            let mut cursor =
                Cursor { index: 0, backend, page: VecDeque::new(), after: String::new(), exhausted: false };
            let mut keys = Vec::new();
            while let Some(o) = cursor.head("bucket").await.unwrap() {
                keys.push(o.key.clone());
                cursor.page.pop_front();
            }
            keys
        });
        assert_eq!(keys, ["a", "b", "c"]);
        let seen = server.join().unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(!seen[0].contains("start-after=a") && !seen[0].contains("start-after=b"), "{seen:?}");
        assert!(seen[1].contains("start-after=b"), "{seen:?}");
        assert_eq!(seen[1], seen[2], "the retry asks for the same page");
    }

    #[test]
    fn the_backoff_doubles() {
        let calls = Cell::new(0);
        let started = Instant::now();
        run(retry_transient(3, Duration::from_millis(40), flaky(&calls, 2, INTERNAL))).unwrap();
        // 40 ms, then 80 ms.
        assert!(started.elapsed() >= Duration::from_millis(120), "{:?}", started.elapsed());
    }
}
