//! Every size limit of the HTTP layer, in one place, with the reason for its value.
//!
//! Memory per connection is bounded by these constants whatever the object size:
//! one head buffer of [`MAX_HEAD_BYTES`] plus at most two body buffers of
//! [`BODY_CHUNK`] while a body streams.

/// Largest request head (request line + headers) accepted. AWS documents an 8 KiB
/// header limit; a presigned URL with a 1024-byte fully escaped key adds ~4 KiB more.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Most headers in one request or backend response. S3 requests rarely carry more
/// than 30; user metadata is capped at 2 KiB in total anyway.
pub const MAX_HEADERS: usize = 100;

/// Size of one body buffer. Two of these are in flight per streaming transfer
/// (one being read, one being written), so 128 KiB keeps 10k concurrent uploads
/// under 3 GiB while still amortising syscalls on large objects.
pub const BODY_CHUNK: usize = 128 * 1024;

/// Largest body sluice buffers whole (XML documents such as CreateBucketConfiguration).
/// Object bodies are never buffered whole: they stream.
pub const MAX_SMALL_BODY: usize = 2 * 1024 * 1024;

/// Longest `chunk-size [; extensions] CRLF` line of a chunked body. Enough for an
/// aws-chunked `;chunk-signature=<64 hex>` extension with room to spare.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;

/// Longest trailer section of a chunked body.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// When an error is answered before the request body was read, up to this many
/// body bytes are read and discarded so the connection can be kept alive; a larger
/// remainder closes the connection instead.
pub const MAX_DRAIN_BYTES: u64 = 1024 * 1024;

/// Largest object a single PUT may carry, as in AWS (5 GiB).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Longest object key in bytes, as in AWS.
pub const MAX_KEY_BYTES: usize = 1024;

/// Largest total size of `x-amz-meta-*` names and values, as in AWS.
pub const MAX_USER_METADATA_BYTES: usize = 2 * 1024;
