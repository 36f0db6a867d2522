//! The reference listing (an in-memory [`ListSource`] written as plainly as
//! possible) and a property test: paging through [`merge_page`] over three
//! sources holding replicas, with continuation tokens or markers between
//! pages as clients do, lists exactly what one source holding every object
//! lists, for random prefixes, delimiters, page sizes and start points.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::merge::{ListSource, MergeError, merge_page};
use super::page::{BackendPage, Entry, ObjectEntry};
use super::request::{ListRequest, ListVersion};
use super::token;
use crate::sigv4::uri_encode;

/// Runs a future that never waits (the in-memory sources answer at once).
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("in-memory sources never wait"),
    }
}

/// How an in-memory source departs from the reference behaviour, within what
/// S3 backends are seen to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quirk {
    None,
    /// Lists a common prefix whenever one of its keys follows start-after,
    /// even when the prefix itself does not (start-after `a/` or `a/m` lists
    /// `a/` again first).
    KeysThenGroup,
    /// Answers with half the entries asked for (at least one), truncated.
    ShortPages,
}

/// One backend's physical bucket, in memory.
pub(super) struct MemSource {
    pub objects: BTreeMap<String, ObjectEntry>,
    pub quirk: Quirk,
    /// `list` calls so far.
    pub calls: usize,
    /// When set, every `list` fails with it.
    pub fail: Option<MergeError>,
}

impl MemSource {
    pub fn new(quirk: Quirk) -> MemSource {
        MemSource { objects: BTreeMap::new(), quirk, calls: 0, fail: None }
    }

    pub fn with_keys(quirk: Quirk, keys: &[&str]) -> MemSource {
        let mut s = MemSource::new(quirk);
        for k in keys {
            s.insert(k, 0);
        }
        s
    }

    /// Stores `key`; `tag` becomes its size and ETag, to tell replicas apart.
    pub fn insert(&mut self, key: &str, tag: u64) {
        self.objects.insert(key.to_owned(), object(key, tag));
    }
}

pub(super) fn object(key: &str, tag: u64) -> ObjectEntry {
    ObjectEntry {
        key: key.to_owned(),
        last_modified: "2024-05-01T12:00:00.000Z".to_owned(),
        etag: format!("\"{tag}\""),
        size: tag,
        storage_class: "STANDARD".to_owned(),
    }
}

pub(super) use super::reference::list_range as reference_list;

impl ListSource for MemSource {
    async fn list(
        &mut self,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<BackendPage, MergeError> {
        self.calls += 1;
        if let Some(e) = &self.fail {
            return Err(e.clone());
        }
        let quirk = self.quirk == Quirk::KeysThenGroup;
        let mut page = reference_list(&self.objects, prefix, delimiter, start_after, max_keys, quirk);
        if self.quirk == Quirk::ShortPages {
            let keep = (max_keys / 2).max(1);
            if page.entries.len() > keep {
                page.entries.truncate(keep);
                page.is_truncated = true;
            }
        }
        Ok(page)
    }
}

/// splitmix64: small, deterministic, good enough to pick test cases.
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Placement-like rank of a replica: a hash of (key, source).
pub(super) fn rank(key: &str, source: usize) -> Option<u32> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain([source as u8]) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Some((h ^ (h >> 32)) as u32)
}

/// Pieces keys are made of: `/`, the multi-character delimiter `::`, pieces
/// ending in a delimiter (so some keys equal a common prefix), unicode of
/// 2, 3 and 4 UTF-8 bytes, and characters URL encoding cares about.
const PIECES: &[&str] =
    &["a", "b", "c", "é", "日本", "𝄞", "/", "/", "/", "::", ":", "-", "a/", "x", "zz", " ", "+", "%", "b::"];

const LISTING_KEY: [u8; 32] = [42; 32];
const BUCKET_ID: u128 = 0xfeed_beef;

struct World {
    sources: Vec<MemSource>,
    /// One source holding, for every key, the copy the merge must pick.
    model: BTreeMap<String, ObjectEntry>,
}

fn build_world(rng: &mut Rng, n_keys: usize) -> World {
    let mut keys = BTreeSet::new();
    for k in ["a/", "a/b/", "a/b/c", "日本/", "a::", "b::x", "zz"] {
        keys.insert(k.to_owned());
    }
    while keys.len() < n_keys {
        let pieces = 1 + rng.below(6);
        let key: String = (0..pieces).map(|_| *rng.pick(PIECES)).collect();
        keys.insert(key);
    }
    let quirks = [Quirk::KeysThenGroup, Quirk::ShortPages, Quirk::None];
    let mut sources: Vec<MemSource> = quirks.iter().map(|q| MemSource::new(*q)).collect();
    let mut model = BTreeMap::new();
    for key in &keys {
        let holders: Vec<usize> = match rng.below(10) {
            0..=6 => vec![rng.below(3)],
            7 | 8 => {
                let skip = rng.below(3);
                (0..3).filter(|i| *i != skip).collect()
            }
            _ => vec![0, 1, 2],
        };
        for &s in &holders {
            sources[s].insert(key, s as u64 + 1);
        }
        let best = holders.iter().copied().min_by_key(|&s| (rank(key, s), s)).unwrap_or(0);
        model.insert(key.clone(), object(key, best as u64 + 1));
    }
    World { sources, model }
}

