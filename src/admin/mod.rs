//! Administration and the non-S3 routes:
//! - [`api`]: the admin REST API under `/admin/v1` (dispatch, authorization,
//!   snapshot swaps); [`bodies`] its request bodies, [`backends`] backend
//!   records and preparation, [`placement`] rebalancing and "explain";
//! - [`rbac`]: the endpoint table and role checks; [`error`]: JSON errors;
//!   [`audit`]: the audit log; [`client`]: what `sluice admin ...` uses;
//! - [`proxy`] and [`jwt`]: `/proxy/{bucket}/{key}` with API keys, JWTs or
//!   client certificates.

pub mod api;
pub mod audit;
pub mod backends;
pub mod bodies;
pub mod client;
pub mod error;
pub mod jwt;
pub mod placement;
pub mod proxy;
pub mod rbac;
