//! Residency: which backends a bucket's objects may live on.
//!
//! A bucket's policy may list regions (data residency: "this bucket's data
//! stays in eu-west-1 and eu-central-1"). Only backends in those regions are
//! placement candidates; an empty list allows every backend. Filtering happens
//! before hashing, so residency never changes how the allowed backends share
//! the objects among themselves.
//!
//! Regions compare as exact strings (S3 region names are lowercase ASCII;
//! configuration validation should normalize and reject unknown regions).
//!
//! # Invariants
//! - A backend outside the residency is never a candidate, so it can never
//!   hold a replica (a bucket whose residency matches too few backends fails
//!   placement with `NotEnoughBackends` instead of spilling over).
//! - The output keeps the input order and contains each input index once per
//!   occurrence: filtering only, no reordering, no lookup tables.

use smallvec::SmallVec;

use super::rendezvous::MAX_INLINE_BACKENDS;

/// Indices of the backends a bucket may use, in the caller's order.
pub type Eligible = SmallVec<[u16; MAX_INLINE_BACKENDS]>;

/// Whether a backend in `region` may hold data of a bucket whose residency is
/// `residency` (an empty residency allows every region).
pub fn is_allowed<R: AsRef<str>>(region: &str, residency: &[R]) -> bool {
    residency.is_empty() || residency.iter().any(|r| r.as_ref() == region)
}

/// The indices of `backends` (pairs of the caller's backend index and its
/// region) allowed by `residency`: all of them when `residency` is empty,
/// otherwise those whose region is listed.
pub fn eligible<'a, I, R>(backends: I, residency: &[R]) -> Eligible
where
    I: IntoIterator<Item = (u16, &'a str)>,
    R: AsRef<str>,
{
    backends.into_iter().filter(|(_, region)| is_allowed(region, residency)).map(|(index, _)| index).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::{Candidate, PlacementError, place};

    const BACKENDS: [(u16, &str); 5] =
        [(0, "eu-west-1"), (1, "us-east-1"), (2, "eu-central-1"), (3, "eu-west-1"), (4, "ap-south-1")];

    #[test]
    fn empty_residency_allows_all() {
        let none: [&str; 0] = [];
        assert_eq!(&eligible(BACKENDS, &none)[..], &[0, 1, 2, 3, 4]);
        assert!(is_allowed("anywhere", &none));
    }

    #[test]
    fn residency_filters_by_region() {
        assert_eq!(&eligible(BACKENDS, &["eu-west-1"])[..], &[0, 3]);
        let eu = vec!["eu-central-1".to_string(), "eu-west-1".to_string()];
        assert_eq!(&eligible(BACKENDS, &eu)[..], &[0, 2, 3]);
        assert_eq!(&eligible(BACKENDS.iter().copied().rev(), &eu)[..], &[3, 2, 0]);
        assert!(eligible(BACKENDS, &["sa-east-1"]).is_empty());
        assert!(eligible(BACKENDS, &["EU-WEST-1"]).is_empty(), "regions compare exactly");
    }

    #[test]
    fn placement_stays_inside_the_residency() {
        let ids = ["eu-a", "us-a", "eu-b", "eu-c", "ap-a"];
        let all: Vec<Candidate> =
            BACKENDS.iter().map(|&(i, _)| Candidate::new(i, ids[i as usize], 1.0)).collect();
        let allowed = eligible(BACKENDS, &["eu-west-1", "eu-central-1"]);
        let cands: Vec<Candidate> = all.iter().copied().filter(|c| allowed.contains(&c.index)).collect();
        for i in 0..1_000 {
            let key = format!("k{i}");
            for b in place(7, key.as_bytes(), &cands, 3).unwrap() {
                assert!([0, 2, 3].contains(&b));
            }
        }
        let only_west = eligible(BACKENDS, &["eu-west-1"]);
        let west: Vec<Candidate> = all.iter().copied().filter(|c| only_west.contains(&c.index)).collect();
        assert_eq!(
            place(7, b"k", &west, 3),
            Err(PlacementError::NotEnoughBackends { needed: 3, eligible: 2 })
        );
    }
}
