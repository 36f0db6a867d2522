//! Administration and the non-S3 routes: `/proxy/{bucket}/{key}` with API
//! keys and JWTs ([`proxy`], [`jwt`]); the admin REST API under `/admin/v1` ([`api`]), its
//! role-based access table ([`rbac`]), errors ([`error`]) and audit log
//! ([`audit`]), and the client `sluice admin ...` uses ([`client`]).

pub mod api;
pub mod audit;
pub mod client;
pub mod error;
pub mod jwt;
pub mod proxy;
pub mod rbac;