/// A query value, percent-encoded as SDKs do.
fn enc(v: &str) -> String {
    let mut out = Vec::new();
    uri_encode(v.as_bytes(), true, &mut out);
    String::from_utf8(out).unwrap()
}

#[derive(Debug, Clone)]
struct Case {
    version: ListVersion,
    prefix: String,
    delimiter: Option<&'static str>,
    page_size: usize,
    start_after: Option<String>,
}

/// Pages through the merged listing as a client would; returns the pages.
fn page_through(world: &mut World, case: &Case, max_pages: usize) -> Vec<(Vec<Entry>, bool)> {
    let mut base = match case.version {
        ListVersion::V2 => "list-type=2".to_owned(),
        ListVersion::V1 => String::new(),
    };
    base.push_str(&format!("&prefix={}&max-keys={}", enc(&case.prefix), case.page_size));
    if let Some(d) = case.delimiter {
        base.push_str(&format!("&delimiter={}", enc(d)));
    }
    let start_param = match case.version {
        ListVersion::V2 => "start-after",
        ListVersion::V1 => "marker",
    };
    let mut resume = case.start_after.as_ref().map(|s| format!("&{start_param}={}", enc(s)));
    let mut pages = Vec::new();
    loop {
        assert!(pages.len() <= max_pages, "{case:?}: more pages than entries");
        let query = format!("{base}{}", resume.as_deref().unwrap_or(""));
        let req = ListRequest::parse(&query).unwrap();
        let last =
            req.continuation_token.as_deref().map(|t| token::decode(&LISTING_KEY, BUCKET_ID, t).unwrap());
        let after = req.resume_point(last.as_ref()).to_owned();
        let page = block_on(merge_page(&mut world.sources, &req, &after, req.max_keys, rank)).unwrap();
        assert_eq!(page.last.as_ref(), page.entries.last(), "{case:?}");
        let truncated = page.is_truncated;
        pages.push((page.entries, truncated));
        if !truncated {
            return pages;
        }
        let last = page.last.expect("a truncated page is not empty");
        resume = Some(match case.version {
            ListVersion::V2 => {
                let start = case.start_after.as_ref().map(|s| format!("&start-after={}", enc(s)));
                let t = token::encode(&LISTING_KEY, BUCKET_ID, &last);
                format!("{}&continuation-token={t}", start.unwrap_or_default())
            }
            // V1 clients resume from NextMarker (with a delimiter) or the last key.
            ListVersion::V1 => format!("&marker={}", enc(last.name())),
        });
    }
}

fn check_case(world: &mut World, case: &Case) -> usize {
    let after = case.start_after.as_deref().unwrap_or("");
    let expected =
        reference_list(&world.model, &case.prefix, case.delimiter, after, usize::MAX, false).entries;
    let pages = page_through(world, case, expected.len() + 1);
    let want_pages: Vec<&[Entry]> =
        if expected.is_empty() { vec![&[]] } else { expected.chunks(case.page_size).collect() };
    assert_eq!(pages.len(), want_pages.len(), "{case:?}: page count");
    for (i, ((got, truncated), want)) in pages.iter().zip(&want_pages).enumerate() {
        if got.as_slice() != *want {
            let names =
                |es: &[Entry]| es.iter().map(|e| format!("{:?}", e.name())).collect::<Vec<_>>().join(" ");
            panic!("{case:?}: page {i} differs\n got: {}\nwant: {}", names(got), names(want));
        }
        assert_eq!(*truncated, i + 1 < want_pages.len(), "{case:?}: IsTruncated of page {i}");
    }
    pages.len()
}

/// A prefix of a random key, cut at a random character boundary, mostly
/// within its first characters (so listings are neither empty nor everything).
fn random_prefix(rng: &mut Rng, model: &BTreeMap<String, ObjectEntry>) -> String {
    let idx = rng.below(model.len());
    let key = model.keys().nth(idx).map(String::as_str).unwrap_or("");
    let mut cuts: Vec<usize> = key.char_indices().map(|(i, _)| i).skip(1).chain([key.len()]).collect();
    if rng.below(4) != 0 {
        cuts.truncate(3);
    }
    key[..*rng.pick(&cuts)].to_owned()
}

