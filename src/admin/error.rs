//! Errors of the admin API and of `/proxy`: one enum, its HTTP status and
//! JSON code decided here.
//!
//! The body is `{"error": {"code": "...", "message": "..."}}`. Messages name
//! the problem; they never carry a secret, a token or a backend address.

use crate::meta::MetaError;

/// An admin or `/proxy` request that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// No credentials, or credentials that are not valid (401).
    Unauthorized(&'static str),
    /// Valid credentials that may not do this (403).
    Forbidden,
    /// No such endpoint or resource (404).
    NotFound(String),
    /// The path exists, not with this method (405).
    MethodNotAllowed,
    /// A malformed or invalid request (400).
    BadRequest(String),
    /// The change conflicts with what exists (409).
    Conflict(String),
    /// The request body is larger than allowed (413).
    TooLarge,
    /// A backend could not be reached (503).
    Unavailable(String),
    /// Something failed on the server's side (500; details only in the log).
    Internal,
}

impl AdminError {
    pub fn status(&self) -> u16 {
        match self {
            AdminError::Unauthorized(_) => 401,
            AdminError::Forbidden => 403,
            AdminError::NotFound(_) => 404,
            AdminError::MethodNotAllowed => 405,
            AdminError::BadRequest(_) => 400,
            AdminError::Conflict(_) => 409,
            AdminError::TooLarge => 413,
            AdminError::Unavailable(_) => 503,
            AdminError::Internal => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Unauthorized(_) => "Unauthorized",
            AdminError::Forbidden => "Forbidden",
            AdminError::NotFound(_) => "NotFound",
            AdminError::MethodNotAllowed => "MethodNotAllowed",
            AdminError::BadRequest(_) => "BadRequest",
            AdminError::Conflict(_) => "Conflict",
            AdminError::TooLarge => "TooLarge",
            AdminError::Unavailable(_) => "Unavailable",
            AdminError::Internal => "InternalError",
        }
    }

    pub fn message(&self) -> String {
        match self {
            AdminError::Unauthorized(m) => (*m).to_string(),
            AdminError::Forbidden => "this token may not do that".into(),
            AdminError::NotFound(m)
            | AdminError::BadRequest(m)
            | AdminError::Conflict(m)
            | AdminError::Unavailable(m) => m.clone(),
            AdminError::MethodNotAllowed => "method not allowed on this path".into(),
            AdminError::TooLarge => "the request body is too large".into(),
            AdminError::Internal => "internal error (see the server log)".into(),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"error": {"code": self.code(), "message": self.message()}}))
            .unwrap_or_default()
    }
}

impl From<MetaError> for AdminError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::Invalid(m) => AdminError::BadRequest(m),
            MetaError::Conflict(m) => AdminError::Conflict(m),
            other => {
                tracing::error!(error = %other, "metadata store operation failed");
                AdminError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_code_and_status() {
        let e = AdminError::Conflict("tenant \"acme\" already exists".into());
        assert_eq!(e.status(), 409);
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "Conflict");
        assert_eq!(AdminError::from(MetaError::Invalid("x".into())).status(), 400);
        assert_eq!(AdminError::from(MetaError::WrongMasterKey).status(), 500);
    }
}
