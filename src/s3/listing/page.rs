//! Listing entries, and the parser of a backend's ListObjectsV2 answer into
//! one [`BackendPage`].
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>
//! (response syntax; `EncodingType`).
//!
//! # Decisions
//! - The entries of a page come out in one sequence in byte order, `Contents`
//!   and `CommonPrefixes` interleaved (a backend sends them per kind).
//! - With [`KeyEncoding::AsDeclared`] and `<EncodingType>url</EncodingType>`
//!   in the answer, `Key` and `CommonPrefixes/Prefix` are decoded: `+` is a
//!   space (AWS encodes spaces as `+` in listings, and a literal `+` as `%2B`),
//!   then `%XX` escapes. A backend that encodes spaces as `%20` decodes the
//!   same. A `%` without two hex digits, or bytes that are not UTF-8, are
//!   [`PageError::BadEncoding`]: no encoder sends them, so the backend did not
//!   encode. `NextContinuationToken` is opaque and kept as sent (AWS does not
//!   encode it); sluice resumes backends with start-after, not their tokens.
//! - [`KeyEncoding::Raw`] takes values as sent whatever the answer declares:
//!   s3s-fs 0.14 echoes `<EncodingType>url</EncodingType>` but sends keys
//!   unencoded, so decoding its answers would corrupt keys holding `%` or `+`.
//! - `Key`, `Size` and `IsTruncated` are required; a missing `ETag` or
//!   `LastModified` is kept empty (s3s-fs sends no ETag), a missing
//!   `StorageClass` is `STANDARD`. `Owner` and checksum elements are ignored
//!   (sluice renders its own owner).
//! - Text is never trimmed: keys may start or end with spaces.
//!
//! # Invariants
//! - At most [`MAX_PAGE_ENTRIES`] entries; more is a backend fault.
//! - Names in a page come out strictly increasing (each kind is sorted, so a
//!   misordered backend cannot break the merge); a duplicate is a backend fault.
//! - Malformed input is a [`PageError`], never a panic. The caller bounds the
//!   body size.

use std::collections::VecDeque;
use std::fmt;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Most entries (keys + common prefixes) accepted in one backend page. S3
/// pages hold at most 1000; ten times that tolerates a backend that ignores
/// `max-keys` while bounding memory (entries are at most ~1 KiB keys).
pub const MAX_PAGE_ENTRIES: usize = 10_000;

/// Whether an entry is an object key or a common prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Key,
    Prefix,
}

/// One object of a listing, as the backend described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: String,
    /// ISO 8601, as the backend sent it (`2009-10-12T17:50:30.000Z`); may be empty.
    pub last_modified: String,
    /// As sent, quotes included; empty when the backend sent none.
    pub etag: String,
    pub size: u64,
    pub storage_class: String,
}

/// One listing entry: an object, or a common prefix rolling up many keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Object(ObjectEntry),
    Prefix(String),
}

impl Entry {
    /// The key or the common prefix: what listings are ordered by.
    pub fn name(&self) -> &str {
        match self {
            Entry::Object(o) => &o.key,
            Entry::Prefix(p) => p,
        }
    }

    pub fn kind(&self) -> EntryKind {
        match self {
            Entry::Object(_) => EntryKind::Key,
            Entry::Prefix(_) => EntryKind::Prefix,
        }
    }
}

/// One page of one backend's listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendPage {
    /// In byte order of [`Entry::name`], kinds interleaved.
    pub entries: Vec<Entry>,
    pub is_truncated: bool,
    pub next_continuation_token: Option<String>,
}

/// How the values of a backend's answer are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// Decoded when the answer says `<EncodingType>url</EncodingType>`.
    AsDeclared,
    /// Always taken as sent (backends that echo EncodingType without encoding).
    Raw,
}

