//! Routing: method + host + path + query -> bucket, key and [`Operation`].
//!
//! Path-style (`/bucket/key`) and virtual-hosted-style (`Host: bucket.<domain>`,
//! when `server.domain` is set) addressing are both understood. A query
//! parameter naming an S3 subresource that sluice does not implement routes
//! to [`Operation::Unsupported`], answered NotImplemented, never to a wrong
//! success. Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>.

use std::borrow::Cow;

use crate::error::{S3Error, S3ErrorCode};
use crate::http::Method;

/// Every operation sluice tells apart (also the `op` label of metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    PutObject,
    GetObject,
    HeadObject,
    DeleteObject,
    DeleteObjects,
    CopyObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    /// A real S3 operation sluice does not implement (its name).
    Unsupported(&'static str),
    /// A method that no S3 operation uses on this resource.
    MethodNotAllowed,
    /// Requests refused before routing (malformed heads, auth failures).
    Rejected,
    Health,
    Metrics,
    /// The admin API (`/admin/v1/...`).
    Admin,
    /// The `/proxy/{bucket}/{key}` routes.
    Proxy,
}

impl Operation {
    /// Metric label values, in [`Operation::index`] order.
    pub const NAMES: [&'static str; 27] = [
        "ListBuckets",
        "CreateBucket",
        "HeadBucket",
        "DeleteBucket",
        "GetBucketLocation",
        "ListObjects",
        "ListObjectsV2",
        "PutObject",
        "GetObject",
        "HeadObject",
        "DeleteObject",
        "DeleteObjects",
        "CopyObject",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
        "ListMultipartUploads",
        "Unsupported",
        "MethodNotAllowed",
        "Rejected",
        "Health",
        "Metrics",
        "Admin",
        "Proxy",
    ];

    /// Position in [`Operation::NAMES`].
    pub const fn index(self) -> usize {
        match self {
            Operation::ListBuckets => 0,
            Operation::CreateBucket => 1,
            Operation::HeadBucket => 2,
            Operation::DeleteBucket => 3,
            Operation::GetBucketLocation => 4,
            Operation::ListObjects => 5,
            Operation::ListObjectsV2 => 6,
            Operation::PutObject => 7,
            Operation::GetObject => 8,
            Operation::HeadObject => 9,
            Operation::DeleteObject => 10,
            Operation::DeleteObjects => 11,
            Operation::CopyObject => 12,
            Operation::CreateMultipartUpload => 13,
            Operation::UploadPart => 14,
            Operation::UploadPartCopy => 15,
            Operation::CompleteMultipartUpload => 16,
            Operation::AbortMultipartUpload => 17,
            Operation::ListParts => 18,
            Operation::ListMultipartUploads => 19,
            Operation::Unsupported(_) => 20,
            Operation::MethodNotAllowed => 21,
            Operation::Rejected => 22,
            Operation::Health => 23,
            Operation::Metrics => 24,
            Operation::Admin => 25,
            Operation::Proxy => 26,
        }
    }

    pub const fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// Whether the operation writes (and so counts as an in-flight write).
    pub const fn is_write(self) -> bool {
        matches!(
            self,
            Operation::PutObject
                | Operation::DeleteObject
                | Operation::DeleteObjects
                | Operation::CopyObject
                | Operation::UploadPart
                | Operation::UploadPartCopy
                | Operation::CompleteMultipartUpload
        )
    }
}

/// A routed S3 request.
#[derive(Debug)]
pub struct Route<'a> {
    pub bucket: Option<Cow<'a, str>>,
    pub key: Option<Cow<'a, str>>,
    pub op: Operation,
}

/// Subresources on a bucket that sluice does not implement, with the operation
/// a client means by them.
const BUCKET_SUBRESOURCES: &[(&str, &str)] = &[
    ("accelerate", "BucketAccelerateConfiguration"),
    ("acl", "BucketAcl"),
    ("analytics", "BucketAnalyticsConfiguration"),
    ("cors", "BucketCors"),
    ("encryption", "BucketEncryption"),
    ("intelligent-tiering", "BucketIntelligentTieringConfiguration"),
    ("inventory", "BucketInventoryConfiguration"),
    ("lifecycle", "BucketLifecycleConfiguration"),
    ("logging", "BucketLogging"),
    ("metadataConfiguration", "BucketMetadataConfiguration"),
    ("metrics", "BucketMetricsConfiguration"),
    ("notification", "BucketNotificationConfiguration"),
    ("object-lock", "ObjectLockConfiguration"),
    ("ownershipControls", "BucketOwnershipControls"),
    ("policy", "BucketPolicy"),
    ("policyStatus", "BucketPolicyStatus"),
    ("publicAccessBlock", "PublicAccessBlock"),
    ("replication", "BucketReplication"),
    ("requestPayment", "BucketRequestPayment"),
    ("session", "CreateSession"),
    ("tagging", "BucketTagging"),
    ("versioning", "BucketVersioning"),
    ("versions", "ListObjectVersions"),
    ("website", "BucketWebsite"),
];

