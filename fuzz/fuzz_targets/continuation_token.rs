//! Fuzz target: continuation tokens (`sluice::s3::listing::token`) and the
//! parser of backend listing pages.
//!
//! - arbitrary text decoded as a token: no panic; InvalidArgument on failure;
//!   a token that verifies names an entry that re-encodes to the same entry;
//! - arbitrary bytes as a key encoded into a token: it decodes back to the same
//!   entry, and is refused for another bucket or with a changed character;
//! - arbitrary bytes as a backend ListObjectsV2 answer: no panic.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run continuation_token -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::error::S3ErrorCode;
use sluice::s3::listing::page::{EntryKind, KeyEncoding, parse_page};
use sluice::s3::listing::token;

const KEY: [u8; 32] = [0x3c; 32];
const BUCKET: u128 = 0x1234_5678_9abc_def0_0fed_cba9_8765_4321;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match token::decode(&KEY, BUCKET, &text) {
        Ok(last) => {
            // Whatever verifies names an entry sluice could have issued.
            let again = token::encode_last(&KEY, BUCKET, last.kind, &last.name);
            let back = token::decode(&KEY, BUCKET, &again).expect("re-issued token decodes");
            assert_eq!((back.kind, back.name), (last.kind, last.name));
        }
        Err(e) => assert_eq!(e.code, S3ErrorCode::InvalidArgument),
    }

    if let Ok(name) = std::str::from_utf8(data)
        && !name.is_empty()
        && name.len() <= 1024
    {
        let kind = if data[0] & 1 == 0 { EntryKind::Key } else { EntryKind::Prefix };
        let t = token::encode_last(&KEY, BUCKET, kind, name);
        let back = token::decode(&KEY, BUCKET, &t).expect("issued token decodes");
        assert_eq!((back.kind, back.name.as_str()), (kind, name));
        assert!(token::decode(&KEY, BUCKET ^ 1, &t).is_err(), "other bucket");
        let mut changed = t.clone().into_bytes();
        let i = usize::from(data[0]) % changed.len();
        changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
        if let Ok(changed) = String::from_utf8(changed)
            && changed != t
        {
            assert!(token::decode(&KEY, BUCKET, &changed).is_err(), "altered token");
        }
    }

    let _ = parse_page(data, KeyEncoding::AsDeclared);
    let _ = parse_page(data, KeyEncoding::Raw);
});
