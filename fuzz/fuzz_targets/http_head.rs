//! Fuzz target: arbitrary bytes as an HTTP/1.1 request head.
//!
//! `sluice::http::parse_head` must answer every input with `Complete`,
//! `Partial` or an error, never a panic; a complete head is then fed to SigV4
//! detection, which must not panic either.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run http_head -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::http::{HeadStatus, header_storage, parse_head};
use sluice::sigv4::{AuthInput, detect};

fuzz_target!(|data: &[u8]| {
    // The storage of the connection loop: MAX_HEADERS uninitialised slots.
    let mut storage = header_storage();
    if let Ok(HeadStatus::Complete { head, head_len }) = parse_head(data, &mut storage) {
        assert!(head_len <= data.len());
        assert!(head.path.starts_with('/'), "path {:?}", head.path);
        let _ = head.content_length();
        let _ = head.header_str("host");
        if let Err(e) = detect(&AuthInput::from_head(&head)) {
            let _ = sluice::error::S3Error::from(e);
        }
    }
});
