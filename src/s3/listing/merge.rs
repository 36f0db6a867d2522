//! The k-way merge of several backends' listings into one page.
//!
//! Each backend is a [`ListSource`] giving its own entries in byte order;
//! [`merge_page`] merges them, drops replica duplicates, and stops after
//! `max_keys` entries, knowing whether more follow. The listing semantics are
//! in the module docs of `s3::listing`.
//!
//! # Decisions
//! - Lazy fetching: every source is asked once for up to `max_keys + 1`
//!   entries (so at least 2; at most [`BACKEND_MAX_KEYS`]) after the resume
//!   point; the extra entry answers "is there more?" without a second request
//!   in the common case, and asking for at least 2 guarantees progress when a
//!   source lists again the common prefix it was resumed at. A source is asked
//!   again (start-after = the last entry of its previous page) only when its
//!   buffer is empty, it said it was truncated, and its next entry is needed:
//!   to pick the next entry of the page, or to learn whether the page is
//!   truncated when no other source has a buffered entry. All sources that
//!   need a fetch at the same moment are asked concurrently.
//! - Replicas: the same key from several sources appears once, taken from the
//!   source with the lowest `rank(key, source_index)` (ties: lowest index).
//!   A rank of `None` says that source's copy must not be listed (it is
//!   stale: a pending delete, or an older version than the acknowledged
//!   one); a key whose every copy ranks `None` is not listed at all.
//!   The same common prefix from several sources appears once.
//! - Resume: only entries greater than the resume point, and than the last
//!   entry of the source's previous page, are kept, keys and common prefixes
//!   alike (see the module docs). So a source that lists again the common
//!   prefix it was resumed at, or one that contains the resume point, is fine.
//!
//! # Invariants
//! - At most `max_keys` entries, strictly increasing by name; `is_truncated`
//!   exactly when another entry follows the last one.
//! - Never loops: each further request to a source starts strictly after the
//!   previous one, or the source is reported ([`MergeError::NoProgress`]).

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use crate::backend::BackendError;
use crate::error::{S3Error, S3ErrorCode};

use super::page::{BackendPage, Entry, PageError};
use super::request::ListRequest;

/// Most entries asked of one backend at a time: S3's own page limit.
pub const BACKEND_MAX_KEYS: usize = 1000;

/// One backend's listing of the bucket, in its physical bucket.
#[allow(async_fn_in_trait)]
pub trait ListSource {
    /// Up to `max_keys` entries in key order after `start_after` (exclusive,
    /// `""` = from the start), with `prefix` and `delimiter` applied as S3
    /// does; a truncated page says so.
    async fn list(
        &mut self,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<BackendPage, MergeError>;
}

/// One merged page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPage {
    pub entries: Vec<Entry>,
    /// More entries follow the last one.
    pub is_truncated: bool,
    /// The last entry of `entries` (what a continuation token or `NextMarker`
    /// resumes after).
    pub last: Option<Entry>,
}

/// Why a merge failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeError {
    /// A backend request failed.
    Backend(BackendError),
    /// A backend's answer could not be used.
    Page(PageError),
    /// A source said it was truncated but its page did not move past where it
    /// was asked to start.
    NoProgress,
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::Backend(e) => write!(f, "backend listing failed: {e:?}"),
            MergeError::Page(e) => write!(f, "backend listing unusable: {e}"),
            MergeError::NoProgress => f.write_str("backend listing is truncated but does not advance"),
        }
    }
}

impl std::error::Error for MergeError {}

impl From<BackendError> for MergeError {
    fn from(e: BackendError) -> Self {
        MergeError::Backend(e)
    }
}

impl From<PageError> for MergeError {
    fn from(e: PageError) -> Self {
        MergeError::Page(e)
    }
}

impl From<MergeError> for S3Error {
    fn from(e: MergeError) -> Self {
        match e {
            MergeError::Backend(e) => S3Error::from(e),
            MergeError::Page(_) | MergeError::NoProgress => S3Error::new(S3ErrorCode::InternalError),
        }
    }
}

