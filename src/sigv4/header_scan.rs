//! One pass over the request headers for SigV4: which request header holds
//! each SignedHeaders name, so the canonical request is written without
//! searching the headers once per name, and the `x-amz-*` headers
//! verification reads.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
//! ("CanonicalHeaders"; every `x-amz-*` header must be signed).
//!
//! # Decisions
//! - Holders are indexed only for a recorded SignedHeaders list (plain form,
//!   at most `SIGNED_HEADERS_INLINE` names: what SDKs send). For any other
//!   list [`HeaderScan::holder`] answers [`Holder::Unknown`] and the writer
//!   searches the headers for the name, as before.
//! - Of repeated `x-amz-date` and `x-amz-content-sha256` headers the first
//!   counts; all of them must be signed, like every `x-amz-*` header.
//!
//! # Invariants
//! - For an indexed list, [`Holder::At`] names the first request header of
//!   that name (ASCII case-insensitive) and whether another follows it, and
//!   [`Holder::Absent`] means no header has it: the canonical request is the
//!   one a search per name writes (tested against that search on generated
//!   heads, repeated and absent names included).

use super::limits::SIGNED_HEADERS_INLINE;
use super::signed_headers::{LengthTable, SignedHeaders};
use crate::http::limits::MAX_HEADERS;
use crate::http::name::eq_lowercase;

/// The prefix of the headers that must all be signed.
const AMZ_PREFIX: &[u8] = b"x-amz-";
/// The headers verification reads.
const DATE_HEADER: &[u8] = b"x-amz-date";
const CONTENT_SHA256_HEADER: &[u8] = b"x-amz-content-sha256";

/// A holder slot for a name no request header has. Header indexes fit in a
/// byte below it: a head has at most `MAX_HEADERS` headers.
const ABSENT: u8 = u8::MAX;
const _: () = assert!(MAX_HEADERS < ABSENT as usize);

/// Where the values of one signed name are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Not indexed: search the headers.
    Unknown,
    /// No request header has the name.
    Absent,
    /// `first` is the index of the first header with the name; `repeated`
    /// says whether a later one has it too.
    At { first: usize, repeated: bool },
}

/// What one pass over the request headers found.
#[derive(Debug, Clone)]
pub(crate) struct HeaderScan<'a> {
    /// The first `x-amz-date` value.
    pub date: Option<&'a [u8]>,
    /// The first `x-amz-content-sha256` value.
    pub content_sha256: Option<&'a [u8]>,
    /// Whether some `x-amz-*` header is not in SignedHeaders.
    pub unsigned: bool,
    indexed: bool,
    /// Per signed name: the index of its first header, or `ABSENT`.
    first: [u8; SIGNED_HEADERS_INLINE],
    /// Bit `i`: signed name `i` has more than one header.
    repeated: u32,
}

