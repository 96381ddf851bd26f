//! `Stripe-Signature` verification, done as Stripe's own libraries do it.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`. Each `v1` is an
//! HMAC-SHA256 over `"{t}.{raw body}"` keyed with the whole endpoint secret. During
//! a secret rotation Stripe sends one `v1` per active secret, so any match is
//! enough. Other schemes (`v0`) are ignored: they are not signatures we can check.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header Stripe signs with.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// A body whose signature checked out: the only input [`normalize`] accepts.
///
/// [`normalize`]: super::normalize
#[derive(Debug, Clone, Copy)]
pub struct Verified<'a> {
    body: &'a [u8],
}

impl<'a> Verified<'a> {
    /// A body the operator hands herald directly (an event file given to `herald render`
    /// or `herald check --samples`): it comes from no network, so no signature guards it.
    pub fn local(body: &'a [u8]) -> Self {
        Self { body }
    }

    /// The verified bytes.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// Why a request was refused before its body was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    MissingHeader,
    /// The header has no usable `t=`.
    #[error("Stripe-Signature header has no timestamp (t=)")]
    MissingTimestamp,
    /// `t=` is not a Unix time, or appears twice.
    #[error("Stripe-Signature header has a malformed timestamp")]
    BadTimestamp,
    /// The header has no `v1=` signature.
    #[error("Stripe-Signature header has no v1 signature")]
    NoSignatures,
    /// The signature is too old or too far in the future: a replay, or a bad clock.
    #[error("timestamp outside tolerance ({skew_secs} s from now, {tolerance_secs} s allowed)")]
    OutsideTolerance { skew_secs: i64, tolerance_secs: u64 },
    /// No `v1` signature matches the body with our secret.
    #[error("no signature matches the payload")]
    NoMatchingSignature,
}

impl VerifyError {
    /// A short, stable label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::MissingTimestamp => "missing_timestamp",
            Self::BadTimestamp => "bad_timestamp",
            Self::NoSignatures => "no_signatures",
            Self::OutsideTolerance { .. } => "outside_tolerance",
            Self::NoMatchingSignature => "bad_signature",
        }
    }

    /// Whether the request was well-formed but not authentic (401 rather than 400).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            Self::OutsideTolerance { .. } | Self::NoMatchingSignature
        )
    }
}

/// Checks `header` against `body`, with `now` in Unix seconds.
///
/// # Errors
/// What is wrong with the header, or that no signature matches.
pub fn verify<'a>(
    header: Option<&str>,
    body: &'a [u8],
    secret: &[u8],
    tolerance_secs: u64,
    now: i64,
) -> Result<Verified<'a>, VerifyError> {
    check_header(header, tolerance_secs, now)?.verify(body, secret)
}

/// A `Stripe-Signature` header that passed every check that needs no body: present,
/// well formed, with a `v1` signature and a timestamp within the tolerance.
#[derive(Debug)]
pub struct SignatureHeader<'h> {
    timestamp: &'h str,
    signatures: Vec<Vec<u8>>,
}

