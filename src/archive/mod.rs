//! Stage 3: snapshots of what was cited (WARC) and the Internet Archive's
//! copies of what is gone.
