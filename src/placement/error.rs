//! Placement errors: the one way placing an object can fail.
//!
//! Placement is pure arithmetic over the candidates it is given, so the only
//! failure is a policy that cannot be satisfied: more replicas than the
//! bucket's residency allows backends (or zero replicas). The caller knows the
//! bucket and turns [`PlacementError`] into a client-facing error that names it;
//! this module never sees tenant or bucket names.
//!
//! # Invariants
//! - Retrying the same request cannot help: the error depends only on the
//!   policy and the configured backends, never on backend health.

use std::fmt;

/// Why a replica list could not be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlacementError {
    /// The policy asks for `needed` replicas but only `eligible` backends are
    /// allowed by the bucket's residency. `needed == 0` (a policy with no
    /// replica at all) is reported here too: no backend could hold the object.
    NotEnoughBackends {
        /// Replicas the bucket's policy asks for.
        needed: usize,
        /// Backends the bucket's residency allows.
        eligible: usize,
    },
}

impl fmt::Display for PlacementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PlacementError::NotEnoughBackends { needed: 0, .. } => {
                f.write_str("placement needs at least one replica, the policy asks for 0")
            }
            PlacementError::NotEnoughBackends { needed, eligible } => write!(
                f,
                "placement needs {needed} distinct backends but the residency allows only {eligible}"
            ),
        }
    }
}

impl std::error::Error for PlacementError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_both_numbers() {
        let e = PlacementError::NotEnoughBackends { needed: 3, eligible: 2 };
        assert_eq!(e.to_string(), "placement needs 3 distinct backends but the residency allows only 2");
        let zero = PlacementError::NotEnoughBackends { needed: 0, eligible: 5 };
        assert!(zero.to_string().contains("at least one replica"));
    }
}
