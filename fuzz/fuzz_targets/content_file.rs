#![no_main]
//! A content file (front matter, Markdown, links) must never crash the engine.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _problems = practice_site::fuzzing::content_file(data);
});
