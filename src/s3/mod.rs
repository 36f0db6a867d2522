//! The S3 API: routing requests to operations and serving them.
//!
//! - [`route`]: method + host + path + query -> bucket, key, [`Operation`].
//! - [`service`]: the per-core request handler (auth, dispatch, errors, metrics).
//! - [`bucket_ops`], [`object_ops`]: the operations.
//! - [`client_body`], [`integrity`]: request bodies verified as they stream.
//! - [`conditional`]: If-Match and friends; [`names`]: naming rules;
//!   [`respond`], [`xml`]: writing responses.

pub mod bucket_ops;
pub mod client_body;
pub mod conditional;
pub mod integrity;
pub mod multipart;
pub mod names;
pub mod object_ops;
pub mod respond;
pub mod route;
pub mod service;
pub mod xml;

pub use route::{Operation, Route, route};
