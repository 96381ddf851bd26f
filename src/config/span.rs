//! Spans of time as ops write them: `90s`, `15m`, `6h`, `3d`.

use std::time::Duration;

/// A text that is not a span of time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a span of time: write a whole number and s, m, h or d (90s, 15m, 6h, 3d)")]
pub struct NotASpan(pub String);

/// Reads `90s`, `15m`, `6h` or `3d`; a span of zero is refused (it would mean "never
/// wait", which is not what anyone writes a span for).
///
/// # Errors
/// [`NotASpan`] for anything else.
pub fn parse_span(text: &str) -> Result<Duration, NotASpan> {
    let trimmed = text.trim();
    let refuse = || NotASpan(trimmed.to_owned());
    let split = trimmed.char_indices().last().map_or(0, |(at, _)| at);
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    let number: u64 = number.parse().map_err(|_| refuse())?;
    let unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(refuse()),
    };
    match number.checked_mul(unit) {
        Some(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_seconds_minutes_hours_days() {
        assert_eq!(parse_span("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_span("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_span(" 6h "), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_span("3d"), Ok(Duration::from_secs(259_200)));
        for bad in [
            "",
            "h",
            "6",
            "6w",
            "-1h",
            "+1h",
            "1.5h",
            "0s",
            "1 h",
            "é",
            "99999999999999999999d",
        ] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }
}
