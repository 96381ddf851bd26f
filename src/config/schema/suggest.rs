//! "did you mean `concurrency`?" for serde's unknown-field messages: the list of
//! expected keys is long, and a typo is nearly always one or two letters off.

/// How many edits away a key may be to be suggested; more is a different word.
const MAX_DISTANCE: usize = 2;

/// `message` with the nearest expected key named, when serde's message is
/// "unknown field `X`, expected one of `a`, `b`…" (or "expected `a`") and one is close.
pub(super) fn with_suggestion(message: String) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message;
    };
    let nearest = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|known| (strsim::damerau_levenshtein(unknown, known), known))
        .filter(|&(distance, known)| distance <= MAX_DISTANCE && distance < known.len())
        .min_by_key(|&(distance, _)| distance);
    match nearest {
        Some((_, known)) => {
            format!("unknown field `{unknown}` (did you mean `{known}`?){expected}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_key_is_named_and_far_ones_are_not() {
        let message = "unknown field `concurency`, expected one of `enabled`, `concurrency`";
        assert_eq!(
            with_suggestion(message.to_owned()),
            "unknown field `concurency` (did you mean `concurrency`?), expected one of \
             `enabled`, `concurrency`"
        );
        let far = "unknown field `from_adress`, expected one of `from`, `reply_to`";
        assert_eq!(with_suggestion(far.to_owned()), far);
        let other = "invalid type: string \"x\", expected a sequence";
        assert_eq!(with_suggestion(other.to_owned()), other);
        let one = "unknown field `retyr`, expected `retry`";
        assert!(with_suggestion(one.to_owned()).contains("did you mean `retry`?"));
    }
}
