//! Splitting the short strings of SigV4 (queries, credential scopes,
//! SignedHeaders) on an ASCII separator and, in the query form, on its
//! percent-encoded form, without copying.

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
    pub(crate) fn new(s: &'a str, sep: u8, encoded: Option<[u8; 2]>) -> Split<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_handles_trailing_percent() {
        let v: Vec<_> = Split::new("a%2", b'/', Some(*b"2F")).collect();
        assert_eq!(v, ["a%2"]);
        let v: Vec<_> = Split::new("a%2f", b'/', Some(*b"2F")).collect();
        assert_eq!(v, ["a", ""]);
    }
}
