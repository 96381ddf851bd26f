//! `Stripe-Signature` parsing and checking on any header and body.
//!
//! Input: the header, a newline, then the body. Beyond "never panics": a header
//! that verifies must stop verifying once the body changes, and the header Stripe
//! would send for this body always verifies.
#![no_main]

use herald::source::stripe::{sign, verify};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"whsec_fuzz";
/// The clock the checks run at; seeds sign with it so the fuzzer starts inside tolerance.
const NOW: i64 = 1_789_927_243;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    if verify(Some(&header), body, SECRET, 300, NOW).is_ok() {
        let mut changed = body.to_vec();
        changed.push(b' ');
        assert!(
            verify(Some(&header), &changed, SECRET, 300, NOW).is_err(),
            "a signature verified two different bodies"
        );
    }
    let good = format!("t={NOW},v1={}", sign(body, SECRET, NOW));
    assert!(verify(Some(&good), body, SECRET, 300, NOW).is_ok());
});
