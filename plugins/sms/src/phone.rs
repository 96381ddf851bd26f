//! E.164 phone numbers: checked for the configured sender at start-up and for every
//! rendered recipient in the deliver stage.
//!
//! E.164 is `+`, a country code whose first digit is not 0, and at most 15 digits in all.
//! People write numbers with spaces, dashes and parentheses (`+1 (415) 555-0100`), so
//! those are stripped first; anything else (letters, a missing `+`) is refused rather
//! than guessed at, because a guessed number texts a stranger.

/// Why a text is not an E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an E.164 phone number: `{value}` ({why}); write e.g. \"+14155550100\"")]
pub struct PhoneError {
    /// The text as given (it is a phone number or a typo, never a secret).
    pub value: String,
    /// What exactly is wrong.
    pub why: &'static str,
}

/// The shortest number accepted, in digits; real numbers are not shorter.
const MIN_DIGITS: usize = 8;
/// The longest number E.164 allows, in digits.
const MAX_DIGITS: usize = 15;

/// `raw` as an E.164 number (`+` and digits only), after stripping spaces, dashes
/// and parentheses.
///
/// # Errors
/// When what is left is not `+` followed by 8–15 digits, the first not 0.
pub fn normalize_e164(raw: &str) -> Result<String, PhoneError> {
    let fail = |why| PhoneError {
        value: raw.to_owned(),
        why,
    };
    let compact: String = raw
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '(' | ')')))
        .collect();
    let Some(digits) = compact.strip_prefix('+') else {
        return Err(fail("it must start with `+` and the country code"));
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(fail("only digits may follow the `+`"));
    }
    if digits.starts_with('0') {
        return Err(fail("a country code never starts with 0"));
    }
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
        return Err(fail("it must have 8 to 15 digits"));
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_formatted_numbers() {
        assert_eq!(normalize_e164("+14155550100").unwrap(), "+14155550100");
        assert_eq!(
            normalize_e164(" +1 (415) 555-0100 ").unwrap(),
            "+14155550100"
        );
        assert_eq!(normalize_e164("+44 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(normalize_e164("+12345678").unwrap(), "+12345678");
        assert_eq!(
            normalize_e164("+123456789012345").unwrap(),
            "+123456789012345"
        );
    }

    #[test]
    fn refuses_what_is_not_e164() {
        for raw in [
            "",
            "+",
            "14155550100",
            "0044 20 7946 0958",
            "+0441234567",
            "+1415555010a",
            "+1.415.555.0100",
            "+1234567",
            "+1234567890123456",
            "++14155550100",
            "ada@example.com",
        ] {
            let err = normalize_e164(raw).expect_err(raw);
            assert_eq!(err.value, raw);
            assert!(err.to_string().starts_with("not an E.164 phone number"));
        }
    }
}
