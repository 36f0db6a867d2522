//! The SignedHeaders list of a SigV4 authorization
//! (`host;x-amz-content-sha256;x-amz-date`), validated and split without
//! copying.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>
//! and, for the percent-encoded query form,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//!
//! # Invariants
//! - A parsed [`SignedHeaders`] has at least one name, no empty name, only
//!   RFC 9110 token characters in each name, and names `host`.
//! - In the query form `%3B` (either hex case) also separates names; any
//!   other `%` is refused, so every name is a plain slice of the request.

use super::error::Malformed;
use super::limits::SIGNED_HEADERS_INLINE;
use super::split::Split;
use crate::byte_class::all_bytes;
use crate::http::name::{eq_ignore_case, eq_lowercase};
use crate::swar::{WORD, eq_byte, load};

/// The header every SignedHeaders list must name.
const HOST: &str = "host";

/// The SignedHeaders list, in the order the client sent it.
///
/// A plain list of up to [`SIGNED_HEADERS_INLINE`] names records where each
/// name ends while it is validated, so walking the names never scans the list
/// again; longer lists and query-form lists are split as they are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHeaders<'a> {
    raw: &'a str,
    encoded: bool,
    /// Every name is `a-z 0-9 -` (checked while parsing).
    lowercase: bool,
    /// The offsets in `raw` where the first `recorded` names end.
    ends: [u16; SIGNED_HEADERS_INLINE],
    /// How many names `ends` holds: all of them, or 0 when not recorded.
    /// (A whole word: it is written last, just before the list is returned,
    /// and a narrower store there stalls the copy that follows.)
    recorded: usize,
}

