//! The `DeleteObjects` request body (`<Delete>`) and its answer (`<DeleteResult>`).
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectIdentifier.html>.
//!
//! ```xml
//! <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//!   <Object><Key>sample1.txt</Key></Object>
//!   <Object><Key>sample2.txt</Key><VersionId>v2</VersionId></Object>
//!   <Quiet>true</Quiet>
//! </Delete>
//! ```
//!
//! # Rules
//! - `MalformedXML`: not well-formed; a root other than `Delete`; unknown
//!   elements or text where the schema has none; repeated `Key`, `VersionId`
//!   or `Quiet`; an `Object` without `Key` or with an empty one; a `Quiet`
//!   that is not an `xsd:boolean`; no object; more than [`MAX_DELETE_OBJECTS`]
//!   (AWS answers MalformedXML too).
//! - `KeyTooLongError`: a key over `MAX_KEY_BYTES`.
//! - `InvalidArgument`: an empty or over-long `VersionId`.
//! - `NotImplemented`: the conditional-delete fields `ETag`,
//!   `LastModifiedTime` and `Size` (ignoring them would delete objects the
//!   client asked to keep).
//!
//! Keys are kept exactly as sent (whitespace included; S3 keys may be all
//! whitespace), after XML unescaping (`&#13;` is a carriage return).
//!
//! # Invariants
//! [`write_delete_request`] writes a document that [`parse_delete_objects`]
//! reads back to the same value (fuzzed).

use std::fmt;

use super::flat_xml::{FlatReader, NotWellFormed, Tag, trim_xml_space};
use super::render::{text_element, xml_root_open};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::limits::MAX_KEY_BYTES;

/// Most objects in one DeleteObjects request, as in AWS.
pub const MAX_DELETE_OBJECTS: usize = 1000;
/// Longest `VersionId` accepted. AWS version ids are 32 characters; the bound
/// only caps what one entry holds.
pub const MAX_VERSION_ID_BYTES: usize = 1024;

/// A parsed `<Delete>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// Quiet mode: the answer lists only the failures.
    pub quiet: bool,
    /// `1..=MAX_DELETE_OBJECTS` entries, in document order (duplicates kept).
    pub objects: Vec<ObjectToDelete>,
}

/// One `<Object>` of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectToDelete {
    /// `1..=MAX_KEY_BYTES` bytes, exactly as sent.
    pub key: String,
    pub version_id: Option<String>,
}

/// Why a DeleteObjects body was refused. `S3Error::from` gives the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteXmlError {
    /// Not well-formed or not the schema (`MalformedXML`); the reason is for logs.
    Malformed(&'static str),
    /// A key longer than `MAX_KEY_BYTES` (`KeyTooLongError`).
    KeyTooLong,
    /// An empty or over-long `VersionId` (`InvalidArgument`).
    BadVersionId,
    /// A conditional-delete element sluice does not implement (`NotImplemented`).
    Unsupported(&'static str),
}

impl fmt::Display for DeleteXmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteXmlError::Malformed(why) => write!(f, "malformed Delete document: {why}"),
            DeleteXmlError::KeyTooLong => write!(f, "a key is longer than {MAX_KEY_BYTES} bytes"),
            DeleteXmlError::BadVersionId => f.write_str("Invalid version id specified"),
            DeleteXmlError::Unsupported(el) => write!(f, "conditional deletes ({el}) are not implemented"),
        }
    }
}

impl std::error::Error for DeleteXmlError {}

impl From<DeleteXmlError> for S3Error {
    fn from(e: DeleteXmlError) -> Self {
        match e {
            DeleteXmlError::Malformed(_) => S3Error::new(S3ErrorCode::MalformedXML),
            DeleteXmlError::KeyTooLong => S3Error::new(S3ErrorCode::KeyTooLongError),
            DeleteXmlError::BadVersionId => {
                S3Error::with_message(S3ErrorCode::InvalidArgument, e.to_string())
            }
            DeleteXmlError::Unsupported(_) => {
                S3Error::with_message(S3ErrorCode::NotImplemented, e.to_string())
            }
        }
    }
}

