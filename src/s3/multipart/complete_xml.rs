//! The `CompleteMultipartUpload` request body: the client's list of parts,
//! parsed into [`CompletedPart`]s, and the document sluice writes from them
//! for the backend.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompletedPart.html>.
//!
//! ```xml
//! <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//!   <Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag></Part>
//!   <Part><PartNumber>2</PartNumber><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>
//!         <ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
//! </CompleteMultipartUpload>
//! ```
//!
//! # Rules (checked in this order)
//! 1. `MalformedXML`: not well-formed; a root other than `CompleteMultipartUpload`;
//!    text or unknown elements where the schema has none; a repeated element in
//!    a `Part`; a `Part` without `PartNumber` or `ETag` (or an empty ETag); a
//!    `PartNumber` that is not a decimal integer; no part, or more than
//!    [`MAX_PARTS`].
//! 2. `NotImplemented`, as soon as one is read: a checksum S3 defines that
//!    sluice does not implement (`ChecksumMD5`, `ChecksumSHA512`,
//!    `ChecksumXXHASH*`); dropping it silently would skip a check the client asked for.
//! 3. Then part by part, in document order: a number outside
//!    `1..=`[`MAX_PART_NUMBER`] is `InvalidPart` (no such part can exist); a
//!    number not greater than the one before is `InvalidPartOrder`; an ETag
//!    that is not a valid entity tag is `InvalidPart`; a checksum that is not
//!    the base64 of a digest of its algorithm, two checksums in one part, or
//!    two algorithms in one document are `InvalidRequest`.
//!
//! # ETag normalisation
//! Clients send part ETags with or without their double quotes (`"abc"`,
//! `abc`, `&quot;abc&quot;`). [`normalize_etag`] trims XML whitespace and
//! removes one pair of surrounding quotes; [`CompletedPart::etag`] holds that
//! unquoted form. Compare it with a backend's ETag passed through
//! [`normalize_etag`] too. The writer puts the quotes back.
//!
//! # Security
//! The client's bytes never reach the backend: the lead forwards the document
//! [`write_complete_multipart_upload`] writes, with the backend's own ETags.
//! ETags are limited to the characters of an HTTP entity tag and checksums to
//! base64, so nothing but validated values is re-serialised.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::flat_xml::{FlatReader, NotWellFormed, Tag, trim_xml_space};
use super::render::{checksum_element as write_checksum, xml_root_open};
use crate::error::{S3Error, S3ErrorCode};
use crate::s3::integrity::ChecksumAlgorithm;

/// Most parts in one upload, as in AWS (and most `Part`s in one document).
pub const MAX_PARTS: usize = 10_000;
/// Highest part number, as in AWS; the lowest is 1.
pub const MAX_PART_NUMBER: u16 = 10_000;
/// Longest ETag accepted (unquoted). S3 part ETags are 32 hex digits; the
/// bound leaves room for other backends while capping what one part holds.
pub const MAX_ETAG_BYTES: usize = 256;
/// Checksum elements S3 defines that sluice does not implement.
const UNSUPPORTED_CHECKSUMS: [&str; 5] =
    ["ChecksumMD5", "ChecksumSHA512", "ChecksumXXHASH64", "ChecksumXXHASH3", "ChecksumXXHASH128"];

/// One part of the list: its number, normalised ETag and optional checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// `1..=MAX_PART_NUMBER`, strictly ascending within a document.
    pub number: u16,
    /// The ETag without quotes (see [`normalize_etag`]).
    pub etag: String,
    /// The checksum the client sent for this part, base64 as sent (validated).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

/// A borrowed part for the writer, so the lead can substitute backend ETags
/// without cloning: `PartRef { etag: backend_etag, ..part.part_ref() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRef<'a> {
    pub number: u16,
    /// Unquoted, like [`CompletedPart::etag`].
    pub etag: &'a str,
    pub checksum: Option<(ChecksumAlgorithm, &'a str)>,
}

impl CompletedPart {
    pub fn part_ref(&self) -> PartRef<'_> {
        PartRef {
            number: self.number,
            etag: &self.etag,
            checksum: self.checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
        }
    }
}