impl<'a> SignedHeaders<'a> {
    fn unrecorded(raw: &'a str, encoded: bool) -> SignedHeaders<'a> {
        SignedHeaders { raw, encoded, lowercase: false, ends: [0; SIGNED_HEADERS_INLINE], recorded: 0 }
    }

    /// Parses and validates a `;`-separated list; with `encoded`, `%3B` also
    /// separates (query form). The list must name `host`, as AWS requires
    /// (`HostNotSigned` otherwise).
    #[inline(always)]
    pub fn parse(raw: &'a str, encoded: bool) -> Result<SignedHeaders<'a>, Malformed> {
        let mut list = SignedHeaders::unrecorded(raw, encoded);
        let has_host = if encoded {
            let valid =
                !raw.is_empty() && list.iter().all(|name| !name.is_empty() && name.bytes().all(is_tchar));
            if !valid {
                return Err(Malformed::SignedHeaders);
            }
            list.contains(HOST)
        } else {
            // One pass: token bytes, `;` never first, last or doubled, each
            // name compared with `host` and its end recorded as it ends.
            let b = raw.as_bytes();
            let mut names = NameEnds { list: &mut list, n: 0, has_host: false };
            let lowercase = split_lowercase_list(b, &mut names);
            names.list.lowercase = lowercase;
            if !lowercase {
                // Not all `a-z 0-9 -`: validate and split byte by byte.
                names = NameEnds { list: names.list, n: 0, has_host: false };
                let mut start = 0;
                for (i, &c) in b.iter().enumerate() {
                    if c == b';' {
                        names.end(b, start, i)?;
                        start = i + 1;
                    } else if !is_tchar(c) {
                        return Err(Malformed::SignedHeaders);
                    }
                }
                names.end(b, start, b.len())?;
            }
            let (n, has_host) = (names.n, names.has_host);
            list.record(n);
            has_host
        };
        if !has_host {
            return Err(Malformed::HostNotSigned);
        }
        Ok(list)
    }

    /// Marks the `n` names written to `ends` as recorded, when they all fit.
    fn record(&mut self, n: usize) {
        let fits = n <= SIGNED_HEADERS_INLINE && u16::try_from(self.raw.len()).is_ok();
        self.recorded = if fits { n } else { 0 };
    }

    /// A list sluice itself built (outbound signing): `;`-separated, trusted.
    pub fn trusted(raw: &'a str) -> SignedHeaders<'a> {
        let mut list = SignedHeaders::unrecorded(raw, false);
        let mut n = 0;
        for (i, &c) in raw.as_bytes().iter().enumerate().chain([(raw.len(), &b';')]) {
            if c == b';' {
                if let (Some(end), Ok(at)) = (list.ends.get_mut(n), u16::try_from(i)) {
                    *end = at;
                }
                n += 1;
            }
        }
        list.record(n);
        list
    }

    /// The header names, in order.
    pub fn iter(&self) -> Names<'_, 'a> {
        if self.recorded > 0 {
            let ends = self.ends[..self.recorded].iter();
            Names::Recorded { raw: self.raw, ends, start: 0 }
        } else {
            Names::Split(Split::new(self.raw, b';', self.encoded.then_some(*b"3B")))
        }
    }

    /// Whether `name` is listed (ASCII case-insensitive).
    pub fn contains(&self, name: &str) -> bool {
        if self.recorded == 0 {
            return self.iter().any(|n| eq_ignore_case(n.as_bytes(), name.as_bytes()));
        }
        // The recorded ends give each length without slicing the list.
        let (raw, name) = (self.raw.as_bytes(), name.as_bytes());
        let mut start = 0;
        for &end in &self.ends[..self.recorded] {
            let end = usize::from(end);
            if end - start == name.len() && raw.get(start..end).is_some_and(|n| eq_ignore_case(n, name)) {
                return true;
            }
            start = end + 1;
        }
        false
    }

    /// Fills `table` for a recorded list and returns true; returns false,
    /// leaving it alone, for any other list.
    pub(crate) fn fill_lengths(&self, table: &mut LengthTable) -> bool {
        let mut start = 0;
        for (i, &end) in self.ends[..self.recorded].iter().enumerate() {
            let end = usize::from(end);
            if let Some(slot) = table.by_len.get_mut(end - start) {
                // `i` is below SIGNED_HEADERS_INLINE, far below SHARED.
                *slot = if *slot == NO_NAME { i as u8 } else { SHARED };
            }
            start = end + 1;
        }
        self.recorded > 0
    }

    /// The positions in a recorded list that hold `name` (ASCII
    /// case-insensitive), as a bit mask (bit `i` for the `i`-th name), found
    /// with the `table` [`Self::fill_lengths`] filled for this list.
    /// Inlined: it runs once per request header.
    #[inline(always)]
    pub(crate) fn matching(&self, table: &LengthTable, name: &str) -> u32 {
        let name = name.as_bytes();
        let is = |i: usize| {
            let listed = self.recorded_name(i);
            if self.lowercase { eq_lowercase(name, listed) } else { eq_ignore_case(listed, name) }
        };
        match table.by_len.get(name.len()) {
            Some(&NO_NAME) => 0,
            Some(&SHARED) | None => (0..self.recorded).filter(|&i| is(i)).fold(0, |mask, i| mask | 1 << i),
            Some(&i) => u32::from(is(usize::from(i))) << i,
        }
    }

    /// The `i`-th name of a recorded list.
    fn recorded_name(&self, i: usize) -> &'a [u8] {
        let start = match i {
            0 => 0,
            _ => usize::from(self.ends[i - 1]) + 1,
        };
        self.raw.as_bytes().get(start..usize::from(self.ends[i])).unwrap_or_default()
    }

    /// Appends the decoded list (names joined by `;`).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if !self.encoded {
            out.extend_from_slice(self.raw.as_bytes());
            return;
        }
        for (i, name) in self.iter().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            out.extend_from_slice(name.as_bytes());
        }
    }
}

/// Name lengths a [`LengthTable`] looks up directly; names this long or longer
/// are compared with every listed name.
const INDEXED_LENGTHS: usize = 64;
/// `LengthTable::by_len` entries: no listed name of that length, or several.
const NO_NAME: u8 = u8::MAX;
const SHARED: u8 = u8::MAX - 1;
const _: () = assert!(SIGNED_HEADERS_INLINE < SHARED as usize);
// `SignedHeaders::matching` has a bit for every recorded name.
const _: () = assert!(SIGNED_HEADERS_INLINE <= u32::BITS as usize);

/// From name length to the one name of that length in a recorded list, so
/// that finding which listed name a header is takes one lookup and at most
/// one comparison for the usual list, whose names differ in length. The
/// caller keeps it in place: filled with byte stores, it is read a byte at a
/// time, never copied whole (a copy right after the stores stalls on them).
pub(crate) struct LengthTable {
    /// The position of the listed name of each length, `NO_NAME` or `SHARED`.
    by_len: [u8; INDEXED_LENGTHS],
}

impl LengthTable {
    /// A table for no name.
    pub(crate) const EMPTY: LengthTable = LengthTable { by_len: [NO_NAME; INDEXED_LENGTHS] };
}

