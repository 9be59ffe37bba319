//! Identifier recognition: any note text, no panic, spans on char boundaries.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for id in linkrot::scan::identifiers::find(text) {
            assert!(text.get(id.span.clone()).is_some());
        }
    }
});
