//! The normaliser on any bytes: both ways the receiver and the tools use.
//!
//! Beyond "never panics": the fast path (`normalize_fields`, which the receiver
//! uses) and the full parse (`normalize`) must agree on every UTF-8 body, since
//! the event stored comes from one and the rules and templates read the other.
//! (The fast path does not check UTF-8 in skipped strings, by design.)
#![no_main]

use herald::source::stripe::{normalize, normalize_fields, sign, verify};
use herald_plugin_api::Payload;
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"whsec_fuzz";
const NOW: i64 = 1_789_927_243;

fuzz_target!(|body: &[u8]| {
    let header = format!("t={NOW},v1={}", sign(body, SECRET, NOW));
    let Ok(verified) = verify(Some(&header), body, SECRET, 300, NOW) else {
        panic!("a freshly signed body did not verify");
    };
    let full = normalize(verified);
    let fields = normalize_fields(verified);
    if std::str::from_utf8(body).is_err() {
        return;
    }
    match (full, fields) {
        (Ok(mut full), Ok(fields)) => {
            full.raw = Payload::default();
            assert_eq!(full, fields, "normalize and normalize_fields disagree");
        }
        (Err(_), Err(_)) => {}
        (full, fields) => panic!("one path accepted the body: {full:?} / {fields:?}"),
    }
});
