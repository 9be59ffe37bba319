//! DOCX packages: any bytes must give a result or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rendered) = linkrot::scan::docx::extract_bytes(data) {
        for link in &rendered.extraction.links {
            assert!(link.span.end <= rendered.text.len());
        }
    }
});