/// A backend answer sluice cannot use: a backend fault (InternalError).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// Not well-formed XML (or not UTF-8).
    Xml,
    /// Well-formed, but the root is not `ListBucketResult` (e.g. an `Error`).
    NotListResult,
    /// A required element is missing.
    Missing(&'static str),
    /// An element's text is not a valid value.
    BadValue(&'static str),
    /// A url-encoded value does not decode to UTF-8.
    BadEncoding,
    /// More than [`MAX_PAGE_ENTRIES`] entries.
    TooManyEntries,
    /// The same name twice in one page.
    Duplicate,
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageError::Xml => f.write_str("malformed listing XML"),
            PageError::NotListResult => f.write_str("listing answer is not a ListBucketResult"),
            PageError::Missing(name) => write!(f, "listing answer lacks <{name}>"),
            PageError::BadValue(name) => write!(f, "listing answer has an invalid <{name}>"),
            PageError::BadEncoding => f.write_str("listing answer has an invalid url-encoded value"),
            PageError::TooManyEntries => write!(f, "listing answer has more than {MAX_PAGE_ENTRIES} entries"),
            PageError::Duplicate => f.write_str("listing answer names an entry twice"),
        }
    }
}

impl std::error::Error for PageError {}

impl From<quick_xml::Error> for PageError {
    fn from(_: quick_xml::Error) -> Self {
        PageError::Xml
    }
}

/// The leaf elements whose text the parser keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    IsTruncated,
    NextToken,
    EncodingType,
    Key,
    LastModified,
    ETag,
    Size,
    StorageClass,
    Prefix,
}

/// Where the parser is, and what it has gathered so far.
#[derive(Default)]
struct State {
    depth: usize,
    in_contents: bool,
    in_prefixes: bool,
    field: Option<Field>,
    text: String,
    object: PartialObject,
    objects: Vec<ObjectEntry>,
    prefixes: Vec<String>,
    is_truncated: Option<bool>,
    next_token: Option<String>,
    encoding_type: Option<String>,
}

#[derive(Default)]
struct PartialObject {
    key: Option<String>,
    last_modified: String,
    etag: String,
    size: Option<u64>,
    storage_class: Option<String>,
}