/// Where one source stands.
struct Cursor {
    /// Fetched entries not yet merged, in order.
    buf: VecDeque<Entry>,
    /// The source has entries after `start` (or has not been asked yet).
    more: bool,
    /// The last entry name of the source's previous page; `None` before the
    /// first request (which starts at the resume point).
    start: Option<String>,
}

type ListFuture<'a> = Pin<Box<dyn Future<Output = Result<BackendPage, MergeError>> + 'a>>;

/// Merges the listings of `sources` into one page of at most `max_keys`
/// entries after `after` (exclusive; `""` = from the start), with the
/// prefix and delimiter of `req`. `rank(key, source_index)` orders the
/// replicas of a key: the lowest rank's copy is listed; `None` hides a copy.
pub async fn merge_page<S: ListSource>(
    sources: &mut [S],
    req: &ListRequest,
    after: &str,
    max_keys: usize,
    rank: impl Fn(&str, usize) -> Option<u32>,
) -> Result<MergedPage, MergeError> {
    let mut page = MergedPage { entries: Vec::new(), is_truncated: false, last: None };
    if max_keys == 0 || sources.is_empty() {
        return Ok(page);
    }
    // max_keys >= 1 here, so at least 2: see the module docs.
    let fetch = max_keys.saturating_add(1).min(BACKEND_MAX_KEYS);
    let delimiter = req.delimiter.as_deref().filter(|d| !d.is_empty());
    let mut cursors: Vec<Cursor> =
        sources.iter().map(|_| Cursor { buf: VecDeque::new(), more: true, start: None }).collect();
    loop {
        let full = page.entries.len() == max_keys;
        if full && cursors.iter().any(|c| !c.buf.is_empty()) {
            page.is_truncated = true;
            break;
        }
        refill(sources, &mut cursors, &req.prefix, delimiter, after, fetch).await?;
        let Some(entry) = take_min(&mut cursors, &rank) else { break };
        let Some(entry) = entry else { continue };
        if full {
            page.is_truncated = true;
            break;
        }
        // A misbehaving source could hand back something already listed.
        if page.entries.last().is_some_and(|prev| entry.name() <= prev.name()) {
            continue;
        }
        page.entries.push(entry);
    }
    page.last = page.entries.last().cloned();
    Ok(page)
}

/// Fetches, concurrently, the next page of every source whose buffer is empty
/// while it has more, until each has a buffered entry or is exhausted.
async fn refill<S: ListSource>(
    sources: &mut [S],
    cursors: &mut [Cursor],
    prefix: &str,
    delimiter: Option<&str>,
    after: &str,
    fetch: usize,
) -> Result<(), MergeError> {
    loop {
        let needed: Vec<bool> = cursors.iter().map(|c| c.buf.is_empty() && c.more).collect();
        if !needed.contains(&true) {
            return Ok(());
        }
        let mut futures: Vec<ListFuture<'_>> = Vec::new();
        for ((source, cursor), need) in sources.iter_mut().zip(cursors.iter()).zip(&needed) {
            if *need {
                let start = cursor.start.as_deref().unwrap_or(after);
                futures.push(Box::pin(source.list(prefix, delimiter, start, fetch)));
            }
        }
        let pages = join_all(futures).await;
        let fetched = cursors.iter_mut().zip(&needed).filter(|(_, need)| **need).map(|(c, _)| c);
        for (cursor, page) in fetched.zip(pages) {
            cursor.accept(page?, after)?;
        }
    }
}

impl Cursor {
    /// Takes a freshly fetched page: checks it advances, keeps what follows
    /// the point it was asked to start at.
    fn accept(&mut self, page: BackendPage, after: &str) -> Result<(), MergeError> {
        let last = page.entries.last().map(|e| e.name().to_owned());
        if page.is_truncated {
            let advanced = match (&last, &self.start) {
                (None, _) => false,
                (Some(l), None) => l != after,
                (Some(l), Some(prev)) => l > prev,
            };
            if !advanced {
                return Err(MergeError::NoProgress);
            }
        }
        let floor = self.start.as_deref().map_or(after, |prev| prev.max(after));
        let kept = page.entries.into_iter().filter(|e| e.name() > floor);
        self.buf = kept.collect();
        self.more = page.is_truncated;
        if last.is_some() {
            self.start = last;
        }
        Ok(())
    }
}

