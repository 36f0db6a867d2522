//! The XML results of the multipart and copy operations, written from plain
//! borrowed structs: [`InitiateMultipartUploadResult`],
//! [`CompleteMultipartUploadResult`], [`CopyObjectResult`], [`CopyPartResult`],
//! [`ListPartsResult`] and [`ListMultipartUploadsResult`].
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html>.
//!
//! Element order is that of the examples in those pages (the tests compare
//! against them); elements the examples do not show (checksums, checksum
//! type and algorithm) go where the "Response Syntax" puts them relative to
//! their neighbours. Every root carries the S3 namespace.
//!
//! # Conventions
//! - ETags are passed unquoted (see `complete_xml::normalize_etag`) and
//!   written quoted, as S3 does.
//! - Times are Unix seconds, written as `YYYY-MM-DDTHH:MM:SS.000Z`.
//! - Every string is escaped; a carriage return is written `&#13;` so that
//!   XML line-end normalisation in the client's parser does not turn a key's
//!   `\r` into `\n`.
//!
//! # Security
//! Nothing here reads backend documents: values come from sluice's own
//! structs, so backend details appear only where the caller put them.

use crate::s3::integrity::ChecksumAlgorithm;
use crate::s3::xml::S3_XMLNS;
use crate::s3::xml::escape_into;

/// How part checksums combine into the object's checksum (`x-amz-checksum-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumType {
    Composite,
    FullObject,
}

impl ChecksumType {
    pub const fn as_str(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }
}

/// An `Initiator` or `Owner`. AWS is phasing `DisplayName` out; `None` omits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub id: &'a str,
    pub display_name: Option<&'a str>,
}

/// Answer of CreateMultipartUpload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitiateMultipartUploadResult<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The id sluice hands out (an `UploadToken`), never the backend's.
    pub upload_id: &'a str,
}

/// Answer of CompleteMultipartUpload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompleteMultipartUploadResult<'a> {
    pub location: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    /// Unquoted.
    pub etag: &'a str,
    pub checksum: Option<(ChecksumAlgorithm, &'a str)>,
    pub checksum_type: Option<ChecksumType>,
}

/// Answer of CopyObject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyObjectResult<'a> {
    /// Unquoted.
    pub etag: &'a str,
    /// Unix seconds.
    pub last_modified: i64,
    pub checksum: Option<(ChecksumAlgorithm, &'a str)>,
    pub checksum_type: Option<ChecksumType>,
}

/// Answer of UploadPartCopy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyPartResult<'a> {
    /// Unquoted.
    pub etag: &'a str,
    /// Unix seconds.
    pub last_modified: i64,
    pub checksum: Option<(ChecksumAlgorithm, &'a str)>,
}

/// One `Part` of a ListParts answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedPart<'a> {
    pub number: u16,
    /// Unix seconds.
    pub last_modified: i64,
    /// Unquoted.
    pub etag: &'a str,
    pub size: u64,
    pub checksum: Option<(ChecksumAlgorithm, &'a str)>,
}

/// Answer of ListParts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPartsResult<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub upload_id: &'a str,
    pub initiator: Owner<'a>,
    pub owner: Owner<'a>,
    pub storage_class: &'a str,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: Option<ChecksumType>,
    /// The `part-number-marker` of the request (0 when absent).
    pub part_number_marker: u32,
    pub next_part_number_marker: u32,
    pub max_parts: u32,
    pub is_truncated: bool,
    pub parts: &'a [ListedPart<'a>],
}

/// One `Upload` of a ListMultipartUploads answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedUpload<'a> {
    pub key: &'a str,
    pub upload_id: &'a str,
    pub initiator: Owner<'a>,
    pub owner: Owner<'a>,
    pub storage_class: &'a str,
    /// Unix seconds.
    pub initiated: i64,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: Option<ChecksumType>,
}

