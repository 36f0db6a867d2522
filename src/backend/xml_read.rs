//! Reading the few fields sluice needs from a backend's small XML answers
//! (UploadId, ETag, LastModified), with quick-xml.
//!
//! # Invariants
//! Inputs are bounded by the caller (`wire::MAX_ERROR_BODY`-sized reads);
//! malformed XML yields `None`, never a panic.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The unescaped text of the first element whose local name is `name`.
pub fn first_text(doc: &[u8], name: &str) -> Option<String> {
    let mut reader = Reader::from_reader(doc);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == name.as_bytes() => {
                inside = true;
                text.clear();
            }
            Event::Text(t) if inside => text.push_str(&t.unescape().ok()?),
            Event::CData(t) if inside => text.push_str(std::str::from_utf8(&t).ok()?),
            Event::End(e) if inside && e.local_name().as_ref() == name.as_bytes() => return Some(text),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Whether the document is an `<Error>` (S3 may answer 200 with an error body
/// for long-running requests such as CompleteMultipartUpload or CopyObject).
pub fn is_error_document(doc: &[u8]) -> bool {
    let mut reader = Reader::from_reader(doc);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => return e.local_name().as_ref() == b"Error",
            Ok(Event::Eof) | Err(_) => return false,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let doc = br#"<?xml version="1.0"?><InitiateMultipartUploadResult xmlns="x"><Bucket>b</Bucket><Key>a&amp;b</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>"#;
        assert_eq!(first_text(doc, "UploadId").as_deref(), Some("u-1"));
        assert_eq!(first_text(doc, "Key").as_deref(), Some("a&b"));
        assert_eq!(first_text(doc, "Nope"), None);
        assert!(!is_error_document(doc));
        assert!(is_error_document(b"<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>"));
        assert_eq!(first_text(b"<<garbage", "x"), None);
    }
}
