//! Keeps every header line herald writes within RFC 5322's 998 characters.
//!
//! lettre folds a header only at whitespace, and encodes (and so splits) only words
//! with non-ASCII characters: a long run of ASCII without a blank (a 10 KB event id in
//! the idempotency key, a 100 KB order id in a subject) stays one line, which
//! receiving servers may refuse or cut. Values that come from events are therefore
//! capped before they become headers; every other header herald sets (From, Date,
//! Message-ID, the MIME ones) is short by construction.

use sha2::{Digest, Sha256};

/// The most bytes of a subject kept: with `Subject: ` and `...` a subject that is one
/// unbroken word still fits a line.
pub const MAX_SUBJECT_BYTES: usize = 900;

/// Idempotency keys up to this many bytes go into their header verbatim.
pub const MAX_KEY_BYTES: usize = 256;

/// The most bytes of a display name kept (customer names come from the payment form).
pub const MAX_NAME_BYTES: usize = 256;

/// What is kept of a long key before its hash, for a reader of the header.
const KEY_PREFIX_BYTES: usize = 64;

/// `text` cut to at most `max` bytes at a character boundary, with `...` when cut.
pub fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The `X-Herald-Idempotency-Key` value for `key`: the key itself, or for a key longer
/// than [`MAX_KEY_BYTES`] its first characters, `...sha256:` and the SHA-256 of the
/// whole key in hex. Stable across attempts either way, so receivers can still
/// deduplicate on it.
pub fn idempotency_header_value(key: &str) -> String {
    if key.len() <= MAX_KEY_BYTES {
        return key.to_owned();
    }
    let mut end = KEY_PREFIX_BYTES;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}...sha256:{}",
        &key[..end],
        hex::encode(Sha256::digest(key.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_kept() {
        assert_eq!(cap("Order 42", MAX_SUBJECT_BYTES), "Order 42");
        assert_eq!(
            idempotency_header_value("stripe:evt_1:paid:0"),
            "stripe:evt_1:paid:0"
        );
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let capped = cap(&"é".repeat(1000), MAX_SUBJECT_BYTES);
        assert!(capped.len() <= MAX_SUBJECT_BYTES, "{}", capped.len());
        assert!(capped.ends_with("é..."), "{capped}");
    }

    #[test]
    fn long_keys_become_a_prefix_and_a_hash() {
        let key = format!("stripe:{}:paid:0", "x".repeat(10_000));
        let value = idempotency_header_value(&key);
        assert!(value.starts_with("stripe:xxx"), "{value}");
        assert!(value.contains("...sha256:"), "{value}");
        assert_eq!(value.len(), 64 + 10 + 64);
        assert_eq!(value, idempotency_header_value(&key));
        assert_ne!(value, idempotency_header_value(&format!("{key}1")));
    }
}
