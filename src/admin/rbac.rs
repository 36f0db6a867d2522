//! Role-based access to the admin API, decided from one table.
//!
//! [`ENDPOINTS`] lists every admin endpoint with its method, path pattern and
//! [`Access`] class; [`allowed`] is the only place that decides. The RBAC
//! test generates its matrix from the same table.
//!
//! | access | admin | tenant-admin | viewer |
//! |---|---|---|---|
//! | `Read` | yes | only its own tenant's resources | yes |
//! | `TenantWrite` | yes | only its own tenant's resources | no |
//! | `AdminRead` | yes | no | yes |
//! | `AdminOnly` | yes | no | no |

use crate::http::Method;
use crate::meta::Role;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads of tenant-owned resources.
    Read,
    /// Changes to tenant-owned resources (keys, buckets, API keys).
    TenantWrite,
    /// Reads of infrastructure (backends, replication status, dead letters).
    AdminRead,
    /// Changes to infrastructure and tenants, and admin tokens.
    AdminOnly,
}

/// Every admin endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ListTenants,
    CreateTenant,
    DeleteTenant,
    ListKeys,
    CreateKey,
    EnableKey,
    DisableKey,
    DeleteKey,
    ListBuckets,
    CreateBucket,
    UpdateBucketPolicy,
    ListBackends,
    AddBackend,
    UpdateBackend,
    DrainBackend,
    RemoveBackend,
    ReplicationStatus,
    DeadLetters,
    ExplainPlacement,
    ListTokens,
    CreateToken,
    DeleteToken,
    ListApiKeys,
    CreateApiKey,
    DeleteApiKey,
}

/// One row of the table: endpoint, method, path pattern (`{x}` is one
/// segment), access class.
#[derive(Debug)]
pub struct Row {
    pub endpoint: Endpoint,
    pub method: Method,
    pub pattern: &'static str,
    pub access: Access,
}

const fn row(endpoint: Endpoint, method: Method, pattern: &'static str, access: Access) -> Row {
    Row { endpoint, method, pattern, access }
}

/// The admin API, all of it.
pub static ENDPOINTS: &[Row] = &[
    row(Endpoint::ListTenants, Method::Get, "/admin/v1/tenants", Access::Read),
    row(Endpoint::CreateTenant, Method::Post, "/admin/v1/tenants", Access::AdminOnly),
    row(Endpoint::DeleteTenant, Method::Delete, "/admin/v1/tenants/{tenant}", Access::AdminOnly),
    row(Endpoint::ListKeys, Method::Get, "/admin/v1/tenants/{tenant}/keys", Access::Read),
    row(Endpoint::CreateKey, Method::Post, "/admin/v1/tenants/{tenant}/keys", Access::TenantWrite),
    row(Endpoint::EnableKey, Method::Post, "/admin/v1/keys/{key}/enable", Access::TenantWrite),
    row(Endpoint::DisableKey, Method::Post, "/admin/v1/keys/{key}/disable", Access::TenantWrite),
    row(Endpoint::DeleteKey, Method::Delete, "/admin/v1/keys/{key}", Access::TenantWrite),
    row(Endpoint::ListBuckets, Method::Get, "/admin/v1/buckets", Access::Read),
    row(Endpoint::CreateBucket, Method::Post, "/admin/v1/buckets", Access::TenantWrite),
    row(Endpoint::UpdateBucketPolicy, Method::Put, "/admin/v1/buckets/{bucket}/policy", Access::TenantWrite),
    row(Endpoint::ListBackends, Method::Get, "/admin/v1/backends", Access::AdminRead),
    row(Endpoint::AddBackend, Method::Post, "/admin/v1/backends", Access::AdminOnly),
    row(Endpoint::UpdateBackend, Method::Put, "/admin/v1/backends/{backend}", Access::AdminOnly),
    row(Endpoint::DrainBackend, Method::Post, "/admin/v1/backends/{backend}/drain", Access::AdminOnly),
    row(Endpoint::RemoveBackend, Method::Delete, "/admin/v1/backends/{backend}", Access::AdminOnly),
    row(Endpoint::ReplicationStatus, Method::Get, "/admin/v1/replication", Access::AdminRead),
    row(Endpoint::DeadLetters, Method::Get, "/admin/v1/replication/dead-letters", Access::AdminRead),
    row(Endpoint::ExplainPlacement, Method::Get, "/admin/v1/placement/{bucket}", Access::Read),
    row(Endpoint::ListTokens, Method::Get, "/admin/v1/tokens", Access::AdminOnly),
    row(Endpoint::CreateToken, Method::Post, "/admin/v1/tokens", Access::AdminOnly),
    row(Endpoint::DeleteToken, Method::Delete, "/admin/v1/tokens/{token}", Access::AdminOnly),
    row(Endpoint::ListApiKeys, Method::Get, "/admin/v1/tenants/{tenant}/api-keys", Access::Read),
    row(Endpoint::CreateApiKey, Method::Post, "/admin/v1/tenants/{tenant}/api-keys", Access::TenantWrite),
    row(
        Endpoint::DeleteApiKey,
        Method::Delete,
        "/admin/v1/tenants/{tenant}/api-keys/{id}",
        Access::TenantWrite,
    ),
];