/// Parses a backend's ListObjectsV2 answer.
pub fn parse_page(body: &[u8], encoding: KeyEncoding) -> Result<BackendPage, PageError> {
    let mut reader = Reader::from_reader(body);
    let mut st = State::default();
    let mut seen_root = false;
    loop {
        match reader.read_event()? {
            Event::Start(e) => {
                st.open(&e, &mut seen_root)?;
            }
            Event::Empty(e) => {
                st.open(&e, &mut seen_root)?;
                st.close()?;
            }
            Event::End(_) => st.close()?,
            Event::Text(t) if st.field.is_some() => st.text.push_str(&t.unescape()?),
            Event::CData(t) if st.field.is_some() => {
                st.text.push_str(std::str::from_utf8(&t).map_err(|_| PageError::Xml)?)
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root || st.depth != 0 {
        return Err(PageError::Xml);
    }
    st.finish(encoding)
}

impl State {
    fn open(&mut self, e: &BytesStart<'_>, seen_root: &mut bool) -> Result<(), PageError> {
        self.depth += 1;
        let name = e.local_name();
        let name = name.as_ref();
        match self.depth {
            1 => {
                if name != b"ListBucketResult" {
                    return Err(PageError::NotListResult);
                }
                *seen_root = true;
            }
            2 => match name {
                b"Contents" => {
                    self.in_contents = true;
                    self.object = PartialObject::default();
                }
                b"CommonPrefixes" => self.in_prefixes = true,
                b"IsTruncated" => self.field = Some(Field::IsTruncated),
                b"NextContinuationToken" => self.field = Some(Field::NextToken),
                b"EncodingType" => self.field = Some(Field::EncodingType),
                _ => {}
            },
            3 if self.in_contents => {
                self.field = match name {
                    b"Key" => Some(Field::Key),
                    b"LastModified" => Some(Field::LastModified),
                    b"ETag" => Some(Field::ETag),
                    b"Size" => Some(Field::Size),
                    b"StorageClass" => Some(Field::StorageClass),
                    _ => None,
                }
            }
            3 if self.in_prefixes && name == b"Prefix" => self.field = Some(Field::Prefix),
            _ => {}
        }
        self.text.clear();
        Ok(())
    }

    fn close(&mut self) -> Result<(), PageError> {
        if let Some(field) = self.field.take() {
            let text = std::mem::take(&mut self.text);
            self.store(field, text)?;
        } else if self.depth == 2 && self.in_contents {
            self.in_contents = false;
            let o = std::mem::take(&mut self.object);
            self.objects.push(ObjectEntry {
                key: o.key.ok_or(PageError::Missing("Key"))?,
                last_modified: o.last_modified,
                etag: o.etag,
                size: o.size.ok_or(PageError::Missing("Size"))?,
                storage_class: o.storage_class.unwrap_or_else(|| "STANDARD".to_owned()),
            });
            self.check_count()?;
        } else if self.depth == 2 && self.in_prefixes {
            self.in_prefixes = false;
        }
        self.depth = self.depth.checked_sub(1).ok_or(PageError::Xml)?;
        Ok(())
    }

    fn store(&mut self, field: Field, text: String) -> Result<(), PageError> {
        match field {
            Field::IsTruncated => {
                self.is_truncated = Some(match text.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(PageError::BadValue("IsTruncated")),
                })
            }
            Field::NextToken => self.next_token = Some(text),
            Field::EncodingType => self.encoding_type = Some(text),
            Field::Key => self.object.key = Some(text),
            Field::LastModified => self.object.last_modified = text,
            Field::ETag => self.object.etag = text,
            Field::Size => {
                let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
                let size = text.parse().ok().filter(|_| digits).ok_or(PageError::BadValue("Size"))?;
                self.object.size = Some(size);
            }
            Field::StorageClass => self.object.storage_class = Some(text),
            Field::Prefix => {
                self.prefixes.push(text);
                self.check_count()?;
            }
        }
        Ok(())
    }

    fn check_count(&self) -> Result<(), PageError> {
        if self.objects.len() + self.prefixes.len() > MAX_PAGE_ENTRIES {
            return Err(PageError::TooManyEntries);
        }
        Ok(())
    }

    fn finish(self, encoding: KeyEncoding) -> Result<BackendPage, PageError> {
        let is_truncated = self.is_truncated.ok_or(PageError::Missing("IsTruncated"))?;
        let decode = encoding == KeyEncoding::AsDeclared && self.encoding_type.as_deref() == Some("url");
        let mut objects = self.objects;
        let mut prefixes = self.prefixes;
        if decode {
            for o in &mut objects {
                o.key = url_decode(&o.key)?;
            }
            for p in &mut prefixes {
                *p = url_decode(p)?;
            }
        }
        // Each kind is already sorted by a conforming backend; sorting each
        // (cheap on sorted input) keeps a misordered backend from breaking
        // the merge, then the two runs are merged.
        objects.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        prefixes.sort_unstable();
        let mut entries = Vec::with_capacity(objects.len() + prefixes.len());
        let mut objects = VecDeque::from(objects);
        let mut prefixes = VecDeque::from(prefixes);
        loop {
            let take_object = match (objects.front(), prefixes.front()) {
                (Some(o), Some(p)) => o.key.as_str() < p.as_str(),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let entry = if take_object {
                objects.pop_front().map(Entry::Object)
            } else {
                prefixes.pop_front().map(Entry::Prefix)
            };
            let Some(entry) = entry else { break };
            if entries.last().is_some_and(|prev: &Entry| prev.name() >= entry.name()) {
                return Err(PageError::Duplicate);
            }
            entries.push(entry);
        }
        Ok(BackendPage { entries, is_truncated, next_continuation_token: self.next_token })
    }
}

/// Decodes a value of an `encoding-type=url` answer: `+` is a space, `%XX` a
/// byte. A `%` without two hex digits after it is an error: no encoder
/// sends one, so the backend did not encode.
fn url_decode(value: &str) -> Result<String, PageError> {
    if !value.bytes().any(|b| b == b'+' || b == b'%') {
        return Ok(value.to_owned());
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or(PageError::BadEncoding)?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| PageError::BadEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(key: &str, size: u64) -> Entry {
        Entry::Object(ObjectEntry {
            key: key.into(),
            last_modified: String::new(),
            etag: String::new(),
            size,
            storage_class: "STANDARD".into(),
        })
    }

    /// What s3s-fs 0.14.1 answers to `?list-type=2&encoding-type=url&delimiter=/&max-keys=3`
    /// (recorded from a local s3s-fs): no ETag, no StorageClass, keys unencoded
    /// although it echoes EncodingType, CommonPrefixes after Contents.
    const S3S_FS: &str = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
        "<Name>bkt1</Name><MaxKeys>3</MaxKeys><KeyCount>3</KeyCount><IsTruncated>true</IsTruncated>",
        "<NextContinuationToken>d/</NextContinuationToken>",
        "<Contents><Key>100%.csv</Key><LastModified>2026-11-29T04:08:50.233Z</LastModified><Size>2</Size></Contents>",
        "<Contents><Key>a+b.txt</Key><LastModified>2026-11-29T04:08:50.226Z</LastModified><Size>2</Size></Contents>",
        "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>",
        "<Delimiter>/</Delimiter><EncodingType>url</EncodingType></ListBucketResult>"
    );

    #[test]
    fn s3s_fs_answer_raw() {
        let page = parse_page(S3S_FS.as_bytes(), KeyEncoding::Raw).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_continuation_token.as_deref(), Some("d/"));
        let names: Vec<&str> = page.entries.iter().map(Entry::name).collect();
        assert_eq!(names, ["100%.csv", "a+b.txt", "d/"]);
        let Entry::Object(o) = &page.entries[0] else { panic!("object expected") };
        assert_eq!(o.last_modified, "2026-11-29T04:08:50.233Z");
        assert_eq!((o.etag.as_str(), o.size, o.storage_class.as_str()), ("", 2, "STANDARD"));
        assert_eq!(page.entries[2], Entry::Prefix("d/".into()));
    }

    #[test]
    fn s3s_fs_answer_declared_is_decoded() {
        // Why KeyEncoding::Raw exists: trusting s3s-fs's EncodingType breaks `+`.
        let page = parse_page(S3S_FS.as_bytes(), KeyEncoding::AsDeclared);
        assert_eq!(page, Err(PageError::BadEncoding), "`100%.c` is not a valid escape sequence");
    }

    #[test]
    fn aws_style_encoded_answer_interleaves() {
        let doc = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n",
            "  <Name>b</Name><Prefix></Prefix><KeyCount>5</KeyCount><MaxKeys>5</MaxKeys>\n",
            "  <Delimiter>/</Delimiter><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\n",
            "  <Contents><Key>a+b.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>",
            "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>",
            "<Size>434234</Size><Owner><ID>x</ID><DisplayName>y</DisplayName></Owner>",
            "<StorageClass>STANDARD_IA</StorageClass></Contents>\n",
            "  <Contents><Key>a%2Bb.txt</Key><Size>1</Size></Contents>\n",
            "  <Contents><Key>z%20%ED%95%9C</Key><Size>0</Size></Contents>\n",
            "  <CommonPrefixes><Prefix>run+books/</Prefix></CommonPrefixes>\n",
            "  <CommonPrefixes><Prefix>%ED%95%9C%EA%B8%80/</Prefix></CommonPrefixes>\n",
            "</ListBucketResult>"
        );
        let page = parse_page(doc.as_bytes(), KeyEncoding::AsDeclared).unwrap();
        assert!(!page.is_truncated);
        let names: Vec<&str> = page.entries.iter().map(Entry::name).collect();
        assert_eq!(names, ["a b.txt", "a+b.txt", "run books/", "z 한", "한글/"]);
        let Entry::Object(o) = &page.entries[0] else { panic!("object expected") };
        assert_eq!(o.etag, "\"fba9dede5f27731c9771645a39863328\"");
        assert_eq!((o.size, o.storage_class.as_str()), (434234, "STANDARD_IA"));
        assert_eq!(page.entries[2].kind(), EntryKind::Prefix);
        // Without EncodingType nothing is decoded, even in AsDeclared mode.
        let raw = doc.replace("<EncodingType>url</EncodingType>", "");
        let page = parse_page(raw.as_bytes(), KeyEncoding::AsDeclared).unwrap();
        assert!(page.entries.iter().any(|e| e.name() == "a%2Bb.txt"));
    }

    #[test]
    fn text_is_not_trimmed_and_entities_decode() {
        let doc = "<ListBucketResult><IsTruncated>false</IsTruncated>\
                   <Contents><Key> a &amp; b&#x20;</Key><Size>3</Size></Contents>\
                   <Contents><Key><![CDATA[<c>]]></Key><Size>4</Size></Contents>\
                   <CommonPrefixes><Prefix/></CommonPrefixes></ListBucketResult>";
        let page = parse_page(doc.as_bytes(), KeyEncoding::Raw).unwrap();
        assert_eq!(page.entries, [Entry::Prefix(String::new()), obj(" a & b ", 3), obj("<c>", 4)]);
    }

    #[test]
    fn misordered_kinds_come_out_sorted() {
        let doc = "<ListBucketResult><IsTruncated>true</IsTruncated>\
                   <CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>\
                   <Contents><Key>c</Key><Size>1</Size></Contents>\
                   <Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>";
        let page = parse_page(doc.as_bytes(), KeyEncoding::Raw).unwrap();
        let names: Vec<&str> = page.entries.iter().map(Entry::name).collect();
        assert_eq!(names, ["a", "b/", "c"]);
        assert!(page.is_truncated);
        assert_eq!(page.next_continuation_token, None);
    }

    #[test]
    fn backend_faults() {
        let cases: &[(&str, PageError)] = &[
            ("", PageError::Xml),
            ("<ListBucketResult><IsTruncated>false</IsTruncated>", PageError::Xml),
            ("<ListBucketResult><IsTruncated>false</Nope></ListBucketResult>", PageError::Xml),
            ("<Error><Code>NoSuchBucket</Code></Error>", PageError::NotListResult),
            ("<ListBucketResult></ListBucketResult>", PageError::Missing("IsTruncated")),
            (
                "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
                PageError::BadValue("IsTruncated"),
            ),
            (
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size></Contents></ListBucketResult>",
                PageError::Missing("Key"),
            ),
            (
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key></Contents></ListBucketResult>",
                PageError::Missing("Size"),
            ),
            (
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
                PageError::BadValue("Size"),
            ),
            (
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents>\
                 <Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>",
                PageError::Duplicate,
            ),
            (
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
                 <CommonPrefixes><Prefix>%FF/</Prefix></CommonPrefixes></ListBucketResult>",
                PageError::BadEncoding,
            ),
            (
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&bogus;</Key><Size>1</Size>\
                 </Contents></ListBucketResult>",
                PageError::Xml,
            ),
            (
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
                 <CommonPrefixes><Prefix>a%+1</Prefix></CommonPrefixes></ListBucketResult>",
                PageError::BadEncoding,
            ),
            // Unknown elements are ignored, whatever they hold.
            (
                "<ListBucketResult><IsTruncated>maybe</IsTruncated><Other>&bogus;</Other></ListBucketResult>",
                PageError::BadValue("IsTruncated"),
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(parse_page(doc.as_bytes(), KeyEncoding::AsDeclared).as_ref(), Err(want), "{doc}");
        }
        assert_eq!(parse_page(b"\xff\xfe<<", KeyEncoding::Raw), Err(PageError::Xml));
    }

    #[test]
    fn entry_count_is_bounded() {
        let mut doc = String::from("<ListBucketResult><IsTruncated>true</IsTruncated>");
        for i in 0..MAX_PAGE_ENTRIES {
            doc.push_str(&format!("<CommonPrefixes><Prefix>{i:06}/</Prefix></CommonPrefixes>"));
        }
        let ok = format!("{doc}</ListBucketResult>");
        assert_eq!(parse_page(ok.as_bytes(), KeyEncoding::Raw).unwrap().entries.len(), MAX_PAGE_ENTRIES);
        let over = format!("{doc}<Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>");
        assert_eq!(parse_page(over.as_bytes(), KeyEncoding::Raw), Err(PageError::TooManyEntries));
    }
}
