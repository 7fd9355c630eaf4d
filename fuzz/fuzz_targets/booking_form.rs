#![no_main]
//! A booking form body must never crash its parser and validator.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    practice_site::fuzzing::booking_form(data);
});
