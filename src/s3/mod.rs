//! The S3 API: routing requests to operations and serving them.
//!
//! - [`route`]: method + host + path + query -> bucket, key, [`Operation`].
//! - [`service`]: the per-core request handler (auth, dispatch, errors, metrics).
//! - [`bucket_ops`], [`object_ops`], [`list_ops`], [`copy_ops`], [`delete_ops`],
//!   [`multipart_ops`]: the operations.
//! - [`listing`]: ListObjects V1/V2 merged over backends.
//! - [`multipart`]: multipart XML documents and upload ids.
//! - [`client_body`], [`integrity`]: request bodies verified as they stream.
//! - [`read_resume`]: a GetObject body continued from another copy mid-stream.
//! - [`conditional`]: If-Match and friends; [`names`]: naming rules;
//!   [`respond`], [`xml`]: writing responses.

pub mod bucket_ops;
pub mod client_body;
pub mod conditional;
pub mod copy_ops;
pub mod delete_ops;
pub mod integrity;
pub mod list_ops;
pub mod listing;
pub mod multipart;
pub mod multipart_ops;
pub mod names;
pub mod object_ops;
pub mod read_resume;
pub mod replicate;
pub mod respond;
pub mod route;
pub mod service;
pub mod xml;

pub use route::{Operation, Route, route};
