//! The parameters of one inventory action in a rule, e.g. `{ plugin = "inventory" }` or
//! `{ plugin = "inventory", adjust = "increment", items = "{{data.object.metadata.returned}}" }`.
//!
//! [`validate_action`] checks them at start-up; the deliver stage parses them again with
//! [`InventoryAction::from_params`] on every job, which is cheap and keeps `Job` the only
//! input.

use herald_plugin_api::{or_problems, Templates};
use serde_json::{Map, Value};

/// The `items` template when an action sets none: the storefront's metadata convention.
pub const DEFAULT_ITEMS: &str = "{{data.object.metadata.items}}";

/// Event types that mean an order was paid: `adjust = "auto"` decrements on them.
const PAYMENT_EVENTS: [&str; 4] = [
    "payment_intent.succeeded",
    "checkout.session.completed",
    "charge.succeeded",
    "invoice.payment_succeeded",
];

/// The event type that means an order was refunded: `adjust = "auto"` increments on it.
pub(crate) const REFUND_EVENT: &str = "charge.refunded";

/// A refund made: `adjust = "auto"` puts back the lines its `metadata.items` names.
pub(crate) const REFUNDS_EVENT: &str = "refund.created";

/// Which way an action moves stock, as written in the rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Adjust {
    /// Stock leaves: the order was paid.
    Decrement,
    /// Stock comes back: the order was refunded.
    Increment,
    /// Decided by the event's type: payments decrement, `charge.refunded` and
    /// `refund.created` increment.
    #[default]
    Auto,
}

/// Which way stock actually moves for one event, once `auto` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Each item's quantity is taken out of stock.
    Decrement,
    /// Each item's quantity is put back.
    Increment,
}

impl Adjust {
    /// The names an operator may write, for error messages.
    const NAMES: &'static str = "`decrement`, `increment` or `auto`";

    fn parse(text: &str) -> Option<Self> {
        match text {
            "decrement" => Some(Self::Decrement),
            "increment" => Some(Self::Increment),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    /// The direction for an event of type `kind`.
    ///
    /// # Errors
    /// With `auto`, for an event type that is neither a payment nor a refund; the message
    /// tells the operator how to say which way it goes.
    pub fn resolve(self, kind: &str) -> Result<Direction, String> {
        match self {
            Self::Decrement => Ok(Direction::Decrement),
            Self::Increment => Ok(Direction::Increment),
            Self::Auto if PAYMENT_EVENTS.contains(&kind) => Ok(Direction::Decrement),
            Self::Auto if kind == REFUND_EVENT || kind == REFUNDS_EVENT => Ok(Direction::Increment),
            Self::Auto => Err(format!(
                "cannot tell which way a `{kind}` event moves stock; set \
                 `adjust = \"decrement\"` or `adjust = \"increment\"` on the rule's action"
            )),
        }
    }
}

/// One inventory action's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryAction {
    /// Which way stock moves. Default `auto`.
    pub adjust: Adjust,
    /// Inline template giving the items text. Default [`DEFAULT_ITEMS`].
    pub items: String,
}

impl Default for InventoryAction {
    fn default() -> Self {
        Self {
            adjust: Adjust::Auto,
            items: DEFAULT_ITEMS.to_owned(),
        }
    }
}

impl InventoryAction {
    /// Parses an action's parameters (all optional).
    ///
    /// # Errors
    /// Every unknown key and malformed value.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut action = Self::default();
        for (key, value) in params {
            match (key.as_str(), value) {
                ("adjust", Value::String(text)) => match Adjust::parse(text) {
                    Some(adjust) => action.adjust = adjust,
                    None => errors.push(format!(
                        "`adjust`: unknown value `{text}` (expected {})",
                        Adjust::NAMES
                    )),
                },
                ("adjust", _) => errors.push(format!(
                    "`adjust` must be a string, one of {}",
                    Adjust::NAMES
                )),
                ("items", Value::String(text)) => action.items.clone_from(text),
                ("items", _) => errors.push(
                    "`items` must be a string: a template giving `SKU:quantity, …`".to_owned(),
                ),
                _ => errors.push(format!(
                    "unknown key `{key}` (expected `adjust` or `items`)"
                )),
            }
        }
        or_problems(action, errors)
    }
}

/// Checks an inventory action's parameters at start-up: known keys only, `adjust` a
/// known value, and `items` a template that parses.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    let action = InventoryAction::from_params(params)?;
    templates
        .check_inline(&action.items)
        .map_err(|err| vec![format!("`items`: {err}")])
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_testkit::params;
    use serde_json::json;

    #[test]
    fn no_params_take_defaults() {
        assert_eq!(
            InventoryAction::from_params(&Map::new()),
            Ok(InventoryAction::default())
        );
        assert_eq!(InventoryAction::default().items, DEFAULT_ITEMS);
    }

    #[test]
    fn values_are_parsed() {
        let action = InventoryAction::from_params(&params(
            json!({ "adjust": "increment", "items": "{{x}}" }),
        ));
        assert_eq!(
            action,
            Ok(InventoryAction {
                adjust: Adjust::Increment,
                items: "{{x}}".to_owned(),
            })
        );
    }

    #[test]
    fn bad_values_and_unknown_keys_are_errors() {
        let errors = InventoryAction::from_params(&params(
            json!({ "adjust": "sideways", "items": 3, "sku": "x" }),
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("sideways")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("`items`")), "{errors:?}");
        assert!(
            errors.iter().any(|e| e.contains("unknown key `sku`")),
            "{errors:?}"
        );
    }

    #[test]
    fn auto_follows_the_event_type() {
        for kind in PAYMENT_EVENTS {
            assert_eq!(Adjust::Auto.resolve(kind), Ok(Direction::Decrement));
        }
        assert_eq!(Adjust::Auto.resolve(REFUND_EVENT), Ok(Direction::Increment));
        let err = Adjust::Auto.resolve("charge.dispute.created").unwrap_err();
        assert!(err.contains("charge.dispute.created"), "{err}");
        assert!(err.contains("adjust = "), "{err}");
    }

    #[test]
    fn explicit_directions_ignore_the_event_type() {
        assert_eq!(
            Adjust::Decrement.resolve("charge.dispute.created"),
            Ok(Direction::Decrement)
        );
        assert_eq!(
            Adjust::Increment.resolve("payment_intent.succeeded"),
            Ok(Direction::Increment)
        );
    }
}
