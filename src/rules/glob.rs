//! Event-type patterns: the part of the routing stage's matching language that
//! decides which event types a rule listens to (`on = ["charge.*"]`).
//!
//! A pattern is a dot-separated event type in which `*` stands for any run of
//! characters, dots included, so `charge.*` also covers `charge.dispute.created`.
//! Patterns are validated once at config load; matching never fails afterwards.

use std::fmt;
use std::str::FromStr;

/// A parsed `on` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPattern {
    source: String,
}

/// Why an `on` pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern is the empty string.
    #[error(
        "event pattern \"\" is empty; name an event type such as `payment_intent.succeeded`, \
         or use `*` to match every event"
    )]
    Empty,
    /// The pattern contains a character that can never occur in an event type.
    #[error(
        "event pattern `{pattern}` contains {character:?} at column {column}; \
         only letters, digits, `_`, `.` and the `*` wildcard are allowed"
    )]
    InvalidCharacter {
        /// The whole pattern as written.
        pattern: String,
        /// The first offending character.
        character: char,
        /// Its 1-based position, counted in characters.
        column: usize,
    },
    /// The pattern contains `**`, which suggests a recursive glob we do not have.
    #[error(
        "event pattern `{pattern}` contains `**`; a single `*` already matches across dots, \
         so write `*` instead"
    )]
    DoubleWildcard {
        /// The whole pattern as written.
        pattern: String,
    },
    /// The pattern has a leading or trailing dot, or two dots in a row.
    #[error(
        "event pattern `{pattern}` has an empty segment (a leading or trailing `.`, or `..`); \
         remove the extra dot, e.g. `charge.dispute.created`"
    )]
    EmptySegment {
        /// The whole pattern as written.
        pattern: String,
    },
}

impl EventPattern {
    /// Validates `pattern`, so that a typo fails at config load rather than
    /// silently never matching.
    ///
    /// # Errors
    /// What is wrong with `pattern`.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        if pattern.is_empty() {
            return Err(PatternError::Empty);
        }
        let invalid = pattern
            .chars()
            .enumerate()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*')));
        if let Some((index, character)) = invalid {
            return Err(PatternError::InvalidCharacter {
                pattern: pattern.to_owned(),
                character,
                column: index + 1,
            });
        }
        if pattern.contains("**") {
            return Err(PatternError::DoubleWildcard {
                pattern: pattern.to_owned(),
            });
        }
        if pattern.split('.').any(str::is_empty) {
            return Err(PatternError::EmptySegment {
                pattern: pattern.to_owned(),
            });
        }
        Ok(Self {
            source: pattern.to_owned(),
        })
    }

    /// Whether `event_type` is covered by this pattern. Case-sensitive.
    pub fn matches(&self, event_type: &str) -> bool {
        // Byte-wise is sound: the pattern is ASCII, and ASCII bytes never occur
        // inside a multi-byte UTF-8 sequence, so `*` can only ever "split" a
        // character it then swallows whole.
        wildcard_match(self.source.as_bytes(), event_type.as_bytes())
    }

    /// The pattern as written in the config.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// Greedy two-pointer match: on a mismatch, retry from the most recent `*`
