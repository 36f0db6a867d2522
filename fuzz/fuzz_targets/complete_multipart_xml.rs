//! Fuzz target: arbitrary bytes as a CompleteMultipartUpload request body,
//! through `sluice::s3::multipart::parse_complete_multipart_upload`.
//!
//! Every input must give a part list or a `CompleteXmlError` that maps to an
//! S3 error, never a panic. A parsed list must hold the documented
//! invariants (1..=10000 parts, numbers strictly ascending in 1..=10000,
//! non-empty unquoted ETags) and, written by
//! `write_complete_multipart_upload` and parsed again, give the same list.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run complete_multipart_xml -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::error::S3Error;
use sluice::s3::multipart::{
    CompletedPart, MAX_PART_NUMBER, MAX_PARTS, parse_complete_multipart_upload,
    write_complete_multipart_upload,
};

fuzz_target!(|data: &[u8]| {
    match parse_complete_multipart_upload(data) {
        Ok(parts) => {
            assert!(!parts.is_empty() && parts.len() <= MAX_PARTS);
            let mut previous = 0;
            for p in &parts {
                assert!(p.number > previous && p.number <= MAX_PART_NUMBER, "{}", p.number);
                previous = p.number;
                assert!(!p.etag.is_empty() && !p.etag.contains('"'), "{:?}", p.etag);
            }
            let mut out = Vec::new();
            write_complete_multipart_upload(parts.iter().map(CompletedPart::part_ref), &mut out);
            let again = parse_complete_multipart_upload(&out).expect("a written document parses");
            assert_eq!(again, parts);
        }
        Err(e) => {
            let _ = S3Error::from(e);
        }
    }
});
