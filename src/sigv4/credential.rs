//! The two lists every SigV4 authorization carries: the credential scope
//! (`AK/YYYYMMDD/region/service/aws4_request`) and SignedHeaders
//! (`host;x-amz-content-sha256;x-amz-date`), parsed without copying.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>
//! and, for their percent-encoded query forms,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//!
//! # Invariants
//! - In a presigned query the separators may be percent-encoded (`%2F`, `%3B`,
//!   either hex case). Any other `%` inside an element is refused, so every
//!   element is a plain slice of the request (the access key and region in
//!   [`Credential`] borrow from it) and the decoded form is exactly the
//!   elements joined by the plain separator.
//! - A parsed [`SignedHeaders`] has at least one name, no empty name, only
//!   RFC 9110 token characters in each name, and names `host`.

use super::error::Malformed;
use super::limits::{S3_SERVICE, SCOPE_DATE_LEN, SCOPE_TERMINATOR, SIGNED_HEADERS_INLINE};
use crate::http::name::eq_ignore_case;
use crate::swar::{WORD, eq_byte, in_range, lanes_inside, load};

/// The header every SignedHeaders list must name.
const HOST: &str = "host";

/// A parsed credential scope. The service is always `s3` and the terminator
/// `aws4_request` (checked by [`Credential::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    pub access_key: &'a str,
    /// `YYYYMMDD` (8 ASCII digits).
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> Credential<'a> {
    /// Parses `AK/YYYYMMDD/region/service/aws4_request`. With `encoded`, the
    /// `/` separators may also be written `%2F` (query form).
    // Inlined so the result is built where the caller keeps it: returning it
    // through a `Result` copies it right after it was written, which stalls.
    #[inline(always)]
    pub fn parse(raw: &'a str, encoded: bool) -> Result<Credential<'a>, Malformed> {
        let parts =
            if encoded { encoded_scope_parts(raw) } else { s3_scope_parts(raw).or_else(|| scope_parts(raw)) };
        let Some([access_key, date, region, service, terminator]) = parts else {
            return Err(Malformed::Credential);
        };
        // `%` is refused by scope_parts, and in the query form by Split
        // except in the separators it cuts on.
        let plain = |s: &str| !s.is_empty() && (!encoded || !s.as_bytes().contains(&b'%'));
        if !plain(access_key) || !plain(region) {
            return Err(Malformed::Credential);
        }
        if date.len() != SCOPE_DATE_LEN || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Malformed::Credential);
        }
        if service != S3_SERVICE {
            return Err(Malformed::Service);
        }
        if terminator != SCOPE_TERMINATOR {
            return Err(Malformed::Terminator);
        }
        Ok(Credential { access_key, date, region, service })
    }
}

/// Elements of a credential scope: access key, date, region, service, terminator.
const SCOPE_PARTS: usize = 5;

/// How every S3 credential scope ends: service and terminator.
const S3_SCOPE_TAIL: &str = "s3/aws4_request";

/// The elements of the usual plain scope, `AK/YYYYMMDD/region/s3/aws4_request`,
/// found by scanning only the access key and the region (the rest has fixed
/// lengths). `None` for any other shape, which [`scope_parts`] then splits
/// (and reports).
fn s3_scope_parts(raw: &str) -> Option<[&str; SCOPE_PARTS]> {
    let b = raw.as_bytes();
    let cut = |c: &u8| *c == b'/' || *c == b'%';
    let ak_end = b.iter().position(cut)?;
    let date_end = ak_end + 1 + SCOPE_DATE_LEN;
    if b[ak_end] != b'/' || b.get(date_end) != Some(&b'/') {
        return None;
    }
    let region_start = date_end + 1;
    let region_end = region_start + b.get(region_start..)?.iter().position(cut)?;
    if b[region_end] != b'/' || &b[region_end + 1..] != S3_SCOPE_TAIL.as_bytes() {
        return None;
    }
    // Every cut is at a `/` (ASCII): char boundaries.
    Some([
        raw.get(..ak_end)?,
        raw.get(ak_end + 1..date_end)?,
        raw.get(region_start..region_end)?,
        S3_SERVICE,
        SCOPE_TERMINATOR,
    ])
}