/// Why a CompleteMultipartUpload body was refused. `S3Error::from` gives the
/// client's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompleteXmlError {
    /// Not well-formed or not the schema (`MalformedXML`); the reason is for logs.
    Malformed(&'static str),
    /// A checksum element sluice does not implement (`NotImplemented`).
    UnsupportedChecksum(&'static str),
    /// A part number outside `1..=MAX_PART_NUMBER` (`InvalidPart`).
    PartNumberOutOfRange,
    /// A part number not greater than the previous one (`InvalidPartOrder`).
    PartOrder { previous: u16, next: u16 },
    /// An ETag no uploaded part can have (`InvalidPart`).
    BadEtag { part: u16 },
    /// A checksum that is not the base64 of a digest of its algorithm (`InvalidRequest`).
    BadChecksum { part: u16, algorithm: ChecksumAlgorithm },
    /// Two checksums in one part, or two algorithms in one list (`InvalidRequest`).
    MixedChecksums { part: u16 },
}

impl fmt::Display for CompleteXmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompleteXmlError::Malformed(why) => write!(f, "malformed CompleteMultipartUpload: {why}"),
            CompleteXmlError::UnsupportedChecksum(el) => write!(f, "{el} is not implemented"),
            CompleteXmlError::PartNumberOutOfRange => {
                write!(f, "part numbers must be between 1 and {MAX_PART_NUMBER}")
            }
            CompleteXmlError::PartOrder { previous, next } => {
                write!(f, "part {next} follows part {previous}: parts must be in ascending order")
            }
            CompleteXmlError::BadEtag { part } => write!(f, "part {part} has an invalid ETag"),
            CompleteXmlError::BadChecksum { part, algorithm } => {
                write!(f, "the {} checksum of part {part} is not valid", algorithm.name())
            }
            CompleteXmlError::MixedChecksums { part } => {
                write!(f, "part {part} mixes checksum algorithms: one algorithm per upload")
            }
        }
    }
}

impl std::error::Error for CompleteXmlError {}

impl From<CompleteXmlError> for S3Error {
    fn from(e: CompleteXmlError) -> Self {
        match e {
            CompleteXmlError::Malformed(_) => S3Error::new(S3ErrorCode::MalformedXML),
            CompleteXmlError::UnsupportedChecksum(_) => {
                S3Error::with_message(S3ErrorCode::NotImplemented, e.to_string())
            }
            CompleteXmlError::PartNumberOutOfRange | CompleteXmlError::BadEtag { .. } => {
                S3Error::with_message(S3ErrorCode::InvalidPart, e.to_string())
            }
            CompleteXmlError::PartOrder { .. } => S3Error::new(S3ErrorCode::InvalidPartOrder),
            CompleteXmlError::BadChecksum { .. } | CompleteXmlError::MixedChecksums { .. } => {
                S3Error::with_message(S3ErrorCode::InvalidRequest, e.to_string())
            }
        }
    }
}

impl From<NotWellFormed> for CompleteXmlError {
    fn from(_: NotWellFormed) -> Self {
        CompleteXmlError::Malformed("not well-formed")
    }
}

/// `etag` without surrounding XML whitespace and without one pair of
/// surrounding double quotes: `"abc"`, ` "abc" ` and `abc` all give `abc`.
pub fn normalize_etag(etag: &str) -> &str {
    let t = trim_xml_space(etag);
    match t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner,
        None => t,
    }
}

/// Whether `etag` (unquoted) is an RFC 9110 `etagc*` of acceptable length:
/// visible ASCII except `"`.
fn valid_etag(etag: &str) -> bool {
    !etag.is_empty()
        && etag.len() <= MAX_ETAG_BYTES
        && etag.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
}

/// A part as read, before its values are checked.
struct RawPart {
    /// The decimal value, saturated at `u32::MAX`.
    number: u32,
    etag: String,
    checksum: Option<(ChecksumAlgorithm, String)>,
    /// More than one checksum algorithm in this part.
    mixed: bool,
}

/// Parses a CompleteMultipartUpload body (see the module docs for the rules).
pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<Vec<CompletedPart>, CompleteXmlError> {
    let raw = read_parts(body)?;
    let mut parts = Vec::with_capacity(raw.len());
    let mut previous = 0u16;
    let mut algorithm: Option<ChecksumAlgorithm> = None;
    for p in raw {
        let number = u16::try_from(p.number)
            .ok()
            .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
            .ok_or(CompleteXmlError::PartNumberOutOfRange)?;
        if number <= previous {
            return Err(CompleteXmlError::PartOrder { previous, next: number });
        }
        previous = number;
        if !valid_etag(&p.etag) {
            return Err(CompleteXmlError::BadEtag { part: number });
        }
        if p.mixed {
            return Err(CompleteXmlError::MixedChecksums { part: number });
        }
        if let Some((alg, value)) = &p.checksum {
            let ok = value.len() == 4 * alg.digest_len().div_ceil(3)
                && B64.decode(value).is_ok_and(|d| d.len() == alg.digest_len());
            if !ok {
                return Err(CompleteXmlError::BadChecksum { part: number, algorithm: *alg });
            }
            if *algorithm.get_or_insert(*alg) != *alg {
                return Err(CompleteXmlError::MixedChecksums { part: number });
            }
        }
        parts.push(CompletedPart { number, etag: p.etag, checksum: p.checksum });
    }
    Ok(parts)
}

