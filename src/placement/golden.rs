//! Golden test: the exact placements and physical bucket names, pinned.
//!
//! DO NOT CHANGE THESE LITERALS. Each one says where real objects are stored.
//! A change to the object hash, the mixer, the score arithmetic, the
//! tie-break, a backend's seed or the physical name encoding moves customer
//! data (or orphans it under an old bucket name). If this test fails, the code
//! is wrong, not the literals: a deliberate change of scheme needs a new
//! version, a migration plan and the lead's sign-off, never a silent edit here.
//!
//! # Invariants
//! - The inputs below (bucket id, backend ids, weights, keys) are fixed forever too.
//! - Key lengths cover every xxh3 code path: 0, 1-3, 4-8, 9-16, 17-128,
//!   129-240 and over 240 bytes (several 1 KiB blocks).

use super::score::{neg_ln, unit, weighted_score};
use super::{Candidate, physical_bucket_name, place, placement_order};

const BUCKET_ID: u128 = 0x5151_1ce0_0000_0000_0000_0000_0000_0001;

/// Backend ids and mixed weights of the pinned deployment.
const BACKENDS: [(&str, f64); 6] = [
    ("eu-west-1/minio-a", 1.0),
    ("eu-west-1/minio-b", 1.0),
    ("eu-central-1/ceph", 2.0),
    ("us-east-1/aws", 0.5),
    ("us-east-1/wasabi", 1.5),
    ("ap-south-1/r2", 3.0),
];

const LITERAL_KEYS: [&[u8]; 19] = [
    b"",
    b"a",
    b"b",
    b"0",
    b"index.html",
    b"photos/2024/07/IMG_0042.jpg",
    b"photos/2024/07/IMG_0043.jpg",
    b"logs/2025-01-01T00:00:00Z.log.gz",
    b"backups/db/2025-03-14/full.tar.zst",
    b"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p",
    b"key with spaces and ?query=&chars#",
    "unicode/ßüñ/日本語/файл.txt".as_bytes(),
    "emoji/😀🚀.png".as_bytes(),
    b"\x00\x01\x02binary\xff",
    b"trailing/slash/",
    b"UPPER/lower/MiXeD",
    b"multipart/upload/part-00001",
    b"multipart/upload/part-00002",
    b"very/long/prefix/that/goes/on/and/on/and/on/until/it/is/longer/than/one/xxh3/block/of/input/bytes.bin",
];

/// Lengths of generated keys `"abc...zabc..."`, after the literal keys.
const GENERATED_KEY_LENS: [usize; 3] = [200, 1024, 4099];

/// `place(.., 3)` with the mixed weights of [`BACKENDS`], key by key.
const MIXED_WEIGHTS_REPLICAS: [[u16; 3]; 22] = [
    [4, 5, 2],
    [0, 5, 2],
    [5, 2, 4],
    [0, 5, 1],
    [2, 3, 4],
    [2, 0, 4],
    [3, 2, 1],
    [5, 2, 4],
    [5, 3, 1],
    [1, 4, 2],
    [4, 5, 2],
    [1, 4, 2],
    [2, 5, 0],
    [5, 2, 4],
    [2, 0, 1],
    [0, 4, 1],
    [1, 0, 4],
    [2, 3, 5],
    [5, 3, 2],
    [3, 4, 2],
    [5, 2, 3],
    [2, 5, 0],
];

/// `place(.., 3)` with the same backend ids, all weights 1.0 (the integer path).
const EQUAL_WEIGHTS_REPLICAS: [[u16; 3]; 22] = [
    [4, 5, 2],
    [0, 3, 1],
    [5, 2, 4],
    [0, 1, 5],
    [3, 2, 4],
    [2, 0, 3],
    [3, 1, 2],
    [5, 4, 2],
    [3, 1, 5],
    [1, 4, 2],
    [4, 2, 3],
    [1, 4, 2],
    [2, 0, 5],
    [3, 2, 5],
    [0, 2, 1],
    [0, 4, 1],
    [1, 0, 4],
    [2, 3, 1],
    [5, 3, 0],
    [3, 4, 2],
    [3, 5, 2],
    [0, 2, 5],
];