impl From<NotWellFormed> for DeleteXmlError {
    fn from(_: NotWellFormed) -> Self {
        DeleteXmlError::Malformed("not well-formed")
    }
}

/// Parses a DeleteObjects body (see the module docs for the rules).
pub fn parse_delete_objects(body: &[u8]) -> Result<DeleteRequest, DeleteXmlError> {
    use DeleteXmlError::Malformed;
    let mut r = FlatReader::new(body);
    match r.next_tag()? {
        Some(Tag::Open(e)) if e.local_name().as_ref() == b"Delete" => {}
        _ => return Err(Malformed("the root element must be Delete")),
    }
    let mut quiet: Option<bool> = None;
    let mut objects = Vec::new();
    loop {
        let name = match r.next_tag()? {
            Some(Tag::Open(e)) => e.local_name().as_ref().to_vec(),
            Some(Tag::Close) => break,
            None => return Err(Malformed("unexpected end of Delete")),
        };
        match name.as_slice() {
            b"Object" => {
                if objects.len() == MAX_DELETE_OBJECTS {
                    return Err(Malformed("more than 1000 objects"));
                }
                objects.push(read_object(&mut r)?);
            }
            b"Quiet" if quiet.is_none() => {
                quiet = Some(match trim_xml_space(&r.leaf_text()?) {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(Malformed("Quiet is not a boolean")),
                });
            }
            _ => return Err(Malformed("unexpected element in Delete")),
        }
    }
    r.finish()?;
    if objects.is_empty() {
        return Err(Malformed("no objects"));
    }
    Ok(DeleteRequest { quiet: quiet.unwrap_or(false), objects })
}

/// Reads one `Object` whose start tag was just read, through its end tag.
fn read_object(r: &mut FlatReader<'_>) -> Result<ObjectToDelete, DeleteXmlError> {
    use DeleteXmlError::Malformed;
    let mut key: Option<String> = None;
    let mut version_id: Option<String> = None;
    loop {
        let name = match r.next_tag()? {
            Some(Tag::Open(e)) => e.local_name().as_ref().to_vec(),
            Some(Tag::Close) => break,
            None => return Err(Malformed("unexpected end of Object")),
        };
        match name.as_slice() {
            b"Key" if key.is_none() => key = Some(r.leaf_text()?),
            b"VersionId" if version_id.is_none() => version_id = Some(r.leaf_text()?),
            b"ETag" => return Err(DeleteXmlError::Unsupported("ETag")),
            b"LastModifiedTime" => return Err(DeleteXmlError::Unsupported("LastModifiedTime")),
            b"Size" => return Err(DeleteXmlError::Unsupported("Size")),
            _ => return Err(Malformed("unexpected element in Object")),
        }
    }
    let key = key.filter(|k| !k.is_empty()).ok_or(Malformed("an Object needs a non-empty Key"))?;
    if key.len() > MAX_KEY_BYTES {
        return Err(DeleteXmlError::KeyTooLong);
    }
    if version_id.as_ref().is_some_and(|v| v.is_empty() || v.len() > MAX_VERSION_ID_BYTES) {
        return Err(DeleteXmlError::BadVersionId);
    }
    Ok(ObjectToDelete { key, version_id })
}

/// Appends the `<Delete>` document of `req` (objects first, then `Quiet`
/// when set, as in the AWS syntax), e.g. to forward a batch to a backend.
pub fn write_delete_request(req: &DeleteRequest, out: &mut Vec<u8>) {
    xml_root_open("Delete", out);
    for o in &req.objects {
        out.extend_from_slice(b"<Object>");
        text_element("Key", &o.key, out);
        if let Some(v) = &o.version_id {
            text_element("VersionId", v, out);
        }
        out.extend_from_slice(b"</Object>");
    }
    if req.quiet {
        out.extend_from_slice(b"<Quiet>true</Quiet>");
    }
    out.extend_from_slice(b"</Delete>");
}

