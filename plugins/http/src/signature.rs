//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), symmetric scheme.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the MAC is
//! HMAC-SHA256 with the decoded secret, and the header value is `v1,<base64 MAC>`; a
//! header may hold several space-separated signatures (secret rotation). The deliver
//! stage uses [`sign`]; [`verify`] is here for herald's tests and for receivers written
//! in Rust.

use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the message id (the job's idempotency key).
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// The header carrying the attempt's time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying the signature(s).
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The version prefix of a symmetric (HMAC-SHA256) signature.
const VERSION: &str = "v1";

/// Why [`verify`] refused a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header holds no `v1,<base64>` entry.
    #[error("no v1 signature in the header")]
    NoSignature,
    /// No `v1` entry matches the content.
    #[error("no signature matches")]
    Mismatch,
}

/// The keyed MAC over `{id}.{timestamp}.{body}`.
fn mac(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value for one message: `v1,<base64(HMAC-SHA256)>`.
///
/// `secret` is the decoded key (see [`decode_secret`]), `id` the `webhook-id`,
/// `timestamp` the `webhook-timestamp` and `body` the exact bytes sent.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, id, timestamp, body).finalize().into_bytes();
    format!("{VERSION},{}", STANDARD.encode(tag))
}

/// Checks a `webhook-signature` header value against the message: passes when any of its
/// space-separated `v1,<base64>` entries matches. The comparison is constant-time.
///
/// It does not judge the timestamp's age; a receiver should also refuse timestamps far
/// from its clock (the spec suggests 5 minutes) to stop replays.
///
/// # Errors
/// [`VerifyError::NoSignature`] when the header has no `v1` entry,
/// [`VerifyError::Mismatch`] when none matches.
pub fn verify(
    secret: &[u8],
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> Result<(), VerifyError> {
    let mut any = false;
    for entry in header.split(' ') {
        let Some((VERSION, encoded)) = entry.split_once(',') else {
            continue;
        };
        any = true;
        let Ok(tag) = STANDARD.decode(encoded) else {
            continue;
        };
        if mac(secret, id, timestamp, body).verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(if any {
        VerifyError::Mismatch
    } else {
        VerifyError::NoSignature
    })
}

/// The prefix of a Standard Webhooks secret; the rest is base64.
const SECRET_PREFIX: &str = "whsec_";

/// Why a secret could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing to sign with.
    #[error("is empty")]
    Empty,
    /// `whsec_` followed by something that is not base64.
    #[error("starts with `whsec_` but the rest is not valid base64")]
    NotBase64,
}

/// The HMAC key of a secret: the base64 after `whsec_` decoded, or any other text as its bytes.
///
/// # Errors
/// An empty secret, or `whsec_` followed by something other than base64.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, SecretError> {
    // Padding is optional: some providers print secrets without it.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let key = match secret.strip_prefix(SECRET_PREFIX) {
        Some(encoded) => LENIENT
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?,
        None => secret.as_bytes().to_vec(),
    };
    if key.is_empty() {
        return Err(SecretError::Empty);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::decode_secret;
    use super::*;

    // The test vector of the Standard Webhooks reference libraries.
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TIMESTAMP: i64 = 1_649_367_553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const EXPECTED: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn key() -> Vec<u8> {
        decode_secret(SECRET).expect("valid secret")
    }

    #[test]
    fn matches_the_reference_test_vector() {
        assert_eq!(sign(&key(), ID, TIMESTAMP, BODY), EXPECTED);
    }

    #[test]
    fn verifies_its_own_and_the_reference_signature() {
        assert_eq!(verify(&key(), ID, TIMESTAMP, BODY, EXPECTED), Ok(()));
        let fresh = sign(&key(), ID, 1_700_000_000, BODY);
        assert_eq!(verify(&key(), ID, 1_700_000_000, BODY, &fresh), Ok(()));
    }

    #[test]
    fn accepts_any_matching_entry_of_a_list() {
        let header = format!("v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1a,xyz {EXPECTED}");
        assert_eq!(verify(&key(), ID, TIMESTAMP, BODY, &header), Ok(()));
    }

    #[test]
    fn refuses_a_changed_message_or_key() {
        let tampered = br#"{"email":"evil@example.com","username":"test_user"}"#;
        assert_eq!(
            verify(&key(), ID, TIMESTAMP, tampered, EXPECTED),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&key(), ID, TIMESTAMP + 1, BODY, EXPECTED),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"another key", ID, TIMESTAMP, BODY, EXPECTED),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&key(), ID, TIMESTAMP, BODY, "v1,not base64!"),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn refuses_a_header_without_v1_entries() {
        for header in ["", "v2,abc", "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="] {
            assert_eq!(
                verify(&key(), ID, TIMESTAMP, BODY, header),
                Err(VerifyError::NoSignature),
                "{header}"
            );
        }
    }
}
