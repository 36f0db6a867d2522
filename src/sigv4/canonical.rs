//! The canonical request of SigV4, S3 flavour, written into a reusable buffer
//! from slices borrowed from the request head; and the AWS URI encoding.
//!
//! ```text
//! METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n payload-hash
//! ```
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
//! ("Task 1: Create a Canonical Request") and
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>.
//!
//! # Decisions
//! - CanonicalURI is the S3 flavour: the raw path is percent-decoded and every
//!   byte re-encoded with [`uri_encode`] keeping `/`; no `.`/`..` resolution, no
//!   double encoding, repeated slashes kept. The verifier also tries the raw
//!   path as sent when that differs (see `verify`).
//! - A `%` not followed by two hex digits is not an escape: it stays the literal
//!   byte `%` and is encoded `%25` (lenient: a client that sent a bare `%`
//!   can only have signed it as `%25`, or as sent, which the raw-path retry covers).
//! - CanonicalQuery: `&`-separated `k=v` or `k` (value `""`), empty pieces
//!   skipped, both sides decoded then encoded (`+` is a literal `+`, encoded
//!   `%2B`), sorted by encoded name then encoded value (bytewise).
//! - CanonicalHeaders: for each SignedHeaders name in the order sent, every
//!   request header of that name (ASCII case-insensitive) in request order,
//!   values trimmed of spaces and tabs with inner runs of spaces collapsed to
//!   one, joined by `,`. A listed name absent from the request is reported
//!   (`Written::all_headers_present`), never silently signed as empty.
//!
//! # Invariants
//! - No heap allocation once the scratch buffers have grown to the request's size.

use std::ops::Range;

use sha2::{Digest, Sha256};

use super::header_scan::{HeaderScan, Holder};
use super::limits::DIGEST_LEN;
use super::scratch::SigV4Scratch;
use super::signed_headers::SignedHeaders;
use super::split::{Split, split_once_byte};
use crate::byte_class::all_bytes;
use crate::http::name::eq_ignore_case;
use crate::http::ows::trim_ows;

/// Name of the presigned query parameter left out of the canonical query.
pub const SIGNATURE_PARAM: &str = "X-Amz-Signature";

const SHA256_BLOCK: usize = 64;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes left unencoded by the AWS rule (RFC 3986 unreserved), and the same
/// plus `/` (paths).
const UNRESERVED: [bool; 256] = unreserved_table(false);
const UNRESERVED_OR_SLASH: [bool; 256] = unreserved_table(true);

const fn unreserved_table(slash: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (slash && b == b'/');
        i += 1;
    }
    table
}

/// The table of bytes written as they are.
#[inline]
fn kept(encode_slash: bool) -> &'static [bool; 256] {
    if encode_slash { &UNRESERVED } else { &UNRESERVED_OR_SLASH }
}

#[inline]
fn push_encoded(b: u8, encode_slash: bool, out: &mut Vec<u8>) {
    if kept(encode_slash)[usize::from(b)] {
        out.push(b);
    } else {
        out.extend_from_slice(&[b'%', HEX_UPPER[usize::from(b >> 4)], HEX_UPPER[usize::from(b & 15)]]);
    }
}

