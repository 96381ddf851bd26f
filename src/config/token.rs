//! How strong an admin token must be: anyone who reaches the listener can try tokens,
//! and the admin API can purge and replay every dead letter.
//!
//! The check is an estimate, not a proof: it refuses what is short, built from few
//! characters, or mostly a run like `abcdef…`, which is what typed-in tokens tend to be.
//! A token from `openssl rand -hex 32` always passes.

/// Shortest admin token accepted: guessing 16 random characters is hopeless.
pub(super) const MIN_LEN: usize = 16;

/// Fewest different characters: a token of two or three repeated characters is a
/// short password whatever its length.
pub(super) const MIN_DISTINCT: usize = 8;

/// Why `token` is too weak for the admin API, or `None` when it will do.
pub(super) fn weakness(token: &str) -> Option<String> {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < MIN_LEN {
        return Some(format!("must be at least {MIN_LEN} characters"));
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return Some(format!(
            "is too weak: {} different characters, at least {MIN_DISTINCT} needed \
             (generate one with `openssl rand -hex 32`)",
            distinct.len()
        ));
    }
    // Steps of one code point either way, as in `0123…` or `zyx…`.
    let steps = chars
        .windows(2)
        .filter(|pair| (i64::from(u32::from(pair[0])) - i64::from(u32::from(pair[1]))).abs() == 1)
        .count();
    if steps * 2 > chars.len() - 1 {
        return Some(
            "is too weak: mostly a run of consecutive characters \
             (generate one with `openssl rand -hex 32`)"
                .to_owned(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_pass() {
        for token in [
            "3f9a1c0e7b52d864a0c91e2f7d3b5a68",
            "test-admin-token-0123456789",
            "Zq8-rT2mX_pL4vN9",
        ] {
            assert_eq!(weakness(token), None, "{token}");
        }
    }

    #[test]
    fn short_repeated_and_sequential_tokens_are_refused() {
        let cases = [
            ("tooshort", "at least 16"),
            ("aaaaaaaaaaaaaaaa", "1 different"),
            ("abcabcabcabcabcabcabc", "3 different"),
            ("0123456789abcdefgh", "consecutive"),
            ("hgfedcbahgfedcbahgfedcba", "consecutive"),
        ];
        for (token, expected) in cases {
            let reason = weakness(token).unwrap_or_default();
            assert!(reason.contains(expected), "{token}: {reason}");
            assert!(
                !reason.contains(token),
                "the token is not repeated: {reason}"
            );
        }
    }
}
