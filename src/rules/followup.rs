//! Follow-ups: what a `[[followups]]` entry adds to a rule. The actions of a
//! follow-up are planned with the event that starts it (`after`), due at its
//! deadline, and keyed on what it follows (the object, order, customer or
//! subscription), so a second such event starts nothing more. At the deadline the
//! dispatcher looks for an `unless` event about the same key, created since; if one
//! came, the job ends skipped, else it is delivered, once.

use std::time::Duration;

use herald_plugin_api::Event;
use serde_json::Value;

use super::condition::{Condition, Scope};
use super::glob::EventPattern;
use super::scope::EventScope;

/// What the `unless` event must be about to count: the same what as the `after` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOn {
    /// The same Stripe object (the invoice, the dispute, the session).
    Object,
    /// The same order (`metadata.order_id`).
    Order,
    /// The same customer (`cus_…`).
    Customer,
    /// The same subscription (`sub_…`, the object's or the one it belongs to).
    Subscription,
}

impl MatchOn {
    /// The names a config may write, for error messages.
    pub const NAMES: &'static str = "\"object\", \"order\", \"customer\" or \"subscription\"";

    /// `object`, `order`, `customer` or `subscription`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "object" => Self::Object,
            "order" => Self::Order,
            "customer" => Self::Customer,
            "subscription" => Self::Subscription,
            _ => return None,
        })
    }

    /// The key of `event`: a node of the links (`in_…`, `order:A17`, `customer:cus_…`,
    /// `sub_…`); `None` when the event does not name one.
    pub fn key(self, event: &Event) -> Option<String> {
        match self {
            Self::Object => event.object_id.clone(),
            Self::Order => event.order_id.as_ref().map(|id| format!("order:{id}")),
            Self::Customer => event
                .customer
                .id
                .as_ref()
                .map(|id| format!("customer:{id}")),
            Self::Subscription => event
                .object_id
                .iter()
                .chain(event.links.iter())
                .find(|id| id.starts_with("sub_"))
                .cloned(),
        }
    }
}

/// When a follow-up is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// This long after the `after` event was created.
    Within(Duration),
    /// At a time the event holds (Unix seconds at `path`), moved by `offset_secs`:
    /// `deadline = "data.object.evidence_details.due_by - 3d"`.
    Deadline { path: Vec<String>, offset_secs: i64 },
}

impl Wait {
    /// A `deadline`: a dotted path, optionally `- SPAN` or `+ SPAN`.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn deadline(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (path, offset_secs) = match text.split_once(['-', '+']) {
            Some((path, span)) => {
                let span = crate::config::parse_span(span).map_err(|err| err.to_string())?;
                let secs = i64::try_from(span.as_secs()).unwrap_or(i64::MAX);
                let sign = if text[path.len()..].starts_with('-') {
                    -1
                } else {
                    1
                };
                (path.trim(), sign * secs)
            }
            None => (text, 0),
        };
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        if path.iter().any(|part| {
            part.is_empty() || !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) {
            return Err(format!(
                "`{text}` is not a deadline: write a field holding a time, e.g. \
                 \"data.object.evidence_details.due_by - 3d\""
            ));
        }
        Ok(Self::Deadline { path, offset_secs })
    }
}

/// A follow-up's own settings, beside the rule's `on` (its `after`), `when` and actions.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub unless: Vec<EventPattern>,
    /// A condition the `unless` event must meet too (`data.object.status == 'under_review'`).
    pub unless_when: Option<Condition>,
    pub match_on: MatchOn,
    pub wait: Wait,
}

impl FollowUp {
    /// When the follow-up started by `event` is due (ms since the epoch); `None` when
    /// its deadline field is missing (nothing is planned then).
    pub fn due_ms(&self, event: &Event) -> Option<i64> {
        let secs = match &self.wait {
            Wait::Within(span) => event
                .created
                .saturating_add(i64::try_from(span.as_secs()).unwrap_or(i64::MAX)),
            Wait::Deadline { path, offset_secs } => {
                let scope = EventScope::new(event);
                let at = match scope.lookup(path)? {
                    Value::Number(n) => n.as_i64()?,
                    Value::String(text) => {
                        chrono::DateTime::parse_from_rfc3339(text).ok()?.timestamp()
                    }
                    _ => return None,
                };
                at.saturating_add(*offset_secs)
            }
        };
        Some(secs.saturating_mul(1000))
    }

    /// Whether `later`, an event about the same key, cancels the follow-up `event`
    /// started: an `unless` type meeting `unless_when`, created no earlier.
    pub fn cancelled_by(&self, event: &Event, later: &Event) -> bool {
        later.created >= event.created
            && self
                .unless
                .iter()
                .any(|pattern| pattern.matches(&later.kind))
            && self
                .unless_when
                .as_ref()
                .is_none_or(|condition| condition.evaluate(&EventScope::new(later)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_read_a_field_and_an_offset() {
        assert_eq!(
            Wait::deadline("data.object.evidence_details.due_by - 3d"),
            Ok(Wait::Deadline {
                path: ["data", "object", "evidence_details", "due_by"]
                    .map(String::from)
                    .to_vec(),
                offset_secs: -259_200,
            })
        );
        assert_eq!(
            Wait::deadline("data.object.due_date+1h"),
            Ok(Wait::Deadline {
                path: ["data", "object", "due_date"].map(String::from).to_vec(),
                offset_secs: 3_600,
            })
        );
        for bad in [
            "",
            "data..x",
            "data.x - 3w",
            "data.x - ",
            "a b",
            "data.x * 2",
        ] {
            assert!(Wait::deadline(bad).is_err(), "{bad}");
        }
    }
}
