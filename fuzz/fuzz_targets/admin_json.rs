//! Fuzz target: arbitrary bytes as the JSON body of every admin endpoint,
//! through `sluice::admin::api::check_body` (the parsing and checks each
//! endpoint runs before it touches the store).
//!
//! Byte 0 picks the endpoint from `rbac::ENDPOINTS`; the rest is the body.
//! Every input must be accepted or refused with a 4xx JSON error, never a
//! panic; the error's JSON must parse and carry its code.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run admin_json -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::admin::api::check_body;
use sluice::admin::rbac::ENDPOINTS;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let row = &ENDPOINTS[usize::from(pick) % ENDPOINTS.len()];
    if let Err(e) = check_body(row.endpoint, body) {
        assert!((400..500).contains(&e.status()), "{:?} -> {}", row.endpoint, e.status());
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).expect("JSON error body");
        assert_eq!(v["error"]["code"], e.code());
    }
});