/// Checks what the header alone can tell, with `now` in Unix seconds, so a request
/// it condemns is refused before its body is read.
///
/// # Errors
/// What is wrong with the header.
pub fn check_header(
    header: Option<&str>,
    tolerance_secs: u64,
    now: i64,
) -> Result<SignatureHeader<'_>, VerifyError> {
    let header = header.ok_or(VerifyError::MissingHeader)?;
    let mut timestamp: Option<&str> = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" if timestamp.is_some() => return Err(VerifyError::BadTimestamp),
            "t" => timestamp = Some(value.trim()),
            // A value that is not hex cannot match; treat it as absent rather than
            // refusing a header whose other signature may be good.
            "v1" => signatures.extend(decode_signature(value.trim())),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::MissingTimestamp)?;
    let t: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    if signatures.is_empty() {
        return Err(VerifyError::NoSignatures);
    }
    let skew = now.saturating_sub(t);
    if skew.unsigned_abs() > tolerance_secs {
        return Err(VerifyError::OutsideTolerance {
            skew_secs: skew,
            tolerance_secs,
        });
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

impl SignatureHeader<'_> {
    /// Checks the signatures against `body` with `secret`.
    ///
    /// # Errors
    /// [`VerifyError::NoMatchingSignature`] when none matches.
    pub fn verify<'a>(&self, body: &'a [u8], secret: &[u8]) -> Result<Verified<'a>, VerifyError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| VerifyError::NoMatchingSignature)?;
        mac.update(self.timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time; every candidate is checked so the
        // time taken does not depend on which one matched.
        let mut matched = false;
        for signature in &self.signatures {
            matched |= mac.clone().verify_slice(signature).is_ok();
        }
        if matched {
            Ok(Verified { body })
        } else {
            Err(VerifyError::NoMatchingSignature)
        }
    }
}

/// A `v1` value's bytes. Lower-case hex only: Stripe sends it so and its libraries
/// compare the text, so a signature with one letter's case changed is another
/// signature, as any other one-byte change makes it.
fn decode_signature(value: &str) -> Option<Vec<u8>> {
    value
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .then(|| hex::decode(value).ok())
        .flatten()
}