/// The `/`-separated elements of a plain credential scope, in one byte scan;
/// `None` unless there are exactly [`SCOPE_PARTS`], or when a `%` is in one
/// of them (only the query form has escapes, see the module invariants).
fn scope_parts(raw: &str) -> Option<[&str; SCOPE_PARTS]> {
    let mut cuts = [0usize; SCOPE_PARTS - 1];
    let (mut n, mut percent) = (0, false);
    for (i, &c) in raw.as_bytes().iter().enumerate() {
        if c == b'/' {
            *cuts.get_mut(n)? = i;
            n += 1;
        }
        percent |= c == b'%';
    }
    if n != cuts.len() || percent {
        return None;
    }
    // `/` is ASCII, so every cut is a char boundary.
    let [a, d, r, s] = cuts;
    Some([&raw[..a], &raw[a + 1..d], &raw[d + 1..r], &raw[r + 1..s], &raw[s + 1..]])
}

/// The elements of a query-form credential scope (`/` or `%2F` separated).
fn encoded_scope_parts(raw: &str) -> Option<[&str; SCOPE_PARTS]> {
    let mut parts = Split::new(raw, b'/', Some(*b"2F"));
    let out = [parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?];
    parts.next().is_none().then_some(out)
}

/// The SignedHeaders list, in the order the client sent it.
///
/// A plain list of up to [`SIGNED_HEADERS_INLINE`] names records where each
/// name ends while it is validated, so walking the names never scans the list
/// again; longer lists and query-form lists are split as they are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHeaders<'a> {
    raw: &'a str,
    encoded: bool,
    /// The offsets in `raw` where the first `recorded` names end.
    ends: [u16; SIGNED_HEADERS_INLINE],
    /// How many names `ends` holds: all of them, or 0 when not recorded.
    /// (A whole word: it is written last, just before the list is returned,
    /// and a narrower store there stalls the copy that follows.)
    recorded: usize,
}

