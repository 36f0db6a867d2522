//! Multipart uploads and multi-object delete: the XML documents sluice reads
//! and writes for them, and the upload ids it hands to clients.
//!
//! - [`complete_xml`]: the `CompleteMultipartUpload` request body, parsed into
//!   [`CompletedPart`]s and written again for the backend.
//! - [`delete_objects_xml`]: the `DeleteObjects` request body (`<Delete>`) and
//!   the `DeleteResult` answer.
//! - [`render`]: the result documents of CreateMultipartUpload,
//!   CompleteMultipartUpload, CopyObject, UploadPartCopy, ListParts and
//!   ListMultipartUploads.
//! - [`upload_id`]: [`UploadToken`], the authenticated upload id that names the
//!   backend holding an upload and that backend's own upload id.
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html>.
//!
//! # Invariants
//! - The parsers answer every byte sequence with a value or an error, never a
//!   panic; a parsed value written by the matching writer and parsed again is
//!   the same value (both are fuzzed: `fuzz/fuzz_targets/complete_multipart_xml.rs`,
//!   `delete_objects_xml.rs`).
//! - Request bodies are bounded by the caller (`http::limits::MAX_SMALL_BODY`);
//!   the parsers also bound what they keep (part and object counts, lengths).
//!
//! # Security
//! - A client's XML is never forwarded: the backend gets a document sluice wrote
//!   from the parsed value, so nothing the client smuggles in (entities,
//!   DOCTYPEs, unknown elements) reaches a backend.
//! - Upload ids are MAC'd over the tenant, bucket, key and backend fields; a
//!   forged, altered or foreign id is `NoSuchUpload`, never another tenant's upload.

pub mod complete_xml;
pub mod delete_objects_xml;
pub mod render;
pub mod upload_id;

pub use complete_xml::{
    CompleteXmlError, CompletedPart, MAX_PART_NUMBER, MAX_PARTS, PartRef, normalize_etag,
    parse_complete_multipart_upload, write_complete_multipart_upload,
};
pub use delete_objects_xml::{
    DeleteOutcome, DeleteRequest, DeleteXmlError, MAX_DELETE_OBJECTS, ObjectToDelete, parse_delete_objects,
    write_delete_request, write_delete_result,
};
pub use render::{
    ChecksumType, CompleteMultipartUploadResult, CopyObjectResult, CopyPartResult,
    InitiateMultipartUploadResult, ListMultipartUploadsResult, ListPartsResult, ListedPart, ListedUpload,
    Owner,
};
pub use upload_id::{EncodeError, MAX_TOKEN_LEN, UploadToken};

/// A pull reader over the small, flat documents of this module: elements and
/// text only, namespaces ignored (local names), comments and processing
/// instructions skipped, DOCTYPE refused.
mod flat_xml {
    use std::borrow::Cow;

    use quick_xml::Reader;
    use quick_xml::events::{BytesStart, Event};

    /// The document is not well-formed (or uses a DOCTYPE).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) struct NotWellFormed;

    /// One step through the document.
    pub(super) enum Item<'a> {
        /// A start tag (`<a/>` arrives as `Open` then `Close`).
        Open(BytesStart<'a>),
        Close,
        /// Text or CDATA inside an element, unescaped. Text outside the root
        /// element is checked to be whitespace and never returned.
        Text(Cow<'a, str>),
    }

    /// A start or end tag, from [`FlatReader::next_tag`].
    pub(super) enum Tag<'a> {
        Open(BytesStart<'a>),
        Close,
    }

    pub(super) struct FlatReader<'a> {
        reader: Reader<&'a [u8]>,
        depth: usize,
        seen_root: bool,
    }

    /// XML's whitespace (`S` in the XML 1.0 grammar).
    pub(super) fn is_xml_space(s: &str) -> bool {
        s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    }

