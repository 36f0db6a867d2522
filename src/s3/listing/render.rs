//! The `ListBucketResult` XML of ListObjectsV2 and ListObjects (V1).
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>.
//!
//! # Decisions
//! - Element order follows what AWS sends. V2: `Name`, `Prefix`,
//!   `ContinuationToken`, `NextContinuationToken`, `StartAfter`, `KeyCount`,
//!   `MaxKeys`, `Delimiter`, `EncodingType`, `IsTruncated`, every `Contents`,
//!   every `CommonPrefixes`. V1: `Name`, `Prefix`, `Marker`, `NextMarker`,
//!   `MaxKeys`, `Delimiter`, `EncodingType`, `IsTruncated`, `Contents`,
//!   `CommonPrefixes`. In `Contents`: `Key`, `LastModified`, `ETag`, `Size`,
//!   `Owner`, `StorageClass`.
//! - Always present: `Name`, `Prefix` (empty when none), `MaxKeys`,
//!   `IsTruncated`, and `KeyCount` (V2) / `Marker` (V1, empty when none).
//!   Only when they apply: `Delimiter`, `EncodingType`, `ContinuationToken`
//!   and `StartAfter` (echoed when sent), `NextContinuationToken` (V2, when
//!   truncated), `NextMarker` (V1, when truncated and a delimiter was given:
//!   without one the client resumes from the last key, as AWS documents).
//! - `KeyCount` counts keys and common prefixes, as AWS does.
//! - `Owner` is in every V1 `Contents`, and in V2 only with fetch-owner;
//!   `DisplayName` is left out when empty (AWS no longer sends it in most
//!   regions). A `LastModified` or `ETag` the backend did not send is left out.
//! - With encoding-type=url, `Key`, `Prefix` (top level and in
//!   `CommonPrefixes`), `Delimiter`, `StartAfter`, `Marker` and `NextMarker`
//!   are percent-encoded: every byte but `A-Z a-z 0-9 - . _ ~ /` as `%XX`, so
//!   a space is `%20` and a `+` is `%2B`. AWS itself writes spaces as `+`;
//!   `%20` decodes to a space in every client's decoder (form decoders such
//!   as botocore's and the Java and Go SDKs', and plain percent-decoders),
//!   `+` does not.

use crate::s3::xml::{element, escape_into};
use crate::sigv4::uri_encode;

use super::merge::MergedPage;
use super::page::{Entry, ObjectEntry};
use super::request::{ListRequest, ListVersion};

