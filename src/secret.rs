//! Secret values (secret access keys, backend credentials) in a newtype that never prints.
//!
//! # Security
//! - `Debug` and `Display` print `***`; there is no `PartialEq`: compare secrets
//!   only through a constant-time path (`subtle`).
//! - The bytes are zeroized when the value is dropped.

use std::fmt;
use zeroize::Zeroizing;

/// A secret string. Read it with [`Secret::expose`] only where the raw value is
/// needed (key derivation, re-signing).
#[derive(Clone, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The raw secret. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("wJalrXUtnFEMI");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "wJalrXUtnFEMI");
    }
}
