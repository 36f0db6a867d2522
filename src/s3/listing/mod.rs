//! ListObjects (V1) and ListObjectsV2 over a bucket whose objects are spread
//! over several backends.
//!
//! Each backend holds some of the bucket's keys in its physical bucket, and a
//! replicated key is on several backends. A listing merges the listings of
//! every eligible backend (a k-way merge that drops replica duplicates) so
//! that the client sees exactly what one backend holding every object would
//! answer, for every combination of prefix, delimiter, max-keys, start-after,
//! continuation-token, marker, fetch-owner and encoding-type.
//!
//! - [`request`]: the client's query string -> [`ListRequest`].
//! - [`token`]: opaque, MAC-protected continuation tokens.
//! - [`page`]: the entry types and the parser of a backend's answer.
//! - [`merge`]: the [`ListSource`] plug point (one per backend) and
//!   [`merge_page`], the merge itself.
//! - [`mod@render`]: the `ListBucketResult` XML, V1 and V2.
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>.
//!
//! # Listing semantics (the reference every backend and the merge follow)
//!
//! With prefix `P`, delimiter `D` and resume point `S` (start-after, marker,
//! or the entry a continuation token names):
//! - only keys starting with `P` and greater than `S` (bytewise) take part;
//! - a key whose remainder after `P` contains `D` rolls up into the common
//!   prefix `P + remainder up to and including the first D`, listed once;
//! - a common prefix is listed when it is greater than `S` itself, so
//!   resuming after the prefix `a/` returns neither `a/` nor any key under
//!   it, and a resume point inside a common prefix (`S = a/m` in `a/`) skips
//!   the rest of that prefix. This is what s3s-fs does and what Ceph RGW does
//!   ("fast forward" a marker inside a common prefix past it); it makes
//!   `NextMarker` (a common prefix) a correct V1 marker. Some servers list a
//!   common prefix again when resumed at or inside it; the merge drops it;
//! - keys and common prefixes are interleaved in byte order and both count
//!   toward max-keys; max-keys = 0 is an empty, untruncated page.
//!
//! A V2 request that carries both a continuation token and start-after
//! resumes from the token ([`ListRequest::resume_point`]).
//!
//! # Flow of one request (wired by the S3 service)
//! ```text
//! ListRequest::parse(query)
//!   -> token::decode(key, bucket id, continuation-token)        (V2, if sent)
//!   -> merge_page(sources, &req, req.resume_point(token), req.max_keys, placement rank)
//!   -> token::encode(key, bucket id, page.last)                  (V2, if truncated)
//!   -> render::render(bucket, &req, &page, next token, owner, &mut body)
//! ```

pub mod merge;
pub mod page;
pub mod reference;
pub mod render;
pub mod request;
pub mod token;

#[cfg(test)]
mod model_tests;

pub use merge::{BACKEND_MAX_KEYS, ListSource, MergeError, MergedPage, merge_page};
pub use page::{
    BackendPage, Entry, EntryKind, KeyEncoding, MAX_PAGE_ENTRIES, ObjectEntry, PageError, parse_page,
};
pub use render::{Owner, render, render_v1, render_v2};
pub use request::{ListRequest, ListVersion, MAX_KEYS_LIMIT};
pub use token::LastEntry;