/// The structural pass: every `Part` with its raw values.
fn read_parts(body: &[u8]) -> Result<Vec<RawPart>, CompleteXmlError> {
    use CompleteXmlError::Malformed;
    let mut r = FlatReader::new(body);
    match r.next_tag()? {
        Some(Tag::Open(e)) if e.local_name().as_ref() == b"CompleteMultipartUpload" => {}
        _ => return Err(Malformed("the root element must be CompleteMultipartUpload")),
    }
    let mut parts = Vec::new();
    loop {
        match r.next_tag()? {
            Some(Tag::Open(e)) if e.local_name().as_ref() == b"Part" => {
                if parts.len() == MAX_PARTS {
                    return Err(Malformed("more than 10000 parts"));
                }
                parts.push(read_part(&mut r)?);
            }
            Some(Tag::Close) => break,
            _ => return Err(Malformed("unexpected element in CompleteMultipartUpload")),
        }
    }
    r.finish()?;
    if parts.is_empty() {
        return Err(Malformed("no parts"));
    }
    Ok(parts)
}

/// Reads one `Part` whose start tag was just read, through its end tag.
fn read_part(r: &mut FlatReader<'_>) -> Result<RawPart, CompleteXmlError> {
    use CompleteXmlError::Malformed;
    let mut number: Option<u32> = None;
    let mut etag: Option<String> = None;
    let mut checksum: Option<(ChecksumAlgorithm, String)> = None;
    let mut mixed = false;
    loop {
        let name = match r.next_tag()? {
            Some(Tag::Open(e)) => e.local_name().as_ref().to_vec(),
            Some(Tag::Close) => break,
            _ => return Err(Malformed("unexpected end of Part")),
        };
        match name.as_slice() {
            b"PartNumber" if number.is_none() => number = Some(parse_number(&r.leaf_text()?)?),
            b"ETag" if etag.is_none() => {
                let text = r.leaf_text()?;
                let e = normalize_etag(&text);
                if e.is_empty() {
                    return Err(Malformed("empty ETag"));
                }
                etag = Some(e.to_owned());
            }
            other => {
                let alg = checksum_element(other)?;
                let value = trim_xml_space(&r.leaf_text()?).to_owned();
                match &checksum {
                    None => checksum = Some((alg, value)),
                    Some((seen, _)) if *seen == alg => return Err(Malformed("repeated checksum")),
                    Some(_) => mixed = true,
                }
            }
        }
    }
    match (number, etag) {
        (Some(number), Some(etag)) => Ok(RawPart { number, etag, checksum, mixed }),
        _ => Err(Malformed("a Part needs a PartNumber and an ETag")),
    }
}

/// The algorithm of a `Checksum*` element name; anything else in a `Part`
/// (including a repeated PartNumber or ETag) is refused.
fn checksum_element(name: &[u8]) -> Result<ChecksumAlgorithm, CompleteXmlError> {
    if let Some(alg) = name
        .strip_prefix(b"Checksum")
        .and_then(|n| ChecksumAlgorithm::ALL.into_iter().find(|a| a.name().as_bytes() == n))
    {
        return Ok(alg);
    }
    match UNSUPPORTED_CHECKSUMS.into_iter().find(|u| u.as_bytes() == name) {
        Some(u) => Err(CompleteXmlError::UnsupportedChecksum(u)),
        None => Err(CompleteXmlError::Malformed("unexpected element in Part")),
    }
}

/// A `PartNumber`: decimal digits (leading zeros allowed, as in `xsd:int`)
/// around optional whitespace, saturated at `u32::MAX` so that the range
/// check reports huge values as out of range rather than malformed.
fn parse_number(text: &str) -> Result<u32, CompleteXmlError> {
    let digits = trim_xml_space(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CompleteXmlError::Malformed("PartNumber is not an integer"));
    }
    Ok(digits.bytes().fold(0u32, |n, d| n.saturating_mul(10).saturating_add(u32::from(d - b'0'))))
}