/// Pops the smallest head over all cursors, with every equal head of the
/// other cursors: one entry per name, the best-ranked replica's copy
/// (`Some(None)` when every copy ranks `None`: the name is not listed).
fn take_min(cursors: &mut [Cursor], rank: &impl Fn(&str, usize) -> Option<u32>) -> Option<Option<Entry>> {
    let mut min: Option<(usize, &str)> = None;
    for (i, c) in cursors.iter().enumerate() {
        if let Some(head) = c.buf.front()
            && min.is_none_or(|(_, m)| head.name() < m)
        {
            min = Some((i, head.name()));
        }
    }
    let first = min?.0;
    let ranked = |entry: &Entry, source: usize| match entry {
        Entry::Prefix(_) => Some(0),
        Entry::Object(o) => rank(&o.key, source),
    };
    let mut best = cursors[first].buf.pop_front()?;
    let mut best_rank = ranked(&best, first);
    for (i, cursor) in cursors.iter_mut().enumerate().skip(first + 1) {
        if cursor.buf.front().is_none_or(|h| h.name() != best.name()) {
            continue;
        }
        let Some(candidate) = cursor.buf.pop_front() else { continue };
        let better = match (&best, &candidate) {
            // A common prefix wins over an object of the same name.
            (Entry::Prefix(_), _) => false,
            (Entry::Object(_), Entry::Prefix(_)) => true,
            // Among objects the lowest rank; sources are visited in index
            // order, so a tie keeps the lower index.
            (Entry::Object(_), Entry::Object(_)) => match (ranked(&candidate, i), best_rank) {
                (Some(c), Some(b)) => c < b,
                (Some(_), None) => true,
                (None, _) => false,
            },
        };
        if better {
            best_rank = ranked(&candidate, i);
            best = candidate;
        }
    }
    Some(best_rank.is_some().then_some(best))
}