#[test]
fn merged_paging_equals_single_source_listing() {
    let mut rng = Rng::new(0x5eed_1157);
    let mut world = build_world(&mut rng, 10_000);
    for s in &world.sources {
        assert!(s.objects.len() > 3000, "each source holds a share");
    }

    let v2 = ListVersion::V2;
    let v1 = ListVersion::V1;
    let case = |version, prefix: &str, delimiter, page_size, start_after: Option<&str>| Case {
        version,
        prefix: prefix.to_owned(),
        delimiter,
        page_size,
        start_after: start_after.map(str::to_owned),
    };
    let mut cases = vec![
        case(v2, "", None, 1, None),
        case(v2, "", Some("/"), 1, None),
        case(v2, "", Some("::"), 2, None),
        case(v2, "a", Some("/"), 1, None),
        case(v2, "a/", Some("/"), 2, None),
        case(v2, "", None, 1000, None),
        case(v2, "", Some("/"), 1000, None),
        case(v2, "", Some("::"), 1000, None),
        case(v2, "日本", Some("/"), 3, None),
        case(v2, "", Some("/"), 1, Some("a/")),
        case(v2, "", Some("/"), 2, Some("a/b")),
        case(v2, "a", Some("/"), 5, Some("a/")),
        case(v2, "b", Some("::"), 1, Some("b::")),
        case(v2, "nothing-has-this", Some("/"), 1, None),
        case(v1, "", Some("/"), 1, None),
        case(v1, "", Some("/"), 3, Some("a/")),
        case(v1, "a", None, 7, None),
        case(v1, "", Some("::"), 1000, None),
    ];
    let delimiters: [Option<&'static str>; 5] = [None, Some("/"), Some("/"), Some("::"), Some(":")];
    for i in 0..150 {
        let prefix = match rng.below(3) {
            0 => String::new(),
            _ => random_prefix(&mut rng, &world.model),
        };
        let page_size = match rng.below(6) {
            0 => 1,
            1 => 2,
            2 => 1 + rng.below(10),
            3 => 1 + rng.below(100),
            4 => 1 + rng.below(1000),
            _ => 1000,
        };
        let start_after = match rng.below(6) {
            0 => Some(random_prefix(&mut rng, &world.model)),
            1 => {
                // A common prefix of the listing itself, or a key inside one.
                let p = random_prefix(&mut rng, &world.model);
                Some(p.find('/').map_or(p.clone(), |i| p[..=i].to_owned()))
            }
            _ => None,
        };
        let version = if i % 4 == 0 { v1 } else { v2 };
        cases.push(Case { version, prefix, delimiter: *rng.pick(&delimiters), page_size, start_after });
    }
    let mut pages = 0;
    for c in &cases {
        pages += check_case(&mut world, c);
    }
    assert!(pages > 20_000, "the cases page a lot ({pages} pages)");
}

#[test]
fn reference_semantics() {
    let s = MemSource::with_keys(Quirk::None, &["a/", "a/b", "a/c/d", "b", "c/x", "c/y", "d"]);
    let list = |prefix, delimiter, start_after, max| {
        let page = reference_list(&s.objects, prefix, delimiter, start_after, max, false);
        let names: Vec<String> = page.entries.iter().map(|e| e.name().to_owned()).collect();
        (names.join(" "), page.is_truncated)
    };
    assert_eq!(list("", None, "", 100), ("a/ a/b a/c/d b c/x c/y d".into(), false));
    assert_eq!(list("", Some("/"), "", 100), ("a/ b c/ d".into(), false));
    assert_eq!(list("", Some("/"), "", 2), ("a/ b".into(), true));
    assert_eq!(list("", Some("/"), "", 4), ("a/ b c/ d".into(), false));
    assert_eq!(list("a/", Some("/"), "", 100), ("a/ a/b a/c/".into(), false));
    assert_eq!(list("", Some("/"), "a/", 100), ("b c/ d".into(), false));
    assert_eq!(list("", Some("/"), "a/a", 100), ("b c/ d".into(), false));
    assert_eq!(list("", Some("/"), "a", 100), ("a/ b c/ d".into(), false));
    assert_eq!(list("", Some("/"), "c/x", 100), ("d".into(), false));
    assert_eq!(list("", None, "c/x", 100), ("c/y d".into(), false));
    assert_eq!(list("", Some("/"), "c/y", 100), ("d".into(), false));
    assert_eq!(list("c", Some("/"), "", 0), ("".into(), false));
    for start_after in ["a/", "a/a"] {
        let quirky = reference_list(&s.objects, "", Some("/"), start_after, 100, true);
        assert_eq!(quirky.entries.first(), Some(&Entry::Prefix("a/".into())));
    }
}
