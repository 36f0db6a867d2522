//! Fuzz target: arbitrary bytes as a DeleteObjects request body, through
//! `sluice::s3::multipart::parse_delete_objects`.
//!
//! Every input must give a request or a `DeleteXmlError` that maps to an S3
//! error, never a panic. A parsed request must hold the documented invariants
//! (1..=1000 objects, keys of 1..=1024 bytes) and, written by
//! `write_delete_request` and parsed again, give the same request. The
//! `DeleteResult` writer is run on it too (it must not panic).
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run delete_objects_xml -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::error::{S3Error, S3ErrorCode};
use sluice::http::limits::MAX_KEY_BYTES;
use sluice::s3::multipart::{
    DeleteOutcome, MAX_DELETE_OBJECTS, parse_delete_objects, write_delete_request, write_delete_result,
};

fuzz_target!(|data: &[u8]| {
    match parse_delete_objects(data) {
        Ok(req) => {
            assert!(!req.objects.is_empty() && req.objects.len() <= MAX_DELETE_OBJECTS);
            for o in &req.objects {
                assert!(!o.key.is_empty() && o.key.len() <= MAX_KEY_BYTES);
            }
            let mut out = Vec::new();
            write_delete_request(&req, &mut out);
            let again = parse_delete_objects(&out).expect("a written document parses");
            assert_eq!(again, req);

            let err = S3Error::new(S3ErrorCode::AccessDenied);
            let outcomes = req.objects.iter().enumerate().map(|(i, o)| {
                let version_id = o.version_id.as_deref();
                if i % 2 == 0 {
                    DeleteOutcome::Deleted { key: &o.key, version_id }
                } else {
                    DeleteOutcome::Failed { key: &o.key, version_id, error: &err }
                }
            });
            let mut result = Vec::new();
            write_delete_result(outcomes, req.quiet, &mut result);
        }
        Err(e) => {
            let _ = S3Error::from(e);
        }
    }
});