impl<'a> HeaderScan<'a> {
    /// A scan of no header yet.
    pub(crate) const fn empty() -> HeaderScan<'a> {
        HeaderScan {
            date: None,
            content_sha256: None,
            unsigned: false,
            indexed: false,
            first: [ABSENT; SIGNED_HEADERS_INLINE],
            repeated: 0,
        }
    }

    /// Scans `headers` against the SignedHeaders list `signed`, into `self`
    /// (empty), where the caller keeps it: a scan returned by value would be
    /// copied right after its flags and slots were stored, and the copy
    /// waits for those stores.
    #[inline(always)]
    pub(crate) fn fill(&mut self, headers: &[httparse::Header<'a>], signed: &SignedHeaders<'_>) {
        let mut lengths = LengthTable::EMPTY;
        let indexed = headers.len() <= MAX_HEADERS && signed.fill_lengths(&mut lengths);
        // Scalars found in locals (registers), the slots written in place.
        let (mut date, mut content_sha256, mut unsigned, mut repeated) = (None, None, false, 0);
        for (j, h) in headers.iter().enumerate() {
            let name = h.name.as_bytes();
            let amz = name.get(..AMZ_PREFIX.len()).is_some_and(|p| eq_lowercase(p, AMZ_PREFIX));
            if indexed {
                let mut listed = signed.matching(&lengths, h.name);
                unsigned |= amz & (listed == 0);
                while listed != 0 {
                    let i = listed.trailing_zeros() as usize;
                    listed &= listed - 1;
                    let slot = &mut self.first[i];
                    if *slot == ABSENT {
                        // `indexed` checked that `j` fits below ABSENT.
                        *slot = j as u8;
                    } else {
                        repeated |= 1 << i;
                    }
                }
            } else if amz {
                unsigned |= !signed.contains(h.name);
            }
            if !amz {
                continue;
            }
            if eq_lowercase(name, DATE_HEADER) {
                date.get_or_insert(h.value);
            } else if eq_lowercase(name, CONTENT_SHA256_HEADER) {
                content_sha256.get_or_insert(h.value);
            }
        }
        self.date = date;
        self.content_sha256 = content_sha256;
        self.unsigned = unsigned;
        self.indexed = indexed;
        self.repeated = repeated;
    }

    /// A scan of `headers` against `signed` (tests: the hot path fills one in place).
    #[cfg(test)]
    pub(crate) fn new(headers: &[httparse::Header<'a>], signed: &SignedHeaders<'_>) -> HeaderScan<'a> {
        let mut scan = HeaderScan::empty();
        scan.fill(headers, signed);
        scan
    }

    /// Where the values of the `i`-th signed name are.
    pub(crate) fn holder(&self, i: usize) -> Holder {
        match self.first.get(i) {
            _ if !self.indexed => Holder::Unknown,
            Some(&ABSENT) => Holder::Absent,
            Some(&first) => Holder::At { first: usize::from(first), repeated: self.repeated >> i & 1 != 0 },
            None => Holder::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<httparse::Header<'a>> {
        pairs.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect()
    }

    #[test]
    fn holders_of_a_recorded_list() {
        let h = headers(&[
            ("Host", "h"),
            ("X-Amz-Date", "d1"),
            ("x-amz-meta-a", "m1"),
            ("x-amz-date", "d2"),
            ("X-AMZ-META-A", "m2"),
            ("Range", "r"),
            ("x-amz-content-sha256", "c"),
        ]);
        let signed =
            SignedHeaders::parse("host;x-amz-date;x-amz-meta-a;x-amz-content-sha256;absent;host", false)
                .unwrap();
        let scan = HeaderScan::new(&h, &signed);
        assert_eq!(scan.holder(0), Holder::At { first: 0, repeated: false });
        assert_eq!(scan.holder(1), Holder::At { first: 1, repeated: true });
        assert_eq!(scan.holder(2), Holder::At { first: 2, repeated: true });
        assert_eq!(scan.holder(3), Holder::At { first: 6, repeated: false });
        assert_eq!(scan.holder(4), Holder::Absent);
        // a name listed twice is held by the same header at both places
        assert_eq!(scan.holder(5), Holder::At { first: 0, repeated: false });
        assert_eq!(scan.holder(SIGNED_HEADERS_INLINE), Holder::Unknown);
        assert_eq!((scan.date, scan.content_sha256), (Some(&b"d1"[..]), Some(&b"c"[..])));
        assert!(!scan.unsigned);
        let unsigned = SignedHeaders::parse("host;x-amz-date;x-amz-content-sha256", false).unwrap();
        assert!(HeaderScan::new(&h, &unsigned).unsigned);
    }

    #[test]
    fn lists_that_are_not_recorded_are_searched() {
        let h = headers(&[("host", "h"), ("x-amz-date", "d"), ("x-amz-meta-b", "b")]);
        let encoded = SignedHeaders::parse("host%3Bx-amz-date", true).unwrap();
        let scan = HeaderScan::new(&h, &encoded);
        assert_eq!(scan.holder(0), Holder::Unknown);
        assert!(scan.unsigned);
        assert_eq!(scan.date, Some(&b"d"[..]));
        let signed = SignedHeaders::parse("host%3Bx-amz-date%3Bx-amz-meta-b", true).unwrap();
        assert!(!HeaderScan::new(&h, &signed).unsigned);
    }
}