    /// `s` without leading and trailing XML whitespace.
    pub(super) fn trim_xml_space(s: &str) -> &str {
        s.trim_matches([' ', '\t', '\r', '\n'])
    }

    impl<'a> FlatReader<'a> {
        pub(super) fn new(body: &'a [u8]) -> Self {
            // A UTF-8 byte order mark is legal before the XML declaration.
            let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
            let mut reader = Reader::from_reader(body);
            reader.config_mut().expand_empty_elements = true;
            FlatReader { reader, depth: 0, seen_root: false }
        }

        /// The next item, or `None` once the root element closed and only
        /// whitespace, comments or processing instructions followed it.
        pub(super) fn next(&mut self) -> Result<Option<Item<'a>>, NotWellFormed> {
            loop {
                match self.reader.read_event().map_err(|_| NotWellFormed)? {
                    Event::Start(e) => {
                        if self.depth == 0 && self.seen_root {
                            return Err(NotWellFormed); // a second root element
                        }
                        self.seen_root = true;
                        self.depth += 1;
                        return Ok(Some(Item::Open(e)));
                    }
                    Event::End(_) => {
                        self.depth = self.depth.checked_sub(1).ok_or(NotWellFormed)?;
                        return Ok(Some(Item::Close));
                    }
                    Event::Text(t) => {
                        let text = t.unescape().map_err(|_| NotWellFormed)?;
                        if self.depth > 0 {
                            return Ok(Some(Item::Text(text)));
                        }
                        if !is_xml_space(&text) {
                            return Err(NotWellFormed);
                        }
                    }
                    Event::CData(c) => {
                        if self.depth == 0 {
                            return Err(NotWellFormed);
                        }
                        let text = match c.into_inner() {
                            Cow::Borrowed(b) => {
                                Cow::Borrowed(std::str::from_utf8(b).map_err(|_| NotWellFormed)?)
                            }
                            Cow::Owned(v) => Cow::Owned(String::from_utf8(v).map_err(|_| NotWellFormed)?),
                        };
                        return Ok(Some(Item::Text(text)));
                    }
                    Event::Decl(_) if self.seen_root || self.depth > 0 => return Err(NotWellFormed),
                    Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                    // No DTDs: nothing may define entities or defaults.
                    Event::DocType(_) => return Err(NotWellFormed),
                    // `expand_empty_elements` turns these into Start + End.
                    Event::Empty(_) => return Err(NotWellFormed),
                    Event::Eof => {
                        return if self.seen_root && self.depth == 0 { Ok(None) } else { Err(NotWellFormed) };
                    }
                }
            }
        }

        /// The next start or end tag, skipping whitespace; `None` at the end of
        /// the document. Text that is not whitespace is an error (no mixed content).
        pub(super) fn next_tag(&mut self) -> Result<Option<Tag<'a>>, NotWellFormed> {
            loop {
                match self.next()? {
                    Some(Item::Text(t)) if is_xml_space(&t) => {}
                    Some(Item::Text(_)) => return Err(NotWellFormed),
                    Some(Item::Open(e)) => return Ok(Some(Tag::Open(e))),
                    Some(Item::Close) => return Ok(Some(Tag::Close)),
                    None => return Ok(None),
                }
            }
        }

        /// The text of the leaf element whose start tag was just read, through
        /// its end tag. A child element is an error.
        pub(super) fn leaf_text(&mut self) -> Result<String, NotWellFormed> {
            let mut text = String::new();
            loop {
                match self.next()? {
                    Some(Item::Text(t)) => text.push_str(&t),
                    Some(Item::Close) => return Ok(text),
                    Some(Item::Open(_)) | None => return Err(NotWellFormed),
                }
            }
        }

        /// Skips everything up to the end of the document, which must be
        /// well-formed. Used after the root element closed.
        pub(super) fn finish(&mut self) -> Result<(), NotWellFormed> {
            match self.next()? {
                None => Ok(()),
                Some(_) => Err(NotWellFormed),
            }
        }
    }
}
