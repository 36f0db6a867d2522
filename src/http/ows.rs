//! Optional whitespace (RFC 9110 `OWS`: spaces and tabs) around header
//! values and the elements of header lists, trimmed with byte scans.

use std::ops::Range;

/// Whether `c` is optional whitespace (space or tab).
#[inline]
pub fn is_ows(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The range of `v` left once leading and trailing spaces and tabs are cut.
#[inline]
pub fn ows_trimmed(v: &[u8]) -> Range<usize> {
    let start = v.iter().position(|&c| !is_ows(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|&c| !is_ows(c)).map_or(start, |i| i + 1);
    start..end
}

/// `v` without leading and trailing spaces and tabs.
#[inline]
pub fn trim_ows(v: &[u8]) -> &[u8] {
    &v[ows_trimmed(v)]
}

/// `s` without leading and trailing spaces and tabs.
#[inline]
pub fn trim_ows_str(s: &str) -> &str {
    // Spaces and tabs are ASCII: both ends are char boundaries.
    s.get(ows_trimmed(s.as_bytes())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_spaces_and_tabs_only() {
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\r\na\n"), b"\r\na\n");
        assert_eq!(trim_ows_str("\t\u{e9} x "), "\u{e9} x");
        assert_eq!(ows_trimmed(b"  ab "), 2..4);
    }
}