/// The state of a plain list being split: names seen, `host` among them,
/// and their ends recorded.
struct NameEnds<'l, 'a> {
    list: &'l mut SignedHeaders<'a>,
    n: usize,
    has_host: bool,
}

impl NameEnds<'_, '_> {
    /// Ends the name `b[start..i]`; an empty one makes the list malformed.
    #[inline(always)]
    fn end(&mut self, b: &[u8], start: usize, i: usize) -> Result<(), Malformed> {
        if i == start {
            return Err(Malformed::SignedHeaders);
        }
        self.has_host |= i - start == HOST.len() && eq_ignore_case(&b[start..i], HOST.as_bytes());
        if let (Some(end), Ok(at)) = (self.list.ends.get_mut(self.n), u16::try_from(i)) {
            *end = at;
        }
        self.n += 1;
        Ok(())
    }
}

/// Validates and splits a list of lowercase names (`a-z 0-9 -`, what SDKs
/// send): the bytes are checked sixteen at a time, then the `;` found eight
/// at a time. Returns false, having perhaps ended some names, when another
/// byte appears or a name is empty: the caller then starts over byte by
/// byte, which also reports the error.
fn split_lowercase_list(b: &[u8], names: &mut NameEnds<'_, '_>) -> bool {
    let lowercase_or_semi =
        |c: u8| (c.wrapping_sub(b'a') < 26) | (c.wrapping_sub(b'0') < 10) | (c == b'-') | (c == b';');
    if !all_bytes(b, lowercase_or_semi) {
        return false;
    }
    let mut start = 0;
    for at in (0..b.len()).step_by(WORD) {
        // `load` pads past the end with zeros, which are not `;`.
        let mut semis = eq_byte(load(b, at), b';');
        while semis != 0 {
            let i = at + (semis.trailing_zeros() / 8) as usize;
            if names.end(b, start, i).is_err() {
                return false;
            }
            start = i + 1;
            semis &= semis - 1;
        }
    }
    names.end(b, start, b.len()).is_ok()
}

/// The names of a [`SignedHeaders`] list, in order.
#[derive(Debug, Clone)]
pub enum Names<'s, 'a> {
    /// A list whose name ends were recorded when it was parsed.
    Recorded { raw: &'a str, ends: std::slice::Iter<'s, u16>, start: usize },
    /// Any other list, split as it is walked.
    Split(Split<'a>),
}

impl<'a> Iterator for Names<'_, 'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Names::Recorded { raw, ends, start } => {
                let end = usize::from(*ends.next()?);
                // Recorded ends are `;` positions or the end: char boundaries.
                let name = raw.get(*start..end)?;
                *start = end + 1;
                Some(name)
            }
            Names::Split(split) => split.next(),
        }
    }
}