/// Answer of ListMultipartUploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListMultipartUploadsResult<'a> {
    pub bucket: &'a str,
    pub key_marker: &'a str,
    pub upload_id_marker: &'a str,
    pub next_key_marker: &'a str,
    pub next_upload_id_marker: &'a str,
    /// Written only when the request had a delimiter.
    pub delimiter: Option<&'a str>,
    /// Written only when given (AWS writes `<Prefix/>` when a delimiter but
    /// no prefix was asked for: pass `Some("")`).
    pub prefix: Option<&'a str>,
    pub max_uploads: u32,
    pub is_truncated: bool,
    pub uploads: &'a [ListedUpload<'a>],
    pub common_prefixes: &'a [&'a str],
}

/// Appends the XML declaration and `<name xmlns="...">`.
pub(super) fn xml_root_open(name: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b" xmlns=\"");
    out.extend_from_slice(S3_XMLNS.as_bytes());
    out.extend_from_slice(b"\">");
}

/// Appends `s` escaped for XML text: the five specials, and `\r` as `&#13;`
/// (a raw carriage return would reach the reader as `\n`).
pub fn escape_text_into(s: &str, out: &mut Vec<u8>) {
    for (i, piece) in s.split('\r').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"&#13;");
        }
        escape_into(piece, out);
    }
}

/// Appends `<tag>escaped value</tag>` with [`escape_text_into`].
pub fn text_element(tag: &str, value: &str, out: &mut Vec<u8>) {
    out.push(b'<');
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
    escape_text_into(value, out);
    out.extend_from_slice(b"</");
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
}

/// Appends `<ETag>"value"</ETag>`.
fn etag_element(etag: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<ETag>\"");
    escape_text_into(etag, out);
    out.extend_from_slice(b"\"</ETag>");
}

/// Appends `<ChecksumCRC32>value</ChecksumCRC32>` (or the element of `alg`).
pub fn checksum_element(alg: ChecksumAlgorithm, value: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<Checksum");
    out.extend_from_slice(alg.name().as_bytes());
    out.push(b'>');
    escape_text_into(value, out);
    out.extend_from_slice(b"</Checksum");
    out.extend_from_slice(alg.name().as_bytes());
    out.push(b'>');
}

fn time_element(tag: &str, unix: i64, out: &mut Vec<u8>) {
    let t = crate::time::format_iso8601(unix);
    out.push(b'<');
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
    out.extend_from_slice(&t);
    out.extend_from_slice(b"</");
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
}

fn number_element(tag: &str, n: u64, out: &mut Vec<u8>) {
    text_element(tag, itoa::Buffer::new().format(n), out);
}

fn bool_element(tag: &str, b: bool, out: &mut Vec<u8>) {
    text_element(tag, if b { "true" } else { "false" }, out);
}

fn owner_element(tag: &str, o: &Owner<'_>, out: &mut Vec<u8>) {
    out.push(b'<');
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
    text_element("ID", o.id, out);
    if let Some(name) = o.display_name {
        text_element("DisplayName", name, out);
    }
    out.extend_from_slice(b"</");
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
}

fn checksum_algorithm_and_type(a: Option<ChecksumAlgorithm>, t: Option<ChecksumType>, out: &mut Vec<u8>) {
    if let Some(a) = a {
        text_element("ChecksumAlgorithm", a.name(), out);
    }
    if let Some(t) = t {
        text_element("ChecksumType", t.as_str(), out);
    }
}

impl InitiateMultipartUploadResult<'_> {
    pub fn write_xml(&self, out: &mut Vec<u8>) {
        xml_root_open("InitiateMultipartUploadResult", out);
        text_element("Bucket", self.bucket, out);
        text_element("Key", self.key, out);
        text_element("UploadId", self.upload_id, out);
        out.extend_from_slice(b"</InitiateMultipartUploadResult>");
    }
}

impl CompleteMultipartUploadResult<'_> {
    pub fn write_xml(&self, out: &mut Vec<u8>) {
        xml_root_open("CompleteMultipartUploadResult", out);
        text_element("Location", self.location, out);
        text_element("Bucket", self.bucket, out);
        text_element("Key", self.key, out);
        etag_element(self.etag, out);
        if let Some((alg, value)) = self.checksum {
            checksum_element(alg, value, out);
        }
        if let Some(t) = self.checksum_type {
            text_element("ChecksumType", t.as_str(), out);
        }
        out.extend_from_slice(b"</CompleteMultipartUploadResult>");
    }
}