/// Most path segments captured by a pattern.
pub const MAX_PATH_PARAMS: usize = 2;

/// A matched endpoint with its path parameters, in pattern order.
#[derive(Debug)]
pub struct Matched<'a> {
    pub row: &'static Row,
    pub params: [&'a str; MAX_PATH_PARAMS],
}

/// Why a path did not match.
#[derive(Debug, PartialEq, Eq)]
pub enum NoMatch {
    /// No endpoint has this path.
    NotFound,
    /// The path exists, not with this method.
    Method,
}

/// Finds the endpoint of `method` + `path` (no query).
pub fn match_endpoint<'a>(method: Method, path: &'a str) -> Result<Matched<'a>, NoMatch> {
    let mut path_seen = false;
    for row in ENDPOINTS {
        let mut params = [""; MAX_PATH_PARAMS];
        let mut n = 0;
        let mut segs = path.split('/');
        let mut ok = true;
        for pat in row.pattern.split('/') {
            let Some(seg) = segs.next() else {
                ok = false;
                break;
            };
            if pat.starts_with('{') {
                if seg.is_empty() || n == MAX_PATH_PARAMS {
                    ok = false;
                    break;
                }
                params[n] = seg;
                n += 1;
            } else if pat != seg {
                ok = false;
                break;
            }
        }
        if !ok || segs.next().is_some() {
            continue;
        }
        path_seen = true;
        if row.method == method {
            return Ok(Matched { row, params });
        }
    }
    Err(if path_seen { NoMatch::Method } else { NoMatch::NotFound })
}

/// Whether `role` (of `tenant`, for tenant-admins) may call an endpoint of
/// class `access` on a resource owned by `owner` (None: not tenant-owned,
/// or a listing the handler filters to the caller's tenant).
pub fn allowed(role: Role, tenant: Option<&str>, access: Access, owner: Option<&str>) -> bool {
    match (role, access) {
        (Role::Admin, _) => true,
        (Role::Viewer, Access::Read | Access::AdminRead) => true,
        (Role::Viewer, Access::TenantWrite | Access::AdminOnly) => false,
        (Role::TenantAdmin, Access::Read | Access::TenantWrite) => match owner {
            Some(o) => tenant == Some(o),
            None => true,
        },
        (Role::TenantAdmin, Access::AdminRead | Access::AdminOnly) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_params_and_methods() {
        let m = match_endpoint(Method::Post, "/admin/v1/tenants/acme/keys").unwrap();
        assert_eq!(m.row.endpoint, Endpoint::CreateKey);
        assert_eq!(m.params[0], "acme");
        let m = match_endpoint(Method::Delete, "/admin/v1/tenants/acme/api-keys/abc").unwrap();
        assert_eq!((m.row.endpoint, m.params), (Endpoint::DeleteApiKey, ["acme", "abc"]));
        assert_eq!(match_endpoint(Method::Put, "/admin/v1/tenants").unwrap_err(), NoMatch::Method);
        assert_eq!(match_endpoint(Method::Get, "/admin/v1/nope").unwrap_err(), NoMatch::NotFound);
        assert_eq!(match_endpoint(Method::Get, "/admin/v1/tenants/").unwrap_err(), NoMatch::NotFound);
        assert_eq!(match_endpoint(Method::Get, "/admin/v1/tenants/a/keys/x").unwrap_err(), NoMatch::NotFound);
    }

    #[test]
    fn every_endpoint_is_reachable_and_unique() {
        for (i, r) in ENDPOINTS.iter().enumerate() {
            let path = r.pattern.replace("{tenant}", "t").replace("{key}", "k").replace("{bucket}", "b");
            let path = path.replace("{backend}", "x").replace("{token}", "y").replace("{id}", "z");
            let m = match_endpoint(r.method, &path).unwrap();
            assert!(std::ptr::eq(m.row, &ENDPOINTS[i]), "{} is shadowed", r.pattern);
        }
    }

    #[test]
    fn tenant_admins_stay_in_their_tenant() {
        let t = Some("acme");
        assert!(allowed(Role::TenantAdmin, t, Access::TenantWrite, Some("acme")));
        assert!(!allowed(Role::TenantAdmin, t, Access::TenantWrite, Some("umbrella")));
        assert!(!allowed(Role::TenantAdmin, t, Access::Read, Some("umbrella")));
        assert!(!allowed(Role::TenantAdmin, t, Access::AdminRead, None));
        assert!(allowed(Role::Viewer, None, Access::Read, Some("umbrella")));
        assert!(!allowed(Role::Viewer, None, Access::TenantWrite, None));
        assert!(allowed(Role::Admin, None, Access::AdminOnly, None));
    }
}