impl<'a> SignedHeaders<'a> {
    fn unrecorded(raw: &'a str, encoded: bool) -> SignedHeaders<'a> {
        SignedHeaders { raw, encoded, ends: [0; SIGNED_HEADERS_INLINE], recorded: 0 }
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
            if !split_lowercase_list(b, &mut names) {
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
/// send) eight bytes at a time. Returns false, having perhaps ended some
/// names, when another byte appears or a name is empty: the caller then
/// starts over byte by byte, which also reports the error.
fn split_lowercase_list(b: &[u8], names: &mut NameEnds<'_, '_>) -> bool {
    let mut start = 0;
    for at in (0..b.len()).step_by(WORD) {
        let w = load(b, at);
        let inside = lanes_inside(b, at);
        let semis = eq_byte(w, b';');
        let allowed = in_range(w, b'a', b'z') | in_range(w, b'0', b'9') | eq_byte(w, b'-') | semis;
        if allowed & inside != inside {
            return false;
        }
        let mut semis = semis & inside;
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

/// Below this length a byte loop finds a separator faster than memchr.
const MEMCHR_MIN_LEN: usize = 128;

/// Splits a string on a separator byte and, optionally, on its percent-encoded
/// form `%XX` (hex digits matched case-insensitively).
#[derive(Debug, Clone)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
    encoded: Option<[u8; 2]>,
}

impl<'a> Split<'a> {
    fn new(s: &'a str, sep: u8, encoded: Option<[u8; 2]>) -> Split<'a> {
        Split { rest: Some(s), sep, encoded }
    }

    /// Like `str::split(sep)` for an ASCII `sep`, without the char searcher.
    pub(crate) fn plain(s: &'a str, sep: u8) -> Split<'a> {
        debug_assert!(sep.is_ascii());
        Split::new(s, sep, None)
    }
}

/// Like `str::split_once(sep)` for an ASCII `sep`, as a plain byte scan.
pub(crate) fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    // An ASCII byte is always a char boundary.
    s.as_bytes().iter().position(|&c| c == sep).map(|i| (&s[..i], &s[i + 1..]))
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let b = s.as_bytes();
        let cut = match self.encoded {
            // Names and scope parts are short, where a plain scan beats a
            // memchr call; queries are long, where memchr wins.
            None if b.len() < MEMCHR_MIN_LEN => b.iter().position(|&c| c == self.sep).map(|i| (i, 1)),
            None => memchr::memchr(self.sep, b).map(|i| (i, 1)),
            Some([hi, lo]) => {
                let mut from = 0;
                loop {
                    let Some(i) = memchr::memchr2(self.sep, b'%', &b[from..]).map(|i| i + from) else {
                        break None;
                    };
                    if b[i] == self.sep {
                        break Some((i, 1));
                    }
                    if b.len() >= i + 3
                        && b[i + 1].eq_ignore_ascii_case(&hi)
                        && b[i + 2].eq_ignore_ascii_case(&lo)
                    {
                        break Some((i, 3));
                    }
                    from = i + 1;
                }
            }
        };
        match cut {
            // The separators are ASCII, so both cuts are char boundaries.
            Some((i, sep_len)) => {
                self.rest = Some(&s[i + sep_len..]);
                Some(&s[..i])
            }
            None => {
                self.rest = None;
                Some(s)
            }
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
    fn plain_credential() {
        let c = Credential::parse("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", false).unwrap();
        assert_eq!(
            (c.access_key, c.date, c.region, c.service),
            ("AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3")
        );
    }

    #[test]
    fn usual_scopes_take_the_short_path() {
        assert_eq!(S3_SCOPE_TAIL, format!("{S3_SERVICE}/{SCOPE_TERMINATOR}"));
        for raw in [
            "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
            "A/20130524/r/s3/aws4_request",
            "AK/20130524//s3/aws4_request",
            "AK/2013052x/r/s3/aws4_request",
        ] {
            assert_eq!(s3_scope_parts(raw), scope_parts(raw), "{raw}");
        }
        for other in [
            "AK/20130524/r/iam/aws4_request",
            "AK/20130524/r/s3/aws4_request/x",
            "AK/2013052/r/s3/aws4_request",
            "A%41/20130524/r/s3/aws4_request",
            "AK/20130524/r%41/s3/aws4_request",
            "AK/20130524/r",
            "AK/20130524",
            "AK",
        ] {
            assert_eq!(s3_scope_parts(other), None, "{other}");
        }
    }

    #[test]
    fn encoded_credential() {
        let raw = "AKIAIOSFODNN7EXAMPLE%2F20130524%2fus-east-1%2Fs3/aws4_request";
        let c = Credential::parse(raw, true).unwrap();
        assert_eq!((c.access_key, c.region), ("AKIAIOSFODNN7EXAMPLE", "us-east-1"));
        // %2F is only a separator in the query form
        assert_eq!(Credential::parse(raw, false), Err(Malformed::Credential));
    }

    #[test]
    fn bad_credentials() {
        let cases = [
            ("", Malformed::Credential),
            ("AK/20130524/us-east-1/s3", Malformed::Credential),
            ("AK/20130524/us-east-1/s3/aws4_request/x", Malformed::Credential),
            ("/20130524/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/2013052/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/2013052x/us-east-1/s3/aws4_request", Malformed::Credential),
            ("AK/20130524//s3/aws4_request", Malformed::Credential),
            ("AK/20130524/us-east-1/ec2/aws4_request", Malformed::Service),
            ("AK/20130524/us-east-1/S3/aws4_request", Malformed::Service),
            ("AK/20130524/us-east-1/s3/aws5_request", Malformed::Terminator),
        ];
        for (raw, want) in cases {
            assert_eq!(Credential::parse(raw, false), Err(want), "{raw}");
        }
        assert_eq!(Credential::parse("A%41/20130524/r/s3/aws4_request", true), Err(Malformed::Credential));
    }

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

    #[test]
    fn split_handles_trailing_percent() {
        let v: Vec<_> = Split::new("a%2", b'/', Some(*b"2F")).collect();
        assert_eq!(v, ["a%2"]);
        let v: Vec<_> = Split::new("a%2f", b'/', Some(*b"2F")).collect();
        assert_eq!(v, ["a", ""]);
    }
}