/// Appends `bytes` encoded by the AWS rule: `A-Z a-z 0-9 - . _ ~` as is, `/`
/// as is unless `encode_slash`, every other byte `%XX` (uppercase hex). Use it
/// to build backend paths (`encode_slash = false`) and query values (`true`).
pub fn uri_encode(bytes: &[u8], encode_slash: bool, out: &mut Vec<u8>) {
    out.reserve(bytes.len());
    for &b in bytes {
        push_encoded(b, encode_slash, out);
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Appends `raw` percent-decoded and then AWS-encoded (see the module docs for
/// invalid escapes). Runs of unreserved bytes are copied in one go.
pub(crate) fn reencode(raw: &[u8], encode_slash: bool, out: &mut Vec<u8>) {
    // Most paths and values need no encoding at all: one check, one copy.
    let kept_as_is = |b: u8| {
        (b.wrapping_sub(b'a') < 26)
            | (b.wrapping_sub(b'A') < 26)
            | (b.wrapping_sub(b'0') < 10)
            | (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | ((b == b'/') & !encode_slash)
    };
    if all_bytes(raw, kept_as_is) {
        out.extend_from_slice(raw);
        return;
    }
    let kept = kept(encode_slash);
    let mut i = 0;
    while i < raw.len() {
        let run = raw[i..].iter().position(|&b| !kept[usize::from(b)]);
        let run = run.unwrap_or(raw.len() - i);
        out.extend_from_slice(&raw[i..i + run]);
        i += run;
        if i >= raw.len() {
            break;
        }
        let b = raw[i];
        let escape =
            match (b, raw.get(i + 1).copied().and_then(hex_val), raw.get(i + 2).copied().and_then(hex_val)) {
                (b'%', Some(hi), Some(lo)) => Some(hi << 4 | lo),
                _ => None,
            };
        match escape {
            Some(decoded) => {
                push_encoded(decoded, encode_slash, out);
                i += 3;
            }
            None => {
                push_encoded(b, encode_slash, out);
                i += 1;
            }
        }
    }
}

/// One query parameter inside `SigV4Scratch::query`: the encoded name is
/// `start..name_end`, the encoded value `name_end..end`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryParam {
    start: u32,
    name_end: u32,
    end: u32,
}

/// Appends the canonical query of `query` to `out`, using `buf` and `params`
/// as sort space. With `skip_signature`, `X-Amz-Signature` is left out.
pub(crate) fn write_canonical_query(
    query: &str,
    skip_signature: bool,
    buf: &mut Vec<u8>,
    params: &mut Vec<QueryParam>,
    out: &mut Vec<u8>,
) {
    if query.is_empty() {
        return;
    }
    buf.clear();
    params.clear();
    for piece in Split::plain(query, b'&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = split_once_byte(piece, b'=').unwrap_or((piece, ""));
        if skip_signature && name == SIGNATURE_PARAM {
            continue;
        }
        // Offsets fit in u32: the query is bounded by the head size limit.
        let start = buf.len() as u32;
        reencode(name.as_bytes(), true, buf);
        let name_end = buf.len() as u32;
        reencode(value.as_bytes(), true, buf);
        params.push(QueryParam { start, name_end, end: buf.len() as u32 });
    }
    let slice = |a: u32, b: u32| &buf[a as usize..b as usize];
    params.sort_unstable_by(|x, y| {
        slice(x.start, x.name_end)
            .cmp(slice(y.start, y.name_end))
            .then_with(|| slice(x.name_end, x.end).cmp(slice(y.name_end, y.end)))
    });
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(slice(p.start, p.name_end));
        out.push(b'=');
        out.extend_from_slice(slice(p.name_end, p.end));
    }
}

/// Appends a header value trimmed of spaces and tabs, inner runs of spaces
/// collapsed to one.
fn write_trimmed_value(value: &[u8], out: &mut Vec<u8>) {
    // Most values have no space or tab at all: one check, one copy.
    if all_bytes(value, |c| (c != b' ') & (c != b'\t')) {
        out.extend_from_slice(value);
        return;
    }
    let mut rest = trim_ows(value);
    // Copy up to and including each space, then skip the run of spaces after it.
    while let Some(i) = memchr::memchr(b' ', rest) {
        out.extend_from_slice(&rest[..=i]);
        let run = rest[i..].iter().take_while(|&&b| b == b' ').count();
        rest = &rest[i + run..];
    }
    out.extend_from_slice(rest);
}

/// Appends the canonical headers block (one `name:value\n` line per signed
/// name), finding each name's values through `scan` where it indexed them
/// and by a search of `headers` otherwise. Calls `feed` with the output
/// before each line. Returns whether every signed name was present.
pub(crate) fn write_canonical_headers<'n>(
    names: impl Iterator<Item = &'n str>,
    headers: &[httparse::Header<'_>],
    scan: Option<&HeaderScan<'_>>,
    out: &mut Vec<u8>,
    mut feed: impl FnMut(&[u8]),
) -> bool {
    let mut all_present = true;
    for (i, name) in names.enumerate() {
        feed(out);
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let (from, repeated) = match scan.map_or(Holder::Unknown, |s| s.holder(i)) {
            Holder::At { first, repeated } => (first, repeated),
            Holder::Absent => (headers.len(), false),
            Holder::Unknown => (0, true),
        };
        let mut found = false;
        if let Some(h) = headers.get(from).filter(|_| !repeated) {
            write_trimmed_value(h.value, out);
            found = true;
        } else {
            let same_name = |h: &&httparse::Header<'_>| eq_ignore_case(h.name.as_bytes(), name.as_bytes());
            for h in headers.get(from..).unwrap_or_default().iter().filter(same_name) {
                if found {
                    out.push(b',');
                }
                write_trimmed_value(h.value, out);
                found = true;
            }
        }
        out.push(b'\n');
        all_present &= found;
    }
    all_present
}

/// Everything a canonical request is built from, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestParts<'x> {
    pub method: &'x str,
    /// The raw path, still percent-encoded.
    pub path: &'x str,
    /// The raw query, without `?`.
    pub query: &'x str,
    pub headers: &'x [httparse::Header<'x>],
    pub signed_headers: SignedHeaders<'x>,
    /// Where the signed headers are, from one pass over `headers`.
    pub scan: &'x HeaderScan<'x>,
    /// The payload-hash line, verbatim.
    pub payload: &'x str,
    /// Leave `X-Amz-Signature` out of the canonical query (presigned).
    pub skip_signature_param: bool,
}