/// RFC 9110 `tchar`: the bytes a header field name may contain.
fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_headers() {
        let s = SignedHeaders::parse("host;range;x-amz-date", false).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), ["host", "range", "x-amz-date"]);
        for listed in ["host", "Host", "a;host", "host;b", "a;HOST;b"] {
            assert!(SignedHeaders::parse(listed, false).is_ok(), "{listed}");
        }
        for unlisted in ["hostx", "a;xhost", "hos;t", "x-amz-date"] {
            assert_eq!(SignedHeaders::parse(unlisted, false), Err(Malformed::HostNotSigned), "{unlisted}");
        }
        assert_eq!(SignedHeaders::parse("x-amz-date", true), Err(Malformed::HostNotSigned));
        assert_eq!(s.iter().collect::<Vec<_>>(), ["host", "range", "x-amz-date"]);
        assert!(s.contains("Host") && !s.contains("x-amz-content-sha256"));
        let e = SignedHeaders::parse("host%3Bx-amz-date%3bmy-h", true).unwrap();
        assert_eq!(e.iter().collect::<Vec<_>>(), ["host", "x-amz-date", "my-h"]);
        let mut out = Vec::new();
        e.write_to(&mut out);
        assert_eq!(out, b"host;x-amz-date;my-h");
        // Lists the word-at-a-time split gives up on midway are split again byte by byte.
        for (raw, names) in [
            ("host;x-amz-date;my_h", &["host", "x-amz-date", "my_h"][..]),
            (
                "content-length;content-type;Host;x-amz-date",
                &["content-length", "content-type", "Host", "x-amz-date"],
            ),
            ("a;b;c;d;e;f;g;h;i;host", &["a", "b", "c", "d", "e", "f", "g", "h", "i", "host"]),
        ] {
            let list = SignedHeaders::parse(raw, false).unwrap();
            assert_eq!(list.iter().collect::<Vec<_>>(), names, "{raw}");
        }
        for bad in [
            "",
            ";",
            "host;",
            "host;;x",
            "ho st",
            "host%3Bx",
            ";host",
            "host;;X",
            "host;a;b;c;d;e;f;;g",
            "hostx;\u{e9}",
        ] {
            assert_eq!(SignedHeaders::parse(bad, false), Err(Malformed::SignedHeaders), "{bad}");
        }
        assert_eq!(SignedHeaders::parse("host%20x", true), Err(Malformed::SignedHeaders));
    }

    /// Lists past the recorded names, and built ones, walk the same names.
    /// Mixed-case lists too long to record, and built lists too long for the
    /// recorded offsets, are split as they are walked.
    #[test]
    fn lists_that_are_not_recorded() {
        let names: Vec<String> = std::iter::once("Host".to_string())
            .chain((1..=SIGNED_HEADERS_INLINE + 3).map(|i| format!("X-H{i}")))
            .collect();
        let raw = names.join(";");
        let parsed = SignedHeaders::parse(&raw, false).unwrap();
        assert_eq!(parsed.recorded, 0);
        assert_eq!(parsed.iter().collect::<Vec<_>>(), names);
        assert!(parsed.contains("x-h19") && parsed.contains("host"));
        let huge = format!("host;{}", "a".repeat(usize::from(u16::MAX)));
        let built = SignedHeaders::trusted(&huge);
        assert_eq!(built.recorded, 0);
        assert_eq!(built.iter().map(str::len).collect::<Vec<_>>(), [4, usize::from(u16::MAX)]);
    }

    /// The length table finds every listed name, of any case, length or
    /// repetition, exactly where comparing with each name finds it.
    #[test]
    fn length_table_matches_like_a_comparison_with_every_name() {
        let long = "x".repeat(INDEXED_LENGTHS + 3);
        let lists = [
            "host;x-amz-date;range".to_string(),
            "host;x-amz-date;user-agent;x-amz-date".to_string(),
            "Host;X-Amz-Date;range".to_string(),
            format!("host;{long};{}", &long[..INDEXED_LENGTHS - 1]),
            (0..SIGNED_HEADERS_INLINE).map(|i| format!("h{i}")).collect::<Vec<_>>().join(";") + ";host",
        ];
        for raw in &lists {
            let list = SignedHeaders::parse(raw, false).unwrap();
            let mut table = LengthTable::EMPTY;
            assert_eq!(list.fill_lengths(&mut table), list.recorded > 0, "{raw}");
            if list.recorded == 0 {
                continue;
            }
            let names: Vec<&str> = list.iter().collect();
            let probes = names
                .iter()
                .flat_map(|n| [n.to_string(), n.to_uppercase(), format!("{n}x"), n[1..].to_string()])
                .chain(["".to_string(), "user-agenT".to_string(), long.to_uppercase()]);
            for probe in probes {
                let want = names
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.eq_ignore_ascii_case(&probe))
                    .fold(0u32, |mask, (i, _)| mask | 1 << i);
                assert_eq!(list.matching(&table, &probe), want, "{probe} in {raw}");
                assert_eq!(list.contains(&probe), want != 0, "{probe} in {raw}");
            }
        }
        let encoded = SignedHeaders::parse("host%3Bx-amz-date", true).unwrap();
        let mut table = LengthTable::EMPTY;
        assert!(!encoded.fill_lengths(&mut table));
    }

    #[test]
    fn long_and_trusted_lists() {
        for count in [1, SIGNED_HEADERS_INLINE - 1, SIGNED_HEADERS_INLINE, SIGNED_HEADERS_INLINE + 1, 40] {
            let names: Vec<String> =
                std::iter::once("host".to_string()).chain((1..count).map(|i| format!("x-h{i}"))).collect();
            let raw = names.join(";");
            let parsed = SignedHeaders::parse(&raw, false).unwrap();
            assert_eq!(parsed.iter().collect::<Vec<_>>(), names, "{count} names");
            assert_eq!(SignedHeaders::trusted(&raw).iter().collect::<Vec<_>>(), names, "{count} names");
            assert!(parsed.contains(&format!("X-H{}", count - 1)) || count == 1);
            assert!(!parsed.contains("x-h0"));
        }
    }
}
