//! Storage backends: the [`Backend`] trait and its two kinds.
//!
//! - [`s3::S3Backend`]: an S3-compatible server over pooled keep-alive
//!   connections, requests re-signed with the backend's credentials.
//! - [`file::FileBackend`]: a local directory (the embedded default).
//!
//! Both pass the same test suite (`tests/backend_suite.rs`). A core holds its
//! backends in a [`BackendSet`] indexed like the snapshot's backend list.

pub mod body;
pub mod error;
pub mod file;
pub mod file_multipart;
pub mod health;
pub mod object;
pub mod pool;
pub mod s3;
pub mod set;
pub mod wire;
pub mod xml_read;

pub use body::{BodySource, ObjectBody, SliceSource};
pub use error::BackendError;
pub use object::{
    ByteRange, CopyOutcome, CopyRequest, GetRequest, ObjectHead, ObjectResponse, PartTarget, PutOutcome,
    PutRequest,
};
pub use set::{AnyBackend, BackendSet};

/// What sluice needs from a place that stores objects. Buckets here are
/// physical bucket names. monoio futures are not `Send`; neither are these.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// An active health check.
    async fn probe(&self) -> Result<(), BackendError>;
    /// Creates the bucket; succeeds if it already exists.
    async fn create_bucket(&self, bucket: &str) -> Result<(), BackendError>;
    /// Deletes the (empty) bucket; succeeds if it does not exist.
    async fn delete_bucket(&self, bucket: &str) -> Result<(), BackendError>;
    /// Whether the bucket holds no object.
    async fn bucket_is_empty(&self, bucket: &str) -> Result<bool, BackendError>;
    /// Stores an object from a verified body.
    async fn put_object<B: BodySource>(
        &self,
        req: &PutRequest<'_>,
        body: &mut B,
    ) -> Result<PutOutcome, BackendError>;
    /// Reads an object (or its head).
    async fn get_object(&self, req: &GetRequest<'_>) -> Result<ObjectResponse, BackendError>;
    /// Deletes an object; succeeds if it does not exist.
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackendError>;
    /// Starts a multipart upload; returns the backend's upload id. Parts are
    /// sent with [`Backend::put_object`] and a [`PartTarget`].
    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        headers: &[(&str, &[u8])],
    ) -> Result<String, BackendError>;
    /// Completes an upload from (part number, quoted ETag); returns the ETag.
    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u16, String)],
    ) -> Result<String, BackendError>;
    /// Aborts an upload; succeeds if it is already gone.
    async fn abort_multipart(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), BackendError>;
    /// CopyObject or UploadPartCopy with source and destination on this backend.
    async fn copy_object(&self, copy: &CopyRequest<'_>) -> Result<CopyOutcome, BackendError>;
    /// One ListObjectsV2-style call with the reference semantics of
    /// `s3::listing::reference`.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<crate::s3::listing::page::BackendPage, BackendError>;
}