/// Subresources on an object that sluice does not implement.
const OBJECT_SUBRESOURCES: &[(&str, &str)] = &[
    ("acl", "ObjectAcl"),
    ("attributes", "GetObjectAttributes"),
    ("legal-hold", "ObjectLegalHold"),
    ("partNumber", "GetObject with partNumber"),
    ("restore", "RestoreObject"),
    ("retention", "ObjectRetention"),
    ("select", "SelectObjectContent"),
    ("tagging", "ObjectTagging"),
    ("torrent", "GetObjectTorrent"),
    ("versionId", "object versions"),
    ("renameObject", "RenameObject"),
];

/// Iterates the (raw) names of the query parameters.
fn query_names(query: &str) -> impl Iterator<Item = &str> {
    query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').map_or(p, |(n, _)| n))
}

/// The raw value of query parameter `name`.
pub fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|p| match p.split_once('=') {
        Some((n, v)) if n == name => Some(v),
        None if p == name => Some(""),
        _ => None,
    })
}

fn unsupported(query: &str, table: &[(&str, &'static str)]) -> Option<&'static str> {
    query_names(query).find_map(|n| table.iter().find(|(sub, _)| *sub == n).map(|(_, op)| *op))
}

/// Percent-decodes a path segment; `None` when the result is not UTF-8.
pub fn decode(raw: &str) -> Option<Cow<'_, str>> {
    percent_encoding::percent_decode_str(raw).decode_utf8().ok()
}

/// Routes a request. `host` is the Host header; `domain` enables
/// virtual-hosted-style addressing.
pub fn route<'a>(
    method: Method,
    path: &'a str,
    query: &'a str,
    host: Option<&'a str>,
    domain: Option<&str>,
) -> Result<Route<'a>, S3Error> {
    let bad_uri = || S3Error::new(S3ErrorCode::InvalidURI);
    let vhost_bucket = domain.and_then(|d| virtual_host_bucket(host?, d));
    let (bucket, key_raw) = match vhost_bucket {
        Some(b) => (Some(Cow::Owned(b)), path.strip_prefix('/').unwrap_or(path)),
        None => {
            let rest = path.strip_prefix('/').unwrap_or(path);
            match rest.split_once('/') {
                Some((b, k)) => (Some(decode(b).ok_or_else(bad_uri)?), k),
                None if rest.is_empty() => (None, ""),
                None => (Some(decode(rest).ok_or_else(bad_uri)?), ""),
            }
        }
    };
    let key = if key_raw.is_empty() { None } else { Some(decode(key_raw).ok_or_else(bad_uri)?) };

    let op = match (&bucket, &key) {
        (None, _) => match method {
            Method::Get => Operation::ListBuckets,
            _ => Operation::MethodNotAllowed,
        },
        (Some(_), None) => match unsupported(query, BUCKET_SUBRESOURCES) {
            Some(name) => Operation::Unsupported(name),
            None if query_names(query).any(|n| n == "location") => match method {
                Method::Get => Operation::GetBucketLocation,
                _ => Operation::MethodNotAllowed,
            },
            None if query_names(query).any(|n| n == "uploads") => match method {
                Method::Get => Operation::ListMultipartUploads,
                _ => Operation::MethodNotAllowed,
            },
            None if query_names(query).any(|n| n == "delete") => match method {
                Method::Post => Operation::DeleteObjects,
                _ => Operation::MethodNotAllowed,
            },
            None => match method {
                Method::Get if query_value(query, "list-type") == Some("2") => Operation::ListObjectsV2,
                Method::Get => Operation::ListObjects,
                Method::Head => Operation::HeadBucket,
                Method::Put => Operation::CreateBucket,
                Method::Delete => Operation::DeleteBucket,
                Method::Post => Operation::Unsupported("PostObject"),
                Method::Options => Operation::Unsupported("CORS preflight"),
                Method::Other => Operation::MethodNotAllowed,
            },
        },
        (Some(_), Some(_)) if query_names(query).any(|n| n == "uploads") => match method {
            Method::Post => Operation::CreateMultipartUpload,
            _ => Operation::MethodNotAllowed,
        },
        (Some(_), Some(_)) if query_names(query).any(|n| n == "uploadId") => match method {
            Method::Put if query_names(query).any(|n| n == "partNumber") => Operation::UploadPart,
            Method::Post => Operation::CompleteMultipartUpload,
            Method::Delete => Operation::AbortMultipartUpload,
            Method::Get => Operation::ListParts,
            _ => Operation::MethodNotAllowed,
        },
        (Some(_), Some(_)) => match unsupported(query, OBJECT_SUBRESOURCES) {
            Some(name) => Operation::Unsupported(name),
            None => match method {
                Method::Get => Operation::GetObject,
                Method::Head => Operation::HeadObject,
                Method::Put => Operation::PutObject,
                Method::Delete => Operation::DeleteObject,
                Method::Options => Operation::Unsupported("CORS preflight"),
                Method::Post | Method::Other => Operation::MethodNotAllowed,
            },
        },
    };
    Ok(Route { bucket, key, op })
}