/// Appends the CompleteMultipartUpload document for `parts` (in the order
/// given; callers pass them ascending, as parsed). ETags are written quoted.
pub fn write_complete_multipart_upload<'a>(parts: impl IntoIterator<Item = PartRef<'a>>, out: &mut Vec<u8>) {
    xml_root_open("CompleteMultipartUpload", out);
    let mut buf = itoa::Buffer::new();
    for p in parts {
        out.extend_from_slice(b"<Part><PartNumber>");
        out.extend_from_slice(buf.format(p.number).as_bytes());
        out.extend_from_slice(b"</PartNumber><ETag>\"");
        crate::s3::xml::escape_into(p.etag, out);
        out.extend_from_slice(b"\"</ETag>");
        if let Some((alg, value)) = p.checksum {
            write_checksum(alg, value, out);
        }
        out.extend_from_slice(b"</Part>");
    }
    out.extend_from_slice(b"</CompleteMultipartUpload>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<CompletedPart>, CompleteXmlError> {
        parse_complete_multipart_upload(s.as_bytes())
    }

    fn code(s: &str) -> S3ErrorCode {
        S3Error::from(parse(s).unwrap_err()).code
    }

    fn part(number: u16, etag: &str) -> CompletedPart {
        CompletedPart { number, etag: etag.into(), checksum: None }
    }

    fn round_trip(parts: &[CompletedPart]) -> Vec<CompletedPart> {
        let mut out = Vec::new();
        write_complete_multipart_upload(parts.iter().map(CompletedPart::part_ref), &mut out);
        parse_complete_multipart_upload(&out).unwrap()
    }

    /// The request of the AWS API reference example, as printed there.
    const AWS_EXAMPLE: &str = r#"<CompleteMultipartUpload>
             <Part>
                <PartNumber>1</PartNumber>
               <ETag>"a54357aff0632cce46d942af68356b38"</ETag>
             </Part>
             <Part>
                <PartNumber>2</PartNumber>
               <ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>
             </Part>
             <Part>
               <PartNumber>3</PartNumber>
               <ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag>
             </Part>
            </CompleteMultipartUpload>"#;

    #[test]
    fn aws_example_without_namespace() {
        assert_eq!(
            parse(AWS_EXAMPLE).unwrap(),
            vec![
                part(1, "a54357aff0632cce46d942af68356b38"),
                part(2, "0c78aef83f66abc1fa1e8477f296d394"),
                part(3, "acbd18db4cc2f85cedef654fccc4a4d8"),
            ]
        );
    }

    #[test]
    fn with_namespace_declaration_and_sdk_shape() {
        // What the SDKs send: declaration, namespace, no whitespace, escaped quotes.
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload \
                   xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><ETag>&quot;e1&quot;</ETag>\
                   <PartNumber>1</PartNumber></Part><Part><PartNumber>7</PartNumber><ETag>e2</ETag>\
                   </Part></CompleteMultipartUpload>";
        assert_eq!(parse(doc).unwrap(), vec![part(1, "e1"), part(7, "e2")]);
        // A prefixed namespace, a BOM, comments and CDATA.
        let doc = "\u{feff}<s3:CompleteMultipartUpload xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                   <!-- c --><s3:Part><s3:PartNumber> 0003 </s3:PartNumber>\
                   <s3:ETag><![CDATA[\"x]]>y\"</s3:ETag></s3:Part></s3:CompleteMultipartUpload>\n";
        assert_eq!(parse(doc).unwrap(), vec![part(3, "xy")]);
    }

    #[test]
    fn checksums_of_every_algorithm() {
        let values = [
            (ChecksumAlgorithm::Crc32, "ChecksumCRC32", "AAAAAA=="),
            (ChecksumAlgorithm::Crc32c, "ChecksumCRC32C", "/////w=="),
            (ChecksumAlgorithm::Crc64Nvme, "ChecksumCRC64NVME", "AAAAAAAAAAA="),
            (ChecksumAlgorithm::Sha1, "ChecksumSHA1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
            (ChecksumAlgorithm::Sha256, "ChecksumSHA256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        ];
        for (alg, el, v) in values {
            let doc = format!(
                "<CompleteMultipartUpload><Part><{el}> {v} </{el}><ETag>\"a\"</ETag>\
                 <PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag>\
                 <{el}>{v}</{el}></Part></CompleteMultipartUpload>"
            );
            let parts = parse(&doc).unwrap();
            assert_eq!(parts[0].checksum, Some((alg, v.to_string())), "{el}");
            assert_eq!(parts[1].checksum, Some((alg, v.to_string())), "{el}");
            assert_eq!(round_trip(&parts), parts);
            let mut out = Vec::new();
            write_complete_multipart_upload(parts.iter().map(CompletedPart::part_ref), &mut out);
            assert!(String::from_utf8(out).unwrap().contains(&format!("<{el}>{v}</{el}>")));
        }
    }

    #[test]
    fn checksum_errors() {
        let with = |inner: &str| {
            format!(
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>{inner}</Part></CompleteMultipartUpload>"
            )
        };
        // Not base64, wrong length, empty, non-canonical padding bits.
        for bad in [
            "<ChecksumCRC32>!!!!</ChecksumCRC32>",
            "<ChecksumCRC32>AAAAAAA=</ChecksumCRC32>",
            "<ChecksumSHA256></ChecksumSHA256>",
            "<ChecksumCRC32>AAAAAB==</ChecksumCRC32>",
            "<ChecksumSHA1>AAAAAA==</ChecksumSHA1>",
        ] {
            assert_eq!(code(&with(bad)), S3ErrorCode::InvalidRequest, "{bad}");
        }
        // Two algorithms in a part, or across parts.
        assert_eq!(
            code(&with("<ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C>")),
            S3ErrorCode::InvalidRequest
        );
        let doc = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>\
                   <ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber>\
                   <ETag>a</ETag><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part></CompleteMultipartUpload>";
        assert_eq!(parse(doc).unwrap_err(), CompleteXmlError::MixedChecksums { part: 2 });
        // The same algorithm twice is a schema error.
        assert_eq!(
            code(&with("<ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumCRC32>AAAAAA==</ChecksumCRC32>")),
            S3ErrorCode::MalformedXML
        );
        // Algorithms S3 defines but sluice does not implement.
        for el in UNSUPPORTED_CHECKSUMS {
            let doc = with(&format!("<{el}>AAAA</{el}>"));
            assert_eq!(parse(&doc).unwrap_err(), CompleteXmlError::UnsupportedChecksum(el));
            assert_eq!(code(&doc), S3ErrorCode::NotImplemented);
        }
    }

    #[test]
    fn etags_are_normalised_and_written_quoted() {
        for (sent, kept) in [
            ("\"abc\"", "abc"),
            ("abc", "abc"),
            (" \n\"abc\"\t", "abc"),
            ("&quot;abc&quot;", "abc"),
            ("\"abc-12\"", "abc-12"),
        ] {
            let doc = format!(
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{sent}</ETag></Part></CompleteMultipartUpload>"
            );
            assert_eq!(parse(&doc).unwrap(), vec![part(1, kept)], "{sent}");
        }
        assert_eq!(normalize_etag("\"\""), "");
        assert_eq!(normalize_etag("\"a"), "\"a");
        let mut out = Vec::new();
        write_complete_multipart_upload([part(4, "x-1")].iter().map(CompletedPart::part_ref), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload \
             xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>4</PartNumber>\
             <ETag>\"x-1\"</ETag></Part></CompleteMultipartUpload>"
        );
    }

    #[test]
    fn backend_etags_substituted() {
        let parts = parse(AWS_EXAMPLE).unwrap();
        let backend = ["b1", "b2", "b3"];
        let mut out = Vec::new();
        write_complete_multipart_upload(
            parts.iter().zip(backend).map(|(p, b)| PartRef { etag: b, ..p.part_ref() }),
            &mut out,
        );
        let again = parse_complete_multipart_upload(&out).unwrap();
        let etags: Vec<_> = again.iter().map(|p| p.etag.as_str()).collect();
        assert_eq!(etags, backend);
        assert_eq!(again.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn bad_etags_are_invalid_part() {
        for bad in ["a b", "a\"b", "\u{e9}", "a\u{1}"] {
            let doc = format!(
                "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>{bad}</ETag></Part></CompleteMultipartUpload>"
            );
            assert_eq!(parse(&doc).unwrap_err(), CompleteXmlError::BadEtag { part: 2 }, "{bad:?}");
            assert_eq!(code(&doc), S3ErrorCode::InvalidPart);
        }
        let long = "e".repeat(MAX_ETAG_BYTES + 1);
        let doc = format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{long}</ETag></Part></CompleteMultipartUpload>"
        );
        assert_eq!(code(&doc), S3ErrorCode::InvalidPart);
    }

    #[test]
    fn part_numbers_range_and_order() {
        let doc = |numbers: &[&str]| {
            let mut s = String::from("<CompleteMultipartUpload>");
            for n in numbers {
                s.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>e</ETag></Part>"));
            }
            s + "</CompleteMultipartUpload>"
        };
        assert_eq!(parse(&doc(&["1", "10000"])).unwrap().len(), 2);
        for bad in [&["0"][..], &["10001"], &["1", "99999999999999999999"], &["65537"]] {
            assert_eq!(code(&doc(bad)), S3ErrorCode::InvalidPart, "{bad:?}");
        }
        assert_eq!(
            parse(&doc(&["2", "1"])).unwrap_err(),
            CompleteXmlError::PartOrder { previous: 2, next: 1 }
        );
        assert_eq!(code(&doc(&["1", "3", "3"])), S3ErrorCode::InvalidPartOrder);
        assert_eq!(code(&doc(&["5", "4", "6"])), S3ErrorCode::InvalidPartOrder);
        for junk in ["", " ", "-1", "+1", "1.0", "0x1", "one", "1 2"] {
            assert_eq!(code(&doc(&[junk])), S3ErrorCode::MalformedXML, "{junk:?}");
        }
    }

    #[test]
    fn ten_thousand_parts_and_no_more() {
        let mut s =
            String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        for n in 1..=MAX_PARTS {
            s.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>\"{n:032x}\"</ETag></Part>"));
        }
        let full = s.clone() + "</CompleteMultipartUpload>";
        let parts = parse(&full).unwrap();
        assert_eq!(parts.len(), MAX_PARTS);
        assert_eq!(parts[9999].number, 10000);
        assert_eq!(round_trip(&parts), parts);
        s.push_str("<Part><PartNumber>10000</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>");
        assert_eq!(code(&s), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn largest_sdk_document_fits_the_small_body_limit() {
        // 10000 parts with SHA-256 checksums, as an SDK writes them.
        let mut parts = Vec::new();
        for n in 1..=MAX_PART_NUMBER {
            parts.push(CompletedPart {
                number: n,
                etag: format!("{n:032x}"),
                checksum: Some((
                    ChecksumAlgorithm::Sha256,
                    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
                )),
            });
        }
        let mut out = Vec::new();
        write_complete_multipart_upload(parts.iter().map(CompletedPart::part_ref), &mut out);
        assert!(out.len() < crate::http::limits::MAX_SMALL_BODY, "{}", out.len());
    }

    #[test]
    fn malformed_documents() {
        let ok_part = "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>";
        let cases = [
            String::new(),
            "   ".into(),
            "<CompleteMultipartUpload/>".into(),
            "<CompleteMultipartUpload></CompleteMultipartUpload>".into(),
            format!("<CompleteMultipartUploads>{ok_part}</CompleteMultipartUploads>"),
            format!("<CompleteMultipartUpload>{ok_part}"),
            format!("<CompleteMultipartUpload>{ok_part}</CompleteMultipartUpload><x/>"),
            format!("<CompleteMultipartUpload>{ok_part}</CompleteMultipartUpload>junk"),
            format!("<CompleteMultipartUpload>junk{ok_part}</CompleteMultipartUpload>"),
            format!("<CompleteMultipartUpload>{ok_part}<Other/></CompleteMultipartUpload>"),
            "<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag/></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"\"</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag><ETag>e</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part>x<PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1<b/></PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&unknown;</ETag></Part></CompleteMultipartUpload>".into(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</Etag></Part></CompleteMultipartUpload>".into(),
            format!("<!DOCTYPE x [<!ENTITY e \"e\">]><CompleteMultipartUpload>{ok_part}</CompleteMultipartUpload>"),
            format!("<CompleteMultipartUpload>{ok_part}</CompleteMultipartUpload><?xml version=\"1.0\"?>"),
            ok_part.to_string(),
        ];
        for c in &cases {
            assert_eq!(code(c), S3ErrorCode::MalformedXML, "{c}");
        }
        // Invalid UTF-8.
        let mut bytes = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"</ETag></Part></CompleteMultipartUpload>");
        assert!(matches!(parse_complete_multipart_upload(&bytes), Err(CompleteXmlError::Malformed(_))));
    }

    #[test]
    fn every_prefix_of_a_document_is_refused_without_panic() {
        let doc = AWS_EXAMPLE.as_bytes();
        for cut in 0..doc.len() {
            assert!(parse_complete_multipart_upload(&doc[..cut]).is_err(), "cut {cut}");
        }
    }
}
