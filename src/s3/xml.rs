//! Minimal XML writing helpers shared by every response body sluice renders.

/// S3's XML namespace.
pub const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Appends `s` to `out` with the five XML special characters escaped.
pub fn escape_into(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'"' => b"&quot;",
            b'\'' => b"&apos;",
            // A raw CR would be normalised to LF by the client's XML parser.
            b'\r' => b"&#13;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `<tag>escaped value</tag>`.
pub fn element(tag: &str, value: &str, out: &mut Vec<u8>) {
    out.push(b'<');
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
    escape_into(value, out);
    out.extend_from_slice(b"</");
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_all_specials() {
        let mut out = Vec::new();
        escape_into("a<b>&\"'c\r", &mut out);
        assert_eq!(out, b"a&lt;b&gt;&amp;&quot;&apos;c&#13;");
    }
}