/// What happened to one object of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome<'a> {
    /// Deleted, or did not exist (S3 reports both as deleted).
    Deleted { key: &'a str, version_id: Option<&'a str> },
    /// Not deleted: the error's code and message are reported for this key.
    Failed { key: &'a str, version_id: Option<&'a str>, error: &'a S3Error },
}

/// Appends the `DeleteResult` document: a `Deleted` per success (omitted in
/// quiet mode) and an `Error` per failure, in the order given.
pub fn write_delete_result<'a>(
    outcomes: impl IntoIterator<Item = DeleteOutcome<'a>>,
    quiet: bool,
    out: &mut Vec<u8>,
) {
    xml_root_open("DeleteResult", out);
    for o in outcomes {
        match o {
            DeleteOutcome::Deleted { .. } if quiet => {}
            DeleteOutcome::Deleted { key, version_id } => {
                out.extend_from_slice(b"<Deleted>");
                text_element("Key", key, out);
                if let Some(v) = version_id {
                    text_element("VersionId", v, out);
                }
                out.extend_from_slice(b"</Deleted>");
            }
            DeleteOutcome::Failed { key, version_id, error } => {
                out.extend_from_slice(b"<Error>");
                text_element("Key", key, out);
                if let Some(v) = version_id {
                    text_element("VersionId", v, out);
                }
                text_element("Code", error.code.as_str(), out);
                text_element("Message", &error.message, out);
                out.extend_from_slice(b"</Error>");
            }
        }
    }
    out.extend_from_slice(b"</DeleteResult>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::multipart::render::tests::canonical;

    fn parse(s: &str) -> Result<DeleteRequest, DeleteXmlError> {
        parse_delete_objects(s.as_bytes())
    }

    fn code(s: &str) -> S3ErrorCode {
        S3Error::from(parse(s).unwrap_err()).code
    }

    fn obj(key: &str, version_id: Option<&str>) -> ObjectToDelete {
        ObjectToDelete { key: key.into(), version_id: version_id.map(Into::into) }
    }

    fn round_trip(req: &DeleteRequest) -> DeleteRequest {
        let mut out = Vec::new();
        write_delete_request(req, &mut out);
        parse_delete_objects(&out).unwrap()
    }

    #[test]
    fn aws_examples() {
        let mixed = "<Delete>\n<Object>\n<Key>sample1.txt</Key>\n</Object>\n<Object>\n<Key>sample2.txt</Key>\n</Object>\n</Delete>";
        assert_eq!(
            parse(mixed).unwrap(),
            DeleteRequest { quiet: false, objects: vec![obj("sample1.txt", None), obj("sample2.txt", None)] }
        );
        let versioned = "<Delete>\n  <Object>\n    <Key>SampleDocument.txt</Key>\n    \
                         <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>\n  </Object>\n</Delete>";
        assert_eq!(
            parse(versioned).unwrap().objects,
            vec![obj("SampleDocument.txt", Some("OYcLXagmS.WaD..oyH4KRguB95_YhLs7"))]
        );
        let carriage_return = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n<Object>\n\
                               <Key>/some/prefix/objectwith&#13;carriagereturn</Key>\n</Object>\n</Delete>";
        let req = parse(carriage_return).unwrap();
        assert_eq!(req.objects, vec![obj("/some/prefix/objectwith\rcarriagereturn", None)]);
        assert_eq!(round_trip(&req), req);
        // The malformed example: the Delete end tag is missing.
        let unclosed = "<Delete>\n  <Object>\n    <Key>404.txt</Key>\n  </Object>\n  <Object>\n    \
                        <Key>a.txt</Key>\n  </Object>\n\n";
        assert_eq!(code(unclosed), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn quiet_values_and_position() {
        for (v, q) in [("true", true), (" true ", true), ("1", true), ("false", false), ("0", false)] {
            let before = format!("<Delete><Quiet>{v}</Quiet><Object><Key>k</Key></Object></Delete>");
            let after = format!("<Delete><Object><Key>k</Key></Object><Quiet>{v}</Quiet></Delete>");
            assert_eq!(parse(&before).unwrap().quiet, q, "{v}");
            assert_eq!(parse(&after).unwrap().quiet, q, "{v}");
        }
        for bad in ["", "yes", "TRUE1", "2"] {
            let doc = format!("<Delete><Quiet>{bad}</Quiet><Object><Key>k</Key></Object></Delete>");
            assert_eq!(code(&doc), S3ErrorCode::MalformedXML, "{bad}");
        }
        let twice = "<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>";
        assert_eq!(code(twice), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn keys_are_kept_exactly() {
        for key in
            [" ", "  spaced  ", "a<b>&c\"d'e", "\u{e9}t\u{e9}/\u{1F600}", "tab\there", "nl\nx", "cr\rx", "/"]
        {
            let req = DeleteRequest { quiet: true, objects: vec![obj(key, Some("v 1"))] };
            assert_eq!(round_trip(&req), req, "{key:?}");
        }
        let cdata = "<Delete><Object><Key><![CDATA[a<b]]>&amp;c</Key></Object></Delete>";
        assert_eq!(parse(cdata).unwrap().objects, vec![obj("a<b&c", None)]);
    }

    #[test]
    fn key_and_version_limits() {
        let max = "k".repeat(MAX_KEY_BYTES);
        let doc = format!("<Delete><Object><Key>{max}</Key></Object></Delete>");
        assert_eq!(parse(&doc).unwrap().objects[0].key.len(), MAX_KEY_BYTES);
        let doc = format!("<Delete><Object><Key>{max}k</Key></Object></Delete>");
        assert_eq!(code(&doc), S3ErrorCode::KeyTooLongError);
        // Multi-byte characters count in bytes.
        let doc = format!("<Delete><Object><Key>{}</Key></Object></Delete>", "\u{e9}".repeat(513));
        assert_eq!(code(&doc), S3ErrorCode::KeyTooLongError);
        for empty in ["<Key></Key>", "<Key/>", ""] {
            let doc = format!("<Delete><Object>{empty}</Object></Delete>");
            assert_eq!(code(&doc), S3ErrorCode::MalformedXML, "{empty}");
        }
        let doc = "<Delete><Object><Key>k</Key><VersionId/></Object></Delete>";
        assert_eq!(code(doc), S3ErrorCode::InvalidArgument);
        let doc = format!(
            "<Delete><Object><Key>k</Key><VersionId>{}</VersionId></Object></Delete>",
            "v".repeat(MAX_VERSION_ID_BYTES + 1)
        );
        assert_eq!(code(&doc), S3ErrorCode::InvalidArgument);
    }

    #[test]
    fn a_thousand_objects_and_no_more() {
        let mut s =
            String::from("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
        for i in 0..MAX_DELETE_OBJECTS {
            s.push_str(&format!("<Object><Key>key-{i}</Key></Object>"));
        }
        let req = parse(&format!("{s}</Delete>")).unwrap();
        assert_eq!(req.objects.len(), MAX_DELETE_OBJECTS);
        assert_eq!(req.objects[999].key, "key-999");
        assert_eq!(round_trip(&req), req);
        s.push_str("<Object><Key>one-too-many</Key></Object></Delete>");
        assert_eq!(parse(&s).unwrap_err(), DeleteXmlError::Malformed("more than 1000 objects"));
        assert_eq!(code(&s), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn conditional_deletes_are_not_implemented() {
        for el in [
            "<ETag>\"e\"</ETag>",
            "<LastModifiedTime>2024-01-01T00:00:00Z</LastModifiedTime>",
            "<Size>1</Size>",
        ] {
            let doc = format!("<Delete><Object><Key>k</Key>{el}</Object></Delete>");
            assert_eq!(code(&doc), S3ErrorCode::NotImplemented, "{el}");
        }
    }

    #[test]
    fn malformed_documents() {
        let ok = "<Object><Key>k</Key></Object>";
        let cases = [
            String::new(),
            "<Delete/>".into(),
            "<Delete><Quiet>true</Quiet></Delete>".into(),
            format!("<Deletes>{ok}</Deletes>"),
            format!("<Delete>{ok}<Objects/></Delete>"),
            format!("<Delete>x{ok}</Delete>"),
            format!("<Delete>{ok}</Delete>trailing"),
            format!("<Delete>{ok}</Delete><Delete>{ok}</Delete>"),
            "<Delete><Object><Key>k</Key><Key>k</Key></Object></Delete>".into(),
            "<Delete><Object><Key>k</Key><VersionId>a</VersionId><VersionId>b</VersionId></Object></Delete>"
                .into(),
            "<Delete><Object><Key>k<i/></Key></Object></Delete>".into(),
            "<Delete><Object>text<Key>k</Key></Object></Delete>".into(),
            "<Delete><Object><Key>k</Key><Other/></Object></Delete>".into(),
            "<Delete><Object><Key>&bogus;</Key></Object></Delete>".into(),
            format!("<!DOCTYPE d><Delete>{ok}</Delete>"),
            format!("<Delete>{ok}"),
            ok.into(),
        ];
        for c in &cases {
            assert_eq!(code(c), S3ErrorCode::MalformedXML, "{c}");
        }
    }

    #[test]
    fn every_prefix_is_refused_without_panic() {
        let doc = b"<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key><VersionId>v</VersionId></Object></Delete>";
        for cut in 0..doc.len() {
            assert!(parse_delete_objects(&doc[..cut]).is_err(), "cut {cut}");
        }
        assert!(parse_delete_objects(doc).is_ok());
    }

    #[test]
    fn delete_result_matches_aws_example() {
        let denied = S3Error::new(S3ErrorCode::AccessDenied);
        let outcomes = [
            DeleteOutcome::Deleted { key: "sample1.txt", version_id: None },
            DeleteOutcome::Failed { key: "sample2.txt", version_id: None, error: &denied },
        ];
        let mut out = Vec::new();
        write_delete_result(outcomes, false, &mut out);
        let aws = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                   <DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n<Deleted>\n  \
                   <Key>sample1.txt</Key>\n</Deleted>\n<Error>\n<Key>sample2.txt</Key>\n\
                   <Code>AccessDenied</Code>\n<Message>Access Denied</Message>\n</Error>\n</DeleteResult>";
        assert_eq!(canonical(&out), canonical(aws.as_bytes()));
        assert!(out.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\""));

        // Versioned: Key then VersionId.
        let mut out = Vec::new();
        write_delete_result(
            [DeleteOutcome::Deleted {
                key: "SampleDocument.txt",
                version_id: Some("OYcLXagmS.WaD..oyH4KRguB95_YhLs7"),
            }],
            false,
            &mut out,
        );
        let aws = "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <Deleted>\n    \
                   <Key>SampleDocument.txt</Key>\n    <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>\n  \
                   </Deleted>\n</DeleteResult>";
        assert_eq!(canonical(&out), canonical(aws.as_bytes()));
    }

    #[test]
    fn quiet_result_lists_only_errors() {
        let err = S3Error::with_message(S3ErrorCode::InternalError, "try <again> & again");
        let outcomes = [
            DeleteOutcome::Deleted { key: "a", version_id: None },
            DeleteOutcome::Failed { key: "b\r<&>\"'\u{e9}", version_id: Some("v"), error: &err },
            DeleteOutcome::Deleted { key: "c", version_id: None },
        ];
        let mut out = Vec::new();
        write_delete_result(outcomes, true, &mut out);
        assert_eq!(
            canonical(&out),
            "<DeleteResult><Error><Key>b\r<&>\"'\u{e9}</Key><VersionId>v</VersionId><Code>InternalError</Code>\
             <Message>try <again> & again</Message></Error></DeleteResult>"
        );
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("<Key>b&#13;&lt;&amp;&gt;&quot;&apos;\u{e9}</Key>"), "{s}");
        // Nothing deleted and quiet: an empty result.
        let mut out = Vec::new();
        write_delete_result([DeleteOutcome::Deleted { key: "a", version_id: None }], true, &mut out);
        assert_eq!(canonical(&out), "<DeleteResult></DeleteResult>");
    }
}