/// Signs `body` as Stripe does: for tests, benchmarks and the README's walkthrough.
pub fn sign(body: &[u8], secret: &[u8], timestamp: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC takes a key of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_789_927_243;

    fn header(sigs: &[&str]) -> String {
        let mut h = format!("t={NOW}");
        for sig in sigs {
            h.push_str(",v1=");
            h.push_str(sig);
        }
        h
    }

    #[test]
    fn accepts_one_matching_v1() {
        let sig = sign(BODY, SECRET, NOW);
        assert!(verify(Some(&header(&[&sig])), BODY, SECRET, 300, NOW).is_ok());
    }

    #[test]
    fn accepts_when_only_the_second_v1_matches() {
        let good = sign(BODY, SECRET, NOW);
        let other = sign(BODY, b"whsec_old", NOW);
        let h = header(&[&other, &good]);
        assert!(verify(Some(&h), BODY, SECRET, 300, NOW).is_ok());
    }

    #[test]
    fn refuses_a_body_with_one_byte_changed() {
        let sig = sign(BODY, SECRET, NOW);
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        let err = verify(Some(&header(&[&sig])), &body, SECRET, 300, NOW).unwrap_err();
        assert_eq!(err, VerifyError::NoMatchingSignature);
    }

    #[test]
    fn refuses_timestamps_outside_tolerance_both_ways() {
        for t in [NOW - 301, NOW + 301] {
            let sig = sign(BODY, SECRET, t);
            let h = format!("t={t},v1={sig}");
            let err = verify(Some(&h), BODY, SECRET, 300, NOW).unwrap_err();
            assert!(matches!(err, VerifyError::OutsideTolerance { .. }), "{err}");
            assert!(err.to_string().contains("timestamp outside tolerance"));
        }
        let sig = sign(BODY, SECRET, NOW - 300);
        let h = format!("t={},v1={sig}", NOW - 300);
        assert!(verify(Some(&h), BODY, SECRET, 300, NOW).is_ok());
    }

    #[test]
    fn refuses_headers_without_t_or_v1() {
        let sig = sign(BODY, SECRET, NOW);
        let no_t = format!("v1={sig}");
        assert_eq!(
            verify(Some(&no_t), BODY, SECRET, 300, NOW).unwrap_err(),
            VerifyError::MissingTimestamp
        );
        let no_v1 = format!("t={NOW}");
        assert_eq!(
            verify(Some(&no_v1), BODY, SECRET, 300, NOW).unwrap_err(),
            VerifyError::NoSignatures
        );
        assert_eq!(
            verify(None, BODY, SECRET, 300, NOW).unwrap_err(),
            VerifyError::MissingHeader
        );
    }

    #[test]
    fn ignores_v0_signatures() {
        let sig = sign(BODY, SECRET, NOW);
        let only_v0 = format!("t={NOW},v0={sig}");
        assert_eq!(
            verify(Some(&only_v0), BODY, SECRET, 300, NOW).unwrap_err(),
            VerifyError::NoSignatures
        );
        let both = format!("t={NOW},v0=deadbeef,v1={sig}");
        assert!(verify(Some(&both), BODY, SECRET, 300, NOW).is_ok());
    }

    #[test]
    fn refuses_garbled_headers_without_panicking() {
        for h in [
            "",
            "garbage",
            "t=,v1=",
            "t=abc,v1=00",
            "t=1,t=2,v1=00",
            "t=99999999999999999999999,v1=00",
            "=,=,=",
            "t=1789927243,v1=zz",
            "t=\u{1F600},v1=\u{1F600}",
        ] {
            let result = verify(Some(h), BODY, SECRET, 300, NOW);
            assert!(result.is_err(), "{h:?} was accepted");
        }
    }

    #[test]
    fn refuses_an_upper_case_signature() {
        // Stripe sends lower-case hex and its libraries compare the text, so `A` for
        // `a` is not that signature here either (seen while writing the one-byte
        // property below: the changed header still verified). Like any value that
        // is not lower-case hex, it counts as absent.
        let sig = sign(BODY, SECRET, NOW).to_ascii_uppercase();
        assert_eq!(
            verify(Some(&header(&[&sig])), BODY, SECRET, 300, NOW).unwrap_err(),
            VerifyError::NoSignatures
        );
        let good = sign(BODY, SECRET, NOW);
        assert!(verify(Some(&header(&[&sig, &good])), BODY, SECRET, 300, NOW).is_ok());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        const TOLERANCE: u64 = 300;

        fn case() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, i64, i64)> {
            (
                proptest::collection::vec(any::<u8>(), 0..256),
                proptest::collection::vec(any::<u8>(), 1..48),
                0..4_000_000_000_i64,
                -300..=300_i64,
            )
        }

        proptest! {
            #[test]
            fn a_signed_body_verifies((body, secret, t, skew) in case()) {
                let header = format!("t={t},v1={}", sign(&body, &secret, t));
                prop_assert!(verify(Some(&header), &body, &secret, TOLERANCE, t + skew).is_ok());
            }

            #[test]
            fn a_body_with_one_byte_changed_never_verifies(
                (body, secret, t, _) in case(),
                index in any::<prop::sample::Index>(),
                byte in any::<u8>(),
            ) {
                prop_assume!(!body.is_empty());
                let header = format!("t={t},v1={}", sign(&body, &secret, t));
                let mut changed = body.clone();
                let i = index.index(body.len());
                prop_assume!(changed[i] != byte);
                changed[i] = byte;
                prop_assert_eq!(
                    verify(Some(&header), &changed, &secret, TOLERANCE, t).unwrap_err(),
                    VerifyError::NoMatchingSignature
                );
            }

            #[test]
            fn a_signature_with_one_byte_changed_never_verifies(
                (body, secret, t, _) in case(),
                index in 0..64_usize,
                // Any ASCII byte, or (None) the same letter in upper case.
                byte in prop_oneof![(0..128_u8).prop_map(Some), Just(None)],
            ) {
                let mut signature = sign(&body, &secret, t).into_bytes();
                let byte = byte.unwrap_or(signature[index].to_ascii_uppercase());
                prop_assume!(signature[index] != byte);
                signature[index] = byte;
                let signature = String::from_utf8(signature).unwrap();
                let header = format!("t={t},v1={signature}");
                prop_assert!(verify(Some(&header), &body, &secret, TOLERANCE, t).is_err());
            }
        }
    }
}