impl CopyObjectResult<'_> {
    pub fn write_xml(&self, out: &mut Vec<u8>) {
        xml_root_open("CopyObjectResult", out);
        time_element("LastModified", self.last_modified, out);
        etag_element(self.etag, out);
        if let Some(t) = self.checksum_type {
            text_element("ChecksumType", t.as_str(), out);
        }
        if let Some((alg, value)) = self.checksum {
            checksum_element(alg, value, out);
        }
        out.extend_from_slice(b"</CopyObjectResult>");
    }
}

impl CopyPartResult<'_> {
    pub fn write_xml(&self, out: &mut Vec<u8>) {
        xml_root_open("CopyPartResult", out);
        time_element("LastModified", self.last_modified, out);
        etag_element(self.etag, out);
        if let Some((alg, value)) = self.checksum {
            checksum_element(alg, value, out);
        }
        out.extend_from_slice(b"</CopyPartResult>");
    }
}

impl ListPartsResult<'_> {
    pub fn write_xml(&self, out: &mut Vec<u8>) {
        xml_root_open("ListPartsResult", out);
        text_element("Bucket", self.bucket, out);
        text_element("Key", self.key, out);
        text_element("UploadId", self.upload_id, out);
        owner_element("Initiator", &self.initiator, out);
        owner_element("Owner", &self.owner, out);
        text_element("StorageClass", self.storage_class, out);
        checksum_algorithm_and_type(self.checksum_algorithm, self.checksum_type, out);
        number_element("PartNumberMarker", self.part_number_marker.into(), out);
        number_element("NextPartNumberMarker", self.next_part_number_marker.into(), out);
        number_element("MaxParts", self.max_parts.into(), out);
        bool_element("IsTruncated", self.is_truncated, out);
        for p in self.parts {
            out.extend_from_slice(b"<Part>");
            number_element("PartNumber", p.number.into(), out);
            time_element("LastModified", p.last_modified, out);
            etag_element(p.etag, out);
            number_element("Size", p.size, out);
            if let Some((alg, value)) = p.checksum {
                checksum_element(alg, value, out);
            }
            out.extend_from_slice(b"</Part>");
        }
        out.extend_from_slice(b"</ListPartsResult>");
    }
}

