//! placeholder: replaced by the real criterion bench
fn main() {}
