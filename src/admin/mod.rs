//! Administration: the admin REST API under `/admin/v1` ([`api`]), its
//! role-based access table ([`rbac`]), errors ([`error`]) and audit log
//! ([`audit`]).

pub mod api;
pub mod audit;
pub mod error;
pub mod rbac;