/// Where the canonical request landed in `SigV4Scratch::canonical`.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// The byte range of the CanonicalURI line.
    pub uri: Range<usize>,
    pub all_headers_present: bool,
    /// SHA-256 of the canonical request.
    pub hash: [u8; DIGEST_LEN],
}

/// Writes the canonical request of `parts` into `scratch.canonical` (cleared
/// first), with the normalised CanonicalURI.
pub(crate) fn write_canonical_request(parts: &RequestParts<'_>, scratch: &mut SigV4Scratch) -> Written {
    let SigV4Scratch { canonical: out, query: qbuf, params } = scratch;
    out.clear();
    out.extend_from_slice(parts.method.as_bytes());
    out.push(b'\n');
    let uri_start = out.len();
    if parts.path.is_empty() {
        out.push(b'/');
    } else {
        reencode(parts.path.as_bytes(), false, out);
    }
    let uri = uri_start..out.len();
    out.push(b'\n');
    write_canonical_query(parts.query, parts.skip_signature_param, qbuf, params, out);
    out.push(b'\n');
    let mut hasher = Sha256::new();
    let mut fed = 0;
    let names = parts.signed_headers.iter();
    let all_headers_present = write_canonical_headers(names, parts.headers, Some(parts.scan), out, |out| {
        let ready = (out.len() - fed) & !(SHA256_BLOCK - 1);
        if ready > 0 {
            hasher.update(&out[fed..fed + ready]);
            fed += ready;
        }
    });
    out.push(b'\n');
    parts.signed_headers.write_to(out);
    out.push(b'\n');
    out.extend_from_slice(parts.payload.as_bytes());
    hasher.update(&out[fed..]);
    // Finalized in place: `finalize` would move the hasher, and copying it
    // right after its buffer was written stalls on those stores.
    Written { uri, all_headers_present, hash: hasher.finalize_reset().into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str, slash: bool) -> String {
        let mut out = Vec::new();
        uri_encode(s.as_bytes(), slash, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn re(s: &str) -> String {
        let mut out = Vec::new();
        reencode(s.as_bytes(), false, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn cq(q: &str, skip: bool) -> String {
        let (mut buf, mut params, mut out) = (Vec::new(), Vec::new(), Vec::new());
        write_canonical_query(q, skip, &mut buf, &mut params, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn uri_encoding_rule() {
        assert_eq!(enc("-._~09AZaz", true), "-._~09AZaz");
        assert_eq!(enc("a b+c/d=é*", false), "a%20b%2Bc/d%3D%C3%A9%2A");
        assert_eq!(enc("a/b", true), "a%2Fb");
        assert_eq!(enc("test$file.text", false), "test%24file.text");
    }

    #[test]
    fn canonical_uri_normalisation() {
        assert_eq!(re("/test$file.text"), "/test%24file.text");
        assert_eq!(re("/test%24file.text"), "/test%24file.text");
        assert_eq!(re("/a%2fb"), "/a/b");
        assert_eq!(re("/example space/"), "/example%20space/");
        assert_eq!(re("/%e1%88%b4"), "/%E1%88%B4");
        assert_eq!(re("//example//./../x"), "//example//./../x");
        // invalid escapes are literal percent signs
        assert_eq!(re("/100%"), "/100%25");
        assert_eq!(re("/a%zzb%4"), "/a%25zzb%254");
        assert_eq!(re("/a+b"), "/a%2Bb");
    }

    #[test]
    fn canonical_query_rules() {
        assert_eq!(cq("", false), "");
        assert_eq!(cq("Param2=value2&Param1=value1", false), "Param1=value1&Param2=value2");
        assert_eq!(cq("Param1=value2&Param1=value1", false), "Param1=value1&Param1=value2");
        assert_eq!(cq("a=10&a=9", false), "a=10&a=9");
        assert_eq!(cq("x=a.b&x=a%2Fb", false), "x=a%2Fb&x=a.b");
        assert_eq!(cq("q=a+b", false), "q=a%2Bb");
        assert_eq!(cq("q=a%20b&&", false), "q=a%20b");
        assert_eq!(cq("b&a=1", false), "a=1&b=");
        assert_eq!(cq("a=1=2", false), "a=1%3D2");
        assert_eq!(cq("lifecycle", false), "lifecycle=");
        assert_eq!(cq("prefix=J&max-keys=2", false), "max-keys=2&prefix=J");
        assert_eq!(cq("%E1%88%B4=bar", false), "%E1%88%B4=bar");
        assert_eq!(cq("X-Amz-Signature=abc&X-Amz-Date=1", true), "X-Amz-Date=1");
        assert_eq!(cq("X-Amz-Signature=abc", false), "X-Amz-Signature=abc");
    }

    /// Generated heads (names in mixed case, repeated, absent; values with
    /// and without spaces and tabs) get the same canonical headers whether
    /// the names' holders come from a `HeaderScan` or from a search.
    #[test]
    fn indexed_holders_write_what_a_search_writes() {
        let names = ["host", "x-amz-date", "content-type", "x-amz-meta-a", "range", "x-amz-content-sha256"];
        let values: [&[u8]; 6] = [b"v", b" padded\t", b"a  b", b"", b"\t", b"64hexdigits-and-more"];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..2000 {
            let count = 1 + next(9);
            let owned: Vec<(String, &[u8])> = (0..count)
                .map(|_| {
                    let name: String = names[next(names.len())]
                        .chars()
                        .map(|c| if next(2) == 0 { c.to_ascii_uppercase() } else { c })
                        .collect();
                    (name, values[next(values.len())])
                })
                .collect();
            let headers: Vec<httparse::Header<'_>> =
                owned.iter().map(|(n, v)| httparse::Header { name: n, value: v }).collect();
            let listed: Vec<&str> = (0..1 + next(5)).map(|_| names[next(names.len())]).collect();
            let mut list = listed.join(";");
            if !listed.contains(&"host") {
                list.push_str(";host");
            }
            let signed = SignedHeaders::parse(&list, false).unwrap();
            let mut scan = HeaderScan::empty();
            scan.fill(&headers, &signed);
            let (mut indexed, mut searched) = (Vec::new(), Vec::new());
            let found_indexed =
                write_canonical_headers(signed.iter(), &headers, Some(&scan), &mut indexed, |_| {});
            let found_searched =
                write_canonical_headers(signed.iter(), &headers, None, &mut searched, |_| {});
            assert_eq!(
                (found_indexed, String::from_utf8_lossy(&indexed)),
                (found_searched, String::from_utf8_lossy(&searched)),
                "round {round}: {list} over {owned:?}"
            );
        }
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let headers = [
            httparse::Header { name: "My-Header1", value: b"  value1 " },
            httparse::Header { name: "my-header2", value: b"\"a   b   c\"" },
            httparse::Header { name: "MY-HEADER1", value: b"\tvalue2" },
        ];
        let mut out = Vec::new();
        assert!(write_canonical_headers(
            ["my-header1", "my-header2"].into_iter(),
            &headers,
            None,
            &mut out,
            |_| {}
        ));
        assert_eq!(out, b"my-header1:value1,value2\nmy-header2:\"a b c\"\n");
        out.clear();
        assert!(!write_canonical_headers(
            ["host", "my-header1"].into_iter(),
            &headers,
            None,
            &mut out,
            |_| {}
        ));
    }
}