impl ListMultipartUploadsResult<'_> {
    pub fn write_xml(&self, out: &mut Vec<u8>) {
        xml_root_open("ListMultipartUploadsResult", out);
        text_element("Bucket", self.bucket, out);
        text_element("KeyMarker", self.key_marker, out);
        text_element("UploadIdMarker", self.upload_id_marker, out);
        text_element("NextKeyMarker", self.next_key_marker, out);
        text_element("NextUploadIdMarker", self.next_upload_id_marker, out);
        if let Some(d) = self.delimiter {
            text_element("Delimiter", d, out);
        }
        if let Some(p) = self.prefix {
            text_element("Prefix", p, out);
        }
        number_element("MaxUploads", self.max_uploads.into(), out);
        bool_element("IsTruncated", self.is_truncated, out);
        for u in self.uploads {
            out.extend_from_slice(b"<Upload>");
            text_element("Key", u.key, out);
            text_element("UploadId", u.upload_id, out);
            owner_element("Initiator", &u.initiator, out);
            owner_element("Owner", &u.owner, out);
            text_element("StorageClass", u.storage_class, out);
            time_element("Initiated", u.initiated, out);
            checksum_algorithm_and_type(u.checksum_algorithm, u.checksum_type, out);
            out.extend_from_slice(b"</Upload>");
        }
        for p in self.common_prefixes {
            out.extend_from_slice(b"<CommonPrefixes>");
            text_element("Prefix", p, out);
            out.extend_from_slice(b"</CommonPrefixes>");
        }
        out.extend_from_slice(b"</ListMultipartUploadsResult>");
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    /// A document reduced to its tags (local names, no attributes) and its
    /// non-whitespace text, unescaped: equal for documents that differ only
    /// in indentation, `<a/>` versus `<a></a>`, or escaping.
    pub(crate) fn canonical(doc: &[u8]) -> String {
        let mut r = Reader::from_reader(doc);
        r.config_mut().expand_empty_elements = true;
        let mut s = String::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) => {
                    s.push('<');
                    s.push_str(std::str::from_utf8(e.local_name().as_ref()).unwrap());
                    s.push('>');
                }
                Event::End(e) => {
                    s.push_str("</");
                    s.push_str(std::str::from_utf8(e.local_name().as_ref()).unwrap());
                    s.push('>');
                }
                Event::Text(t) => {
                    let t = t.unescape().unwrap();
                    if !t.trim().is_empty() {
                        s.push_str(&t);
                    }
                }
                Event::Eof => return s,
                _ => {}
            }
        }
    }

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        assert!(out.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<"));
        let ns = format!(" xmlns=\"{S3_XMLNS}\">");
        assert!(String::from_utf8_lossy(&out).contains(&ns));
        out
    }

    fn same_as_aws(out: &[u8], aws: &str) {
        assert_eq!(canonical(out), canonical(aws.as_bytes()), "\nours: {}", String::from_utf8_lossy(out));
    }

    #[test]
    fn initiate_matches_aws_example() {
        let out = written(|o| {
            InitiateMultipartUploadResult {
                bucket: "example-bucket",
                key: "example-object",
                upload_id: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
            }
            .write_xml(o)
        });
        same_as_aws(
            &out,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>"#,
        );
    }

    #[test]
    fn complete_matches_aws_example() {
        let mut r = CompleteMultipartUploadResult {
            location: "http://amzn-s3-demo-bucket.s3.<Region>.amazonaws.com/Example-Object",
            bucket: "amzn-s3-demo-bucket",
            key: "Example-Object",
            etag: "3858f62230ac3c915f300c664312c11f-9",
            checksum: None,
            checksum_type: None,
        };
        let out = written(|o| r.write_xml(o));
        same_as_aws(
            &out,
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
             <Location>http://amzn-s3-demo-bucket.s3.&lt;Region&gt;.amazonaws.com/Example-Object</Location>
             <Bucket>amzn-s3-demo-bucket</Bucket>
             <Key>Example-Object</Key>
             <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
            </CompleteMultipartUploadResult>"#,
        );
        // Checksums follow the ETag, the type comes last (Response Syntax).
        r.checksum = Some((ChecksumAlgorithm::Crc32, "AAAAAA==-9"));
        r.checksum_type = Some(ChecksumType::Composite);
        let out = written(|o| r.write_xml(o));
        assert!(canonical(&out).ends_with(
            "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag><ChecksumCRC32>AAAAAA==-9</ChecksumCRC32>\
             <ChecksumType>COMPOSITE</ChecksumType></CompleteMultipartUploadResult>"
        ));
    }

    #[test]
    fn copy_object_and_copy_part_match_aws_examples() {
        let mut r = CopyObjectResult {
            etag: "9b2cf535f27731c974343645a3985328",
            last_modified: 1_255_369_830,
            checksum: None,
            checksum_type: None,
        };
        let out = written(|o| r.write_xml(o));
        same_as_aws(
            &out,
            r#"<CopyObjectResult>
                  <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                  <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
               </CopyObjectResult>"#,
        );
        r.checksum = Some((ChecksumAlgorithm::Sha256, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
        r.checksum_type = Some(ChecksumType::FullObject);
        let out = written(|o| r.write_xml(o));
        assert!(canonical(&out).ends_with(
            "</ETag><ChecksumType>FULL_OBJECT</ChecksumType>\
             <ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256></CopyObjectResult>"
        ));

        let mut p = CopyPartResult {
            etag: "9b2cf535f27731c974343645a3985328",
            last_modified: 1_302_554_096,
            checksum: None,
        };
        let out = written(|o| p.write_xml(o));
        same_as_aws(
            &out,
            r#"<CopyPartResult>
   <LastModified>2011-04-11T20:34:56.000Z</LastModified>
   <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
</CopyPartResult>"#,
        );
        p.checksum = Some((ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA="));
        let out = written(|o| p.write_xml(o));
        assert!(
            canonical(&out)
                .ends_with("</ETag><ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME></CopyPartResult>")
        );
    }

    #[test]
    fn list_parts_matches_aws_example() {
        let parts = [
            ListedPart {
                number: 2,
                last_modified: 1_289_422_114,
                etag: "7778aef83f66abc1fa1e8477f296d394",
                size: 10_485_760,
                checksum: None,
            },
            ListedPart {
                number: 3,
                last_modified: 1_289_422_113,
                etag: "aaaa18db4cc2f85cedef654fccc4a4x8",
                size: 10_485_760,
                checksum: None,
            },
        ];
        let mut r = ListPartsResult {
            bucket: "example-bucket",
            key: "example-object",
            upload_id: "XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA",
            initiator: Owner {
                id: "arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx",
                display_name: Some("umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx"),
            },
            owner: Owner {
                id: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
                display_name: Some("someName"),
            },
            storage_class: "STANDARD",
            checksum_algorithm: None,
            checksum_type: None,
            part_number_marker: 1,
            next_part_number_marker: 3,
            max_parts: 2,
            is_truncated: true,
            parts: &parts,
        };
        let out = written(|o| r.write_xml(o));
        same_as_aws(
            &out,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
  <Initiator>
      <ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx</ID>
      <DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx</DisplayName>
  </Initiator>
  <Owner>
    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
    <DisplayName>someName</DisplayName>
  </Owner>
  <StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <LastModified>2010-11-10T20:48:33.000Z</LastModified>
    <ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag>
    <Size>10485760</Size>
  </Part>
</ListPartsResult>"#,
        );
        // Checksum algorithm and type follow StorageClass; part checksums follow Size.
        let with_sum = [ListedPart { checksum: Some((ChecksumAlgorithm::Crc32c, "/////w==")), ..parts[0] }];
        r.parts = &with_sum;
        r.checksum_algorithm = Some(ChecksumAlgorithm::Crc32c);
        r.checksum_type = Some(ChecksumType::Composite);
        let c = canonical(&written(|o| r.write_xml(o)));
        assert!(c.contains(
            "<StorageClass>STANDARD</StorageClass><ChecksumAlgorithm>CRC32C</ChecksumAlgorithm>\
             <ChecksumType>COMPOSITE</ChecksumType><PartNumberMarker>"
        ));
        assert!(c.contains("<Size>10485760</Size><ChecksumCRC32C>/////w==</ChecksumCRC32C></Part>"));
    }

    fn upload<'a>(
        key: &'a str,
        id: &'a str,
        initiator: &'a str,
        owner: &'a str,
        at: i64,
    ) -> ListedUpload<'a> {
        ListedUpload {
            key,
            upload_id: id,
            initiator: Owner { id: initiator, display_name: None },
            owner: Owner { id: owner, display_name: None },
            storage_class: "STANDARD",
            initiated: at,
            checksum_algorithm: None,
            checksum_type: None,
        }
    }

    #[test]
    fn list_uploads_matches_aws_examples() {
        let uploads = [
            upload(
                "my-divisor",
                "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw",
                "arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de",
                "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
                1_289_422_113,
            ),
            upload(
                "my-movie.m2ts",
                "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
                "b1d16700c70b0b05597d7acd6a3f92be",
                "b1d16700c70b0b05597d7acd6a3f92be",
                1_289_422_113,
            ),
            upload(
                "my-movie.m2ts",
                "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ",
                "arn:aws:iam::444455556666:user/user1-22222a31-17b5-4fb7-9df5-b222222f13de",
                "b1d16700c70b0b05597d7acd6a3f92be",
                1_289_422_173,
            ),
        ];
        let first = ListMultipartUploadsResult {
            bucket: "bucket",
            key_marker: "",
            upload_id_marker: "",
            next_key_marker: "my-movie.m2ts",
            next_upload_id_marker: "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ",
            delimiter: None,
            prefix: None,
            max_uploads: 3,
            is_truncated: true,
            uploads: &uploads,
            common_prefixes: &[],
        };
        same_as_aws(
            &written(|o| first.write_xml(o)),
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator>
      <ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID>
    </Initiator>
    <Owner>
      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiator>
      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>
    </Initiator>
    <Owner>
      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <Initiator>
      <ID>arn:aws:iam::444455556666:user/user1-22222a31-17b5-4fb7-9df5-b222222f13de</ID>
    </Initiator>
    <Owner>
      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:49:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>"#,
        );

        // Delimiter without prefix: one upload and two common prefixes.
        let id = "Agw4MJT6ZPAVxpY0SAuGN7q4uWJJM22ZYg1N99trdp4tpO88.PT6.MhO0w2E17eutfAvQfQWoajgE_W2gpcxQw--";
        let owner = "314133b66967d86f031c7249d1d9a80249109428335cd0ef1cdc487b4566cb1b";
        let one = [upload("sample.jpg", id, owner, owner, 1_290_799_457)];
        let second = ListMultipartUploadsResult {
            bucket: "example-bucket",
            next_key_marker: "sample.jpg",
            next_upload_id_marker: id,
            delimiter: Some("/"),
            prefix: Some(""),
            max_uploads: 1000,
            is_truncated: false,
            uploads: &one,
            common_prefixes: &["photos/", "videos/"],
            ..first
        };
        same_as_aws(
            &written(|o| second.write_xml(o)),
            r#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <KeyMarker/>
  <UploadIdMarker/>
  <NextKeyMarker>sample.jpg</NextKeyMarker>
  <NextUploadIdMarker>Agw4MJT6ZPAVxpY0SAuGN7q4uWJJM22ZYg1N99trdp4tpO88.PT6.MhO0w2E17eutfAvQfQWoajgE_W2gpcxQw--</NextUploadIdMarker>
  <Delimiter>/</Delimiter>
  <Prefix/>
  <MaxUploads>1000</MaxUploads>
  <IsTruncated>false</IsTruncated>
  <Upload>
    <Key>sample.jpg</Key>
    <UploadId>Agw4MJT6ZPAVxpY0SAuGN7q4uWJJM22ZYg1N99trdp4tpO88.PT6.MhO0w2E17eutfAvQfQWoajgE_W2gpcxQw--</UploadId>
    <Initiator>
      <ID>314133b66967d86f031c7249d1d9a80249109428335cd0ef1cdc487b4566cb1b</ID>
    </Initiator>
    <Owner>
      <ID>314133b66967d86f031c7249d1d9a80249109428335cd0ef1cdc487b4566cb1b</ID>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-26T19:24:17.000Z</Initiated>
  </Upload>
  <CommonPrefixes>
    <Prefix>photos/</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>videos/</Prefix>
  </CommonPrefixes>
  </ListMultipartUploadsResult>"#,
        );

        // Delimiter and prefix, no uploads, three common prefixes.
        let third = ListMultipartUploadsResult {
            next_key_marker: "",
            next_upload_id_marker: "",
            prefix: Some("photos/2006/"),
            uploads: &[],
            common_prefixes: &["photos/2006/February/", "photos/2006/January/", "photos/2006/March/"],
            ..second
        };
        same_as_aws(
            &written(|o| third.write_xml(o)),
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <KeyMarker/>
  <UploadIdMarker/>
  <NextKeyMarker/>
  <NextUploadIdMarker/>
  <Delimiter>/</Delimiter>
  <Prefix>photos/2006/</Prefix>
  <MaxUploads>1000</MaxUploads>
  <IsTruncated>false</IsTruncated>
  <CommonPrefixes>
    <Prefix>photos/2006/February/</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>photos/2006/January/</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>photos/2006/March/</Prefix>
  </CommonPrefixes>
</ListMultipartUploadsResult>"#,
        );
    }

    #[test]
    fn strings_are_escaped_and_round_trip() {
        let nasty = "a<b>&c\"d'e\r\nf\u{e9}\u{1F600}/\t";
        let r = InitiateMultipartUploadResult { bucket: "b", key: nasty, upload_id: "u" };
        let mut out = Vec::new();
        r.write_xml(&mut out);
        let s = String::from_utf8(out.clone()).unwrap();
        assert!(s.contains("<Key>a&lt;b&gt;&amp;c&quot;d&apos;e&#13;\nf\u{e9}\u{1F600}/\t</Key>"), "{s}");
        assert!(!s.contains('\r'));
        assert!(canonical(&out).contains(&format!("<Key>{nasty}</Key>")));
        let mut e = Vec::new();
        escape_text_into("\r\r", &mut e);
        assert_eq!(e, b"&#13;&#13;");
    }
}