/// Polls every future until all are done; the outputs in order.
pub(crate) async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::listing::model_tests::{MemSource, Quirk, block_on};

    fn req(query: &str) -> ListRequest {
        ListRequest::parse(query).unwrap()
    }

    fn names(page: &MergedPage) -> String {
        page.entries.iter().map(Entry::name).collect::<Vec<_>>().join(" ")
    }

    fn merge(sources: &mut [MemSource], query: &str, after: &str, max: usize) -> MergedPage {
        block_on(merge_page(sources, &req(query), after, max, |_, i| Some(i as u32))).unwrap()
    }

    #[test]
    fn max_keys_zero_asks_nobody() {
        let mut s = [MemSource::with_keys(Quirk::None, &["a"])];
        let page = merge(&mut s, "", "", 0);
        assert_eq!(page, MergedPage { entries: vec![], is_truncated: false, last: None });
        assert_eq!(s[0].calls, 0);
        let mut none: [MemSource; 0] = [];
        assert!(!merge(&mut none, "", "", 10).is_truncated);
    }

    #[test]
    fn interleaves_and_counts_prefixes() {
        let mut s = [
            MemSource::with_keys(Quirk::None, &["a", "c/1", "e"]),
            MemSource::with_keys(Quirk::None, &["b", "c/2", "d/1"]),
        ];
        let page = merge(&mut s, "delimiter=%2F", "", 4);
        assert_eq!(names(&page), "a b c/ d/");
        assert!(page.is_truncated);
        assert_eq!(page.last, Some(Entry::Prefix("d/".into())));
        let page = merge(&mut s, "delimiter=%2F", "d/", 4);
        assert_eq!(names(&page), "e");
        assert!(!page.is_truncated);
    }

    #[test]
    fn replicas_appear_once_from_the_best_ranked_source() {
        let mut s: Vec<MemSource> = (0..3).map(|_| MemSource::new(Quirk::None)).collect();
        for (i, source) in s.iter_mut().enumerate() {
            source.insert("k", i as u64 + 1);
            source.insert("tie", i as u64 + 1);
        }
        s[2].insert("only-2", 9);
        let rank = |key: &str, i: usize| Some(if key == "k" { [5, 1, 3][i] } else { 7 });
        let page = block_on(merge_page(&mut s, &req(""), "", 10, rank)).unwrap();
        assert_eq!(names(&page), "k only-2 tie");
        let Entry::Object(k) = &page.entries[0] else { panic!("object expected") };
        assert_eq!(k.size, 2, "source 1 has the lowest rank");
        let Entry::Object(o) = &page.entries[2] else { panic!("object expected") };
        assert_eq!(o.size, 1, "equal ranks: the lowest index wins");
    }

    /// A copy ranked `None` is never listed: a key whose every copy is hidden
    /// (a pending delete) disappears, one with a hidden best copy (an older
    /// version on the primary) is listed from the copy that is not hidden,
    /// and the page still fills up to `max_keys`.
    #[test]
    fn hidden_copies_are_not_listed() {
        let mut s: Vec<MemSource> = (0..2).map(|_| MemSource::new(Quirk::None)).collect();
        for (i, source) in s.iter_mut().enumerate() {
            for k in ["a", "deleted", "newer-on-1", "z1", "z2"] {
                source.insert(k, i as u64 + 1);
            }
        }
        s[1].insert("only-1-deleted", 5);
        let rank = |key: &str, i: usize| match key {
            "deleted" | "only-1-deleted" => None,
            "newer-on-1" if i == 0 => None,
            _ => Some(i as u32),
        };
        let page = block_on(merge_page(&mut s, &req(""), "", 3, rank)).unwrap();
        assert_eq!(names(&page), "a newer-on-1 z1");
        assert!(page.is_truncated);
        let Entry::Object(n) = &page.entries[1] else { panic!("object expected") };
        assert_eq!(n.size, 2, "the copy that is not hidden");
        let rest = block_on(merge_page(&mut s, &req(""), "z1", 3, rank)).unwrap();
        assert_eq!(names(&rest), "z2");
        assert!(!rest.is_truncated);
    }

    #[test]
    fn resuming_after_a_prefix_skips_it_even_when_sources_repeat_it() {
        let keys = ["a/1", "a/2", "a/3", "b"];
        let mut s = [MemSource::with_keys(Quirk::KeysThenGroup, &keys)];
        let page = merge(&mut s, "delimiter=%2F", "", 1);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a/", true));
        let page = merge(&mut s, "delimiter=%2F", "a/", 1);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("b", false));
    }

    #[test]
    fn start_after_inside_a_prefix_skips_the_prefix() {
        for quirk in [Quirk::None, Quirk::KeysThenGroup] {
            let mut s = [
                MemSource::with_keys(quirk, &["a/1", "a/9"]),
                MemSource::with_keys(Quirk::None, &["a/2", "c"]),
            ];
            assert_eq!(names(&merge(&mut s, "delimiter=%2F", "a/5", 10)), "c");
            assert_eq!(names(&merge(&mut s, "delimiter=%2F", "a", 10)), "a/ c");
            assert_eq!(names(&merge(&mut s, "", "a/5", 10)), "a/9 c");
        }
    }

    #[test]
    fn fetches_lazily() {
        let first: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
        let second: Vec<String> = (0..10).map(|i| format!("b{i}")).collect();
        fn refs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let mut s = [
            MemSource::with_keys(Quirk::None, &refs(&first)),
            MemSource::with_keys(Quirk::None, &refs(&second)),
        ];
        // One request each; the extra entry asked for answers IsTruncated.
        let page = merge(&mut s, "", "", 3);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a0 a1 a2", true));
        assert_eq!((s[0].calls, s[1].calls), (1, 1));

        // Source 0 answers two entries at a time: only it is asked again, and
        // no look-ahead request is needed while source 1 has buffered entries.
        let mut s = [
            MemSource::with_keys(Quirk::ShortPages, &refs(&first)),
            MemSource::with_keys(Quirk::None, &refs(&second)),
        ];
        let page = merge(&mut s, "", "", 4);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a0 a1 a2 a3", true));
        assert_eq!((s[0].calls, s[1].calls), (2, 1));
        // Past the end of source 0: it is asked once, and not again.
        let page = merge(&mut s, "", "a9", 4);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("b0 b1 b2 b3", true));
        assert_eq!((s[0].calls, s[1].calls), (3, 2));
    }

    #[test]
    fn exactly_max_keys_left_is_not_truncated() {
        let mut s =
            [MemSource::with_keys(Quirk::None, &["a", "b"]), MemSource::with_keys(Quirk::None, &["c"])];
        let page = merge(&mut s, "", "", 3);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a b c", false));
        // Short pages make the look-ahead fetch again; the answer is the same.
        let mut s = [MemSource::with_keys(Quirk::ShortPages, &["a", "b", "c"])];
        let page = merge(&mut s, "", "", 3);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a b c", false));
        let page = merge(&mut s, "", "", 2);
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a b", true));
    }

    #[test]
    fn source_errors_propagate() {
        let mut s = [MemSource::with_keys(Quirk::None, &["a"]), MemSource::with_keys(Quirk::None, &["b"])];
        s[1].fail = Some(MergeError::Backend(BackendError::Unreachable));
        let err = block_on(merge_page(&mut s, &req(""), "", 5, |_, _| Some(0))).unwrap_err();
        assert_eq!(err, MergeError::Backend(BackendError::Unreachable));
        assert_eq!(S3Error::from(err).code, S3ErrorCode::ServiceUnavailable);
        assert_eq!(S3Error::from(MergeError::Page(PageError::Xml)).code, S3ErrorCode::InternalError);
        assert_eq!(S3Error::from(MergeError::NoProgress).code, S3ErrorCode::InternalError);
    }

    /// A source answering fixed pages, one per call.
    struct Scripted(Vec<BackendPage>);

    impl ListSource for Scripted {
        async fn list(
            &mut self,
            _: &str,
            _: Option<&str>,
            _: &str,
            _: usize,
        ) -> Result<BackendPage, MergeError> {
            Ok(if self.0.is_empty() { BackendPage::default() } else { self.0.remove(0) })
        }
    }

    fn keys(names: &[&str], is_truncated: bool) -> BackendPage {
        let entries =
            names.iter().map(|k| Entry::Object(crate::s3::listing::model_tests::object(k, 1))).collect();
        BackendPage { entries, is_truncated, next_continuation_token: None }
    }

    #[test]
    fn a_later_page_adds_only_entries_after_the_previous_one() {
        // A short first page, then a page repeating its last key: the repeat is
        // not an entry, so the merged page is not truncated.
        let mut s = [Scripted(vec![keys(&["a", "b"], true), keys(&["b"], false)])];
        let page = block_on(merge_page(&mut s, &req(""), "", 2, |_, _| Some(0))).unwrap();
        assert_eq!((names(&page).as_str(), page.is_truncated), ("a b", false));
        // Entries before the resume point are dropped from the first page.
        let mut s = [Scripted(vec![keys(&["a", "b", "c"], false)])];
        let page = block_on(merge_page(&mut s, &req(""), "a", 5, |_, _| Some(0))).unwrap();
        assert_eq!(names(&page), "b c");
    }

    /// A source that always answers the same truncated page.
    struct Stuck(usize);

    impl ListSource for Stuck {
        async fn list(
            &mut self,
            _: &str,
            _: Option<&str>,
            _: &str,
            _: usize,
        ) -> Result<BackendPage, MergeError> {
            self.0 += 1;
            Ok(BackendPage {
                entries: vec![Entry::Prefix("a/".into())],
                is_truncated: true,
                ..Default::default()
            })
        }
    }

    #[test]
    fn a_source_that_does_not_advance_is_reported() {
        let mut s = [Stuck(0)];
        let err = block_on(merge_page(&mut s, &req("delimiter=%2F"), "", 5, |_, _| Some(0))).unwrap_err();
        assert_eq!(err, MergeError::NoProgress);
        assert_eq!(s[0].0, 2);
        let mut s = [Stuck(0)];
        let err = block_on(merge_page(&mut s, &req("delimiter=%2F"), "a/", 5, |_, _| Some(0))).unwrap_err();
        assert_eq!((err, s[0].0), (MergeError::NoProgress, 1));
    }
}
