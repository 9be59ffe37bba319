//! LaTeX sources: any text scans without panicking, spans inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let extraction = linkrot::scan::latex::extract(source);
        for link in &extraction.links {
            assert!(link.span.end <= source.len());
        }
    }
});
