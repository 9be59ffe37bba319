//! Prints what the PDF scanner reads from a file: its text rendering,
//! notes and links. `cargo run --example dump_pdf -- FILE.pdf`
fn main() {
    let path = std::env::args().nth(1).expect("usage: dump_pdf FILE.pdf");
    let bytes = std::fs::read(&path).expect("readable file");
    match linkrot::scan::pdf::extract_bytes(&bytes) {
        Ok(rendered) => {
            println!("{}", rendered.text);
            println!("pages start at {:?}", rendered.extraction.page_starts);
            for note in &rendered.extraction.footnotes {
                println!("note {} @{}: {}", note.label, note.start, note.text);
            }
            for link in &rendered.extraction.links {
                println!("link {:?} {:?} {}", link.footnote, link.span, link.raw_url);
            }
        }
        Err(e) => eprintln!("{path}: {e}"),
    }
}