/// `physical_bucket_name(tenant, bucket)`.
const PHYSICAL_NAMES: [(&str, &str, &str); 5] = [
    ("tenant-1", "photos", "sl-80067fe9b6de23b3e91c84dc7daeedcb"),
    ("tenant-2", "photos", "sl-3cecd7b0a902a4934020817d3c9049cd"),
    ("a", "bc", "sl-3d1c8910995600f40d6006b404880e4a"),
    ("ab", "c", "sl-9c29018b82f3e162ec06e9c6751e31ce"),
    ("ünïcode-tenant", "bucket.with.dots", "sl-b4d4490048c44dc55caa6bbf4979a8aa"),
];

/// Grid cell `q` -> bits of `-ln(u)` and of the score at weight 2.5: pins the
/// float arithmetic to the last bit, below what replica lists would notice.
const SCORE_BITS: [(u64, u64, u64); 7] = [
    (0, 0x4040_fb6b_4b37_945b, 0x3fb2_d7e6_b0a0_e852),
    (1, 0x4040_6ecb_f762_2c43, 0x3fb3_7926_d6c8_d2c3),
    (12_345, 0x4037_d99a_c3a0_120a, 0x3fba_d598_b832_416a),
    (1 << 40, 0x4016_2e42_fefa_37ef, 0x3fdc_da99_3e76_6658),
    (99_999_999_999_999, 0x3ff0_8ed7_5fa0_2029, 0x4003_5377_19e8_a66b),
    ((1 << 47) + 3, 0x3fe6_2e42_fefa_390f, 0x400c_da99_3e76_64e1),
    ((1 << 48) - 1, 0x3ce0_0000_0000_0004, 0x4313_ffff_ffff_fffb),
];

fn keys() -> Vec<Vec<u8>> {
    let generated = GENERATED_KEY_LENS.iter().map(|&n| (0..n).map(|i| b'a' + (i % 26) as u8).collect());
    LITERAL_KEYS.iter().map(|k| k.to_vec()).chain(generated).collect()
}

fn candidates(equal: bool) -> Vec<Candidate> {
    BACKENDS
        .iter()
        .enumerate()
        .map(|(i, &(id, weight))| Candidate::new(i as u16, id, if equal { 1.0 } else { weight }))
        .collect()
}

#[test]
fn replica_lists_are_pinned() {
    let keys = keys();
    assert_eq!(keys.len(), MIXED_WEIGHTS_REPLICAS.len());
    for (equal, table) in [(false, &MIXED_WEIGHTS_REPLICAS), (true, &EQUAL_WEIGHTS_REPLICAS)] {
        let candidates = candidates(equal);
        for (key, expected) in keys.iter().zip(table) {
            let got = place(BUCKET_ID, key, &candidates, 3).unwrap();
            assert_eq!(&got[..], expected, "equal weights: {equal}, key {:?}", String::from_utf8_lossy(key));
            assert_eq!(&placement_order(BUCKET_ID, key, &candidates)[..3], expected);
        }
    }
}

#[test]
fn physical_names_are_pinned() {
    for (tenant, bucket, expected) in PHYSICAL_NAMES {
        assert_eq!(physical_bucket_name(tenant, bucket), expected, "({tenant:?}, {bucket:?})");
    }
}

#[test]
fn score_arithmetic_is_pinned() {
    for (q, neg_ln_bits, score_bits) in SCORE_BITS {
        assert_eq!(neg_ln(unit(q)).to_bits(), neg_ln_bits, "-ln(u) at q = {q}");
        assert_eq!(weighted_score(2.5, q).to_bits(), score_bits, "score at q = {q}");
    }
}
