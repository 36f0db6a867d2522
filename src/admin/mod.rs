//! Administration: the admin REST API under `/admin/v1` ([`api`]), its
//! role-based access table ([`rbac`]), errors ([`error`]) and audit log
//! ([`audit`]), and the client `sluice admin ...` uses ([`client`]).

pub mod api;
pub mod audit;
pub mod client;
pub mod error;
pub mod rbac;