/// The S3 XML namespace.
const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The owner shown in `Contents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
}

/// Appends the `ListBucketResult` for `req`'s version: V2 with `next_token`
/// as `NextContinuationToken`, V1 with `NextMarker` from `page.last`.
pub fn render(
    bucket: &str,
    req: &ListRequest,
    page: &MergedPage,
    next_token: Option<&str>,
    owner: &Owner<'_>,
    out: &mut Vec<u8>,
) {
    match req.version {
        ListVersion::V2 => render_v2(bucket, req, page, next_token, owner, out),
        ListVersion::V1 => render_v1(bucket, req, page, owner, out),
    }
}

/// Appends a ListObjectsV2 `ListBucketResult`. `next_token` is written when
/// the page is truncated.
pub fn render_v2(
    bucket: &str,
    req: &ListRequest,
    page: &MergedPage,
    next_token: Option<&str>,
    owner: &Owner<'_>,
    out: &mut Vec<u8>,
) {
    let url = req.url_encoding;
    open_result(out);
    element("Name", bucket, out);
    value("Prefix", &req.prefix, url, out);
    if let Some(t) = &req.continuation_token {
        element("ContinuationToken", t, out);
    }
    if let Some(t) = next_token.filter(|_| page.is_truncated) {
        element("NextContinuationToken", t, out);
    }
    if let Some(s) = &req.start_after {
        value("StartAfter", s, url, out);
    }
    number("KeyCount", page.entries.len(), out);
    common_tail(req, page, out);
    entries(page, req.fetch_owner.then_some(owner), url, out);
    close_result(out);
}

/// Appends a ListObjects (V1) `ListBucketResult`.
pub fn render_v1(bucket: &str, req: &ListRequest, page: &MergedPage, owner: &Owner<'_>, out: &mut Vec<u8>) {
    let url = req.url_encoding;
    open_result(out);
    element("Name", bucket, out);
    value("Prefix", &req.prefix, url, out);
    value("Marker", req.marker.as_deref().unwrap_or(""), url, out);
    if page.is_truncated
        && req.delimiter.is_some()
        && let Some(last) = &page.last
    {
        value("NextMarker", last.name(), url, out);
    }
    common_tail(req, page, out);
    entries(page, Some(owner), url, out);
    close_result(out);
}

fn open_result(out: &mut Vec<u8>) {
    out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"");
    out.extend_from_slice(NAMESPACE.as_bytes());
    out.extend_from_slice(b"\">");
}

fn close_result(out: &mut Vec<u8>) {
    out.extend_from_slice(b"</ListBucketResult>");
}

/// `MaxKeys`, `Delimiter`, `EncodingType`, `IsTruncated`: the same in V1 and V2.
fn common_tail(req: &ListRequest, page: &MergedPage, out: &mut Vec<u8>) {
    number("MaxKeys", req.max_keys, out);
    if let Some(d) = &req.delimiter {
        value("Delimiter", d, req.url_encoding, out);
    }
    if req.url_encoding {
        element("EncodingType", "url", out);
    }
    element("IsTruncated", if page.is_truncated { "true" } else { "false" }, out);
}

/// Every `Contents`, then every `CommonPrefixes`, each in order.
fn entries(page: &MergedPage, owner: Option<&Owner<'_>>, url: bool, out: &mut Vec<u8>) {
    for entry in &page.entries {
        if let Entry::Object(o) = entry {
            contents(o, owner, url, out);
        }
    }
    for entry in &page.entries {
        if let Entry::Prefix(p) = entry {
            out.extend_from_slice(b"<CommonPrefixes>");
            value("Prefix", p, url, out);
            out.extend_from_slice(b"</CommonPrefixes>");
        }
    }
}

fn contents(o: &ObjectEntry, owner: Option<&Owner<'_>>, url: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<Contents>");
    value("Key", &o.key, url, out);
    if !o.last_modified.is_empty() {
        element("LastModified", &o.last_modified, out);
    }
    if !o.etag.is_empty() {
        element("ETag", &o.etag, out);
    }
    number("Size", o.size, out);
    if let Some(owner) = owner {
        out.extend_from_slice(b"<Owner>");
        element("ID", owner.id, out);
        if !owner.display_name.is_empty() {
            element("DisplayName", owner.display_name, out);
        }
        out.extend_from_slice(b"</Owner>");
    }
    let class = if o.storage_class.is_empty() { "STANDARD" } else { &o.storage_class };
    element("StorageClass", class, out);
    out.extend_from_slice(b"</Contents>");
}

/// `<tag>v</tag>`, percent-encoded with `url`, else XML-escaped.
fn value(tag: &str, v: &str, url: bool, out: &mut Vec<u8>) {
    if !url {
        element(tag, v, out);
        return;
    }
    out.push(b'<');
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
    // The encoded form is ASCII without XML specials; escaping is a no-op
    // kept so this stays correct if the encoding table ever changes.
    let mut encoded = Vec::with_capacity(v.len());
    uri_encode(v.as_bytes(), false, &mut encoded);
    escape_into(std::str::from_utf8(&encoded).unwrap_or_default(), out);
    out.extend_from_slice(b"</");
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
}

fn number(tag: &str, n: impl itoa::Integer, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    element(tag, buf.format(n), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &str) -> ListRequest {
        ListRequest::parse(query).unwrap()
    }

    fn obj(key: &str) -> Entry {
        Entry::Object(ObjectEntry {
            key: key.into(),
            last_modified: "2009-10-12T17:50:30.000Z".into(),
            etag: "\"fba9dede5f27731c9771645a39863328\"".into(),
            size: 434234,
            storage_class: "STANDARD".into(),
        })
    }

    fn page(entries: Vec<Entry>, is_truncated: bool) -> MergedPage {
        let last = entries.last().cloned();
        MergedPage { entries, is_truncated, last }
    }

    const OWNER: Owner<'static> = Owner { id: "tenant-1", display_name: "acme" };

    fn render_str(bucket: &str, r: &ListRequest, p: &MergedPage, token: Option<&str>) -> String {
        let mut out = Vec::new();
        render(bucket, r, p, token, &OWNER, &mut out);
        String::from_utf8(out).unwrap()
    }

    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                        <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";

    #[test]
    fn v2_minimal() {
        let s = render_str("b", &req("list-type=2"), &page(vec![], false), None);
        assert_eq!(
            s,
            format!(
                "{HEAD}<Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>\
                 <IsTruncated>false</IsTruncated></ListBucketResult>"
            )
        );
    }

    #[test]
    fn v2_full_with_url_encoding() {
        let r = req("list-type=2&prefix=a%20b%2B&delimiter=%2F&max-keys=3&encoding-type=url\
             &start-after=a%20b%2Bz&continuation-token=TOK&fetch-owner=true");
        let p = page(vec![obj("a b+/x"), Entry::Prefix("a b+/日/".into()), obj("a b+<&>")], true);
        let s = render_str("bkt", &r, &p, Some("NEXT"));
        assert_eq!(
            s,
            format!(
                "{HEAD}<Name>bkt</Name><Prefix>a%20b%2B</Prefix><ContinuationToken>TOK</ContinuationToken>\
                 <NextContinuationToken>NEXT</NextContinuationToken><StartAfter>a%20b%2Bz</StartAfter>\
                 <KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/</Delimiter>\
                 <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
                 <Contents><Key>a%20b%2B/x</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
                 <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>\
                 <Owner><ID>tenant-1</ID><DisplayName>acme</DisplayName></Owner>\
                 <StorageClass>STANDARD</StorageClass></Contents>\
                 <Contents><Key>a%20b%2B%3C%26%3E</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
                 <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>\
                 <Owner><ID>tenant-1</ID><DisplayName>acme</DisplayName></Owner>\
                 <StorageClass>STANDARD</StorageClass></Contents>\
                 <CommonPrefixes><Prefix>a%20b%2B/%E6%97%A5/</Prefix></CommonPrefixes></ListBucketResult>"
            )
        );
    }

    #[test]
    fn v2_without_url_escapes_xml_and_hides_owner() {
        let r = req("list-type=2&prefix=%3C&delimiter=%26");
        let p = page(vec![obj("<a&b>")], false);
        let s = render_str("b", &r, &p, Some("ignored: not truncated"));
        assert!(s.contains("<Prefix>&lt;</Prefix>"), "{s}");
        assert!(s.contains("<Delimiter>&amp;</Delimiter>"), "{s}");
        assert!(s.contains("<Key>&lt;a&amp;b&gt;</Key>"), "{s}");
        assert!(!s.contains("Owner"), "{s}");
        assert!(!s.contains("NextContinuationToken"), "{s}");
        assert!(
            !s.contains("EncodingType") && !s.contains("StartAfter") && !s.contains("<ContinuationToken>")
        );
    }

    #[test]
    fn v1_with_delimiter_truncated_has_next_marker() {
        let r = req("prefix=photos%2F&delimiter=%2F&marker=photos%2Fa%20b&max-keys=2&encoding-type=url");
        let p = page(vec![obj("photos/a c.jpg"), Entry::Prefix("photos/2006 x/".into())], true);
        let s = render_str("b", &r, &p, Some("unused in V1"));
        assert_eq!(
            s,
            format!(
                "{HEAD}<Name>b</Name><Prefix>photos/</Prefix><Marker>photos/a%20b</Marker>\
                 <NextMarker>photos/2006%20x/</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>\
                 <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
                 <Contents><Key>photos/a%20c.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
                 <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>\
                 <Owner><ID>tenant-1</ID><DisplayName>acme</DisplayName></Owner>\
                 <StorageClass>STANDARD</StorageClass></Contents>\
                 <CommonPrefixes><Prefix>photos/2006%20x/</Prefix></CommonPrefixes></ListBucketResult>"
            )
        );
    }

    #[test]
    fn v1_next_marker_only_with_delimiter_and_truncation() {
        let p = page(vec![obj("k")], true);
        let s = render_str("b", &req("max-keys=1"), &p, None);
        assert!(s.contains("<Marker></Marker>") && !s.contains("NextMarker"), "{s}");
        let s = render_str("b", &req("delimiter=%2F"), &page(vec![obj("k")], false), None);
        assert!(!s.contains("NextMarker"), "{s}");
        assert!(s.contains("<Owner><ID>tenant-1</ID>"), "V1 always lists the owner: {s}");
    }

    #[test]
    fn missing_backend_fields_are_left_out() {
        let o = Entry::Object(ObjectEntry {
            key: "k".into(),
            last_modified: String::new(),
            etag: String::new(),
            size: 0,
            storage_class: String::new(),
        });
        let owner = Owner { id: "id", display_name: "" };
        let mut out = Vec::new();
        render_v2("b", &req("list-type=2&fetch-owner=true"), &page(vec![o], false), None, &owner, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains(
                "<Contents><Key>k</Key><Size>0</Size><Owner><ID>id</ID></Owner>\
                 <StorageClass>STANDARD</StorageClass></Contents>"
            ),
            "{s}"
        );
    }
}
