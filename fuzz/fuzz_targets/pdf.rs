//! PDF files: the isolated parser must turn any bytes into a result or an
//! error (a panic inside pdf-extract is caught and reported, not a crash).
#![no_main]
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = linkrot::scan::pdf::extract_bytes_with_limit(data, Duration::from_secs(5));
});