/// The bucket named by a virtual-hosted-style Host header, if it is one.
fn virtual_host_bucket(host: &str, domain: &str) -> Option<String> {
    let host =
        host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let host = host.to_ascii_lowercase();
    let bucket = host.strip_suffix(domain)?.strip_suffix('.')?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str, query: &str) -> (Option<String>, Option<String>, Operation) {
        let route = route(method, path, query, Some("127.0.0.1:9000"), Some("s3.local")).unwrap();
        (route.bucket.map(Cow::into_owned), route.key.map(Cow::into_owned), route.op)
    }

    #[test]
    fn path_style() {
        assert_eq!(r(Method::Get, "/", ""), (None, None, Operation::ListBuckets));
        assert_eq!(r(Method::Put, "/b", ""), (Some("b".into()), None, Operation::CreateBucket));
        assert_eq!(r(Method::Head, "/b/", ""), (Some("b".into()), None, Operation::HeadBucket));
        assert_eq!(
            r(Method::Get, "/b", "list-type=2&prefix=a"),
            (Some("b".into()), None, Operation::ListObjectsV2)
        );
        assert_eq!(r(Method::Get, "/b", "location"), (Some("b".into()), None, Operation::GetBucketLocation));
        let (b, k, op) = r(Method::Put, "/b/dir/a%20b%2Bc.txt", "x-id=PutObject");
        assert_eq!((b.unwrap(), k.unwrap(), op), ("b".into(), "dir/a b+c.txt".into(), Operation::PutObject));
        assert_eq!(r(Method::Get, "/b/k", "response-content-type=x").2, Operation::GetObject);
    }

    #[test]
    fn unsupported_subresources_are_not_implemented() {
        assert_eq!(r(Method::Get, "/b", "versioning").2, Operation::Unsupported("BucketVersioning"));
        assert_eq!(r(Method::Put, "/b/k", "tagging").2, Operation::Unsupported("ObjectTagging"));
        assert_eq!(r(Method::Post, "/b/k", "uploads").2, Operation::CreateMultipartUpload);
        assert_eq!(r(Method::Put, "/b/k", "partNumber=2&uploadId=x").2, Operation::UploadPart);
        assert_eq!(r(Method::Post, "/b/k", "uploadId=x").2, Operation::CompleteMultipartUpload);
        assert_eq!(r(Method::Delete, "/b/k", "uploadId=x").2, Operation::AbortMultipartUpload);
        assert_eq!(r(Method::Get, "/b/k", "uploadId=x&max-parts=3").2, Operation::ListParts);
        assert_eq!(r(Method::Get, "/b", "uploads&prefix=a").2, Operation::ListMultipartUploads);
        assert_eq!(
            r(Method::Get, "/b/k", "partNumber=1").2,
            Operation::Unsupported("GetObject with partNumber")
        );
        assert_eq!(r(Method::Get, "/b/k", "versionId=3").2, Operation::Unsupported("object versions"));
        assert_eq!(r(Method::Post, "/b", "delete").2, Operation::DeleteObjects);
        assert_eq!(r(Method::Post, "/b/k", "").2, Operation::MethodNotAllowed);
        assert_eq!(r(Method::Other, "/b/k", "").2, Operation::MethodNotAllowed);
        assert_eq!(r(Method::Delete, "/", "").2, Operation::MethodNotAllowed);
    }

    #[test]
    fn virtual_hosted_style() {
        let route =
            route(Method::Get, "/a/b.txt", "", Some("My-Bucket.s3.local:9000"), Some("s3.local")).unwrap();
        assert_eq!(route.bucket.as_deref(), Some("my-bucket"));
        assert_eq!(route.key.as_deref(), Some("a/b.txt"));
        let route = route_plain("/bkt/k", Some("s3.local"));
        assert_eq!(route.bucket.as_deref(), Some("bkt"), "the bare domain is path-style");
        let route = route_plain("/bkt/k", None);
        assert_eq!(route.bucket.as_deref(), Some("bkt"));
    }

    fn route_plain<'a>(path: &'a str, domain: Option<&str>) -> Route<'a> {
        route(Method::Get, path, "", Some("s3.local"), domain).unwrap()
    }

    #[test]
    fn bad_encoding_is_invalid_uri() {
        let e = route(Method::Get, "/b/%ff%fe", "", None, None).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::InvalidURI);
    }

    #[test]
    fn names_match_indices() {
        for (i, name) in Operation::NAMES.iter().enumerate() {
            assert!(!name.is_empty(), "{i}");
        }
        assert_eq!(Operation::PutObject.name(), "PutObject");
        assert_eq!(Operation::Unsupported("x").name(), "Unsupported");
    }
}