/// with it swallowing one more byte. Earlier stars never need revisiting, so
/// this is O(pattern × text) at worst, with no exponential backtracking.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Position after the last `*` seen, and the text position it resumes from.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(b'*'), _) => {
                p += 1;
                backtrack = Some((p, t));
            }
            (Some(expected), Some(actual)) if expected == actual => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star_p, star_t)) => {
                    p = star_p;
                    t = star_t + 1;
                    backtrack = Some((star_p, t));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for EventPattern {
    type Err = PatternError;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        Self::parse(pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, event_type: &str) -> bool {
        EventPattern::parse(pattern).unwrap().matches(event_type)
    }

    #[test]
    fn exact_pattern_matches_only_the_same_type() {
        assert!(matches(
            "payment_intent.succeeded",
            "payment_intent.succeeded"
        ));
        assert!(!matches(
            "payment_intent.succeeded",
            "payment_intent.failed"
        ));
        assert!(!matches(
            "payment_intent.succeeded",
            "payment_intent.succeeded.x"
        ));
        assert!(!matches("payment_intent.succeeded", "payment_intent"));
    }

    #[test]
    fn matching_is_case_sensitive() {
        assert!(!matches("charge.refunded", "Charge.Refunded"));
        assert!(matches("Charge.Refunded", "Charge.Refunded"));
    }

    #[test]
    fn lone_star_matches_everything() {
        for event_type in ["charge.refunded", "a", "", "x.y.z", "ünïcödé ✓"] {
            assert!(matches("*", event_type), "{event_type}");
        }
    }

    #[test]
    fn star_matches_across_dots() {
        assert!(matches("charge.*", "charge.refunded"));
        assert!(matches("charge.*", "charge.dispute.created"));
        assert!(!matches("charge.*", "charge"));
        assert!(!matches("charge.*", "payment_intent.succeeded"));
    }

    #[test]
    fn leading_star_matches_suffix() {
        assert!(matches("*.succeeded", "payment_intent.succeeded"));
        assert!(matches("*.succeeded", "charge.succeeded"));
        assert!(!matches("*.succeeded", "payment_intent.succeeded_late"));
        assert!(!matches("*.succeeded", "succeeded"));
    }

    #[test]
    fn star_inside_a_segment_matches_partial_names() {
        assert!(matches(
            "customer.sub*.created",
            "customer.subscription.created"
        ));
        assert!(matches("*intent*", "payment_intent.succeeded"));
        assert!(!matches(
            "customer.sub*.created",
            "customer.subscription.deleted"
        ));
    }

    #[test]
    fn star_needs_backtracking_to_the_last_occurrence() {
        assert!(matches("*.created", "charge.dispute.created"));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn non_ascii_event_types_never_panic_and_match_only_through_star() {
        assert!(matches("charge.*", "charge.€uro"));
        assert!(matches("*.succeeded", "ü.succeeded"));
        assert!(matches("a*b", "a€b"));
        assert!(!matches("charge.refunded", "charge.réfunded"));
        assert!(!matches("a*b", "a€"));
    }

    #[test]
    fn pathological_input_finishes_quickly() {
        let pattern = format!("{}b", "a*".repeat(50));
        let text = "a".repeat(10_000);
        assert!(!matches(&pattern, &text));
    }

    #[test]
    fn display_and_as_str_return_the_pattern() {
        let pattern: EventPattern = "charge.*".parse().unwrap();
        assert_eq!(pattern.as_str(), "charge.*");
        assert_eq!(pattern.to_string(), "charge.*");
    }

    #[test]
    fn empty_pattern_is_rejected() {
        let err = EventPattern::parse("").unwrap_err();
        assert_eq!(err, PatternError::Empty);
        assert!(err.to_string().contains("is empty"));
        assert!(err.to_string().contains("`*`"));
    }

    #[test]
    fn invalid_characters_are_rejected_with_their_column() {
        for (pattern, character, column) in [
            ("charge refunded", ' ', 7),
            ("charge.?", '?', 8),
            ("[charge]", '[', 1),
            ("charge/refunded", '/', 7),
            ("charge.ré", 'é', 9),
        ] {
            let err = EventPattern::parse(pattern).unwrap_err();
            assert_eq!(
                err,
                PatternError::InvalidCharacter {
                    pattern: pattern.to_owned(),
                    character,
                    column,
                }
            );
        }
        let message = EventPattern::parse("charge refunded")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "event pattern `charge refunded` contains ' ' at column 7; only letters, digits, \
             `_`, `.` and the `*` wildcard are allowed"
        );
    }

    #[test]
    fn double_star_is_rejected() {
        let err = EventPattern::parse("charge.**").unwrap_err();
        assert_eq!(
            err,
            PatternError::DoubleWildcard {
                pattern: "charge.**".to_owned()
            }
        );
        assert!(err.to_string().contains("`charge.**`"));
        assert!(err.to_string().contains("write `*` instead"));
    }

    #[test]
    fn empty_segments_are_rejected() {
        for pattern in [".charge", "charge.", "charge..refunded", "."] {
            let err = EventPattern::parse(pattern).unwrap_err();
            assert_eq!(
                err,
                PatternError::EmptySegment {
                    pattern: pattern.to_owned()
                }
            );
            assert!(err.to_string().contains(&format!("`{pattern}`")));
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// Obviously right and exponential: `*` tries every split of the rest.
        fn reference(pattern: &[char], text: &[char]) -> bool {
            match pattern.split_first() {
                None => text.is_empty(),
                Some(('*', rest)) => (0..=text.len()).any(|i| reference(rest, &text[i..])),
                Some((c, rest)) => text.first() == Some(c) && reference(rest, &text[1..]),
            }
        }

        fn chars(from: &'static [char], len: std::ops::Range<usize>) -> BoxedStrategy<String> {
            proptest::collection::vec(prop::sample::select(from), len)
                .prop_map(String::from_iter)
                .boxed()
        }

        fn pattern() -> impl Strategy<Value = EventPattern> {
            chars(&['a', 'b', '_', '.', '*'], 1..10)
                .prop_filter_map("not a valid pattern", |p| EventPattern::parse(&p).ok())
        }

        fn agrees(pattern: &EventPattern, text: &str) -> bool {
            let p: Vec<char> = pattern.as_str().chars().collect();
            let t: Vec<char> = text.chars().collect();
            pattern.matches(text) == reference(&p, &t)
        }

        proptest! {
            #[test]
            fn agrees_with_the_reference_on_any_text(
                pattern in pattern(),
                text in chars(&['a', 'b', '_', '.', 'é', '€'], 0..12),
            ) {
                prop_assert!(agrees(&pattern, &text));
            }

            #[test]
            fn matches_text_made_from_the_pattern(
                pattern in pattern(),
                fillers in proptest::collection::vec(chars(&['a', 'b', '.', 'é'], 0..4), 8),
            ) {
                // Each `*` replaced by a short run: a match, unlike most random text.
                let mut fill = fillers.iter();
                let text: String = pattern
                    .as_str()
                    .split('*')
                    .enumerate()
                    .map(|(i, piece)| {
                        let star = if i == 0 { "" } else { fill.next().map_or("", String::as_str) };
                        format!("{star}{piece}")
                    })
                    .collect();
                prop_assert!(pattern.matches(&text));
                prop_assert!(agrees(&pattern, &text));
            }
        }
    }
}
