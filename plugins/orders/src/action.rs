//! The parameters of one orders action in a rule, e.g. `{ plugin = "orders" }` or, for
//! an event type herald cannot interpret, `{ plugin = "orders", status = "paid" }`.
//!
//! [`validate_action`] checks them at start-up; the deliver stage parses them again with
//! [`OrdersAction::from_params`] on every job, which is cheap and keeps `Job` the only input.

use herald_plugin_api::or_problems;
use serde_json::{Map, Value};

use crate::status::Signal;

/// One orders action's parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrdersAction {
    /// A signal forced on every event the rule matches (a status, `hold` or
    /// `release`), instead of the one read from the event's type and payload.
    pub status: Option<Signal>,
}

impl OrdersAction {
    /// Parses an action's parameters (all optional).
    ///
    /// # Errors
    /// Every unknown key and malformed value.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut status = None;
        for (key, value) in params {
            if key != "status" {
                errors.push(format!("unknown key `{key}` (expected `status`)"));
                continue;
            }
            match value.as_str().map(str::parse::<Signal>) {
                Some(Ok(parsed)) => status = Some(parsed),
                Some(Err(err)) => errors.push(format!("`status`: {err}")),
                None => errors.push(format!(
                    "`status` must be a string, one of: {}",
                    Signal::names()
                )),
            }
        }
        or_problems(Self { status }, errors)
    }
}

/// Checks an orders action's parameters at start-up: known keys only, and `status` a
/// status name.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(params: &Map<String, Value>) -> Result<(), Vec<String>> {
    OrdersAction::from_params(params).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_testkit::params;
    use serde_json::json;

    #[test]
    fn no_params_is_fine() {
        assert_eq!(validate_action(&Map::new()), Ok(()));
        assert_eq!(
            OrdersAction::from_params(&Map::new()),
            Ok(OrdersAction::default())
        );
    }

    #[test]
    fn a_status_is_parsed() {
        let action = OrdersAction::from_params(&params(json!({ "status": "paid" })));
        assert_eq!(
            action,
            Ok(OrdersAction {
                status: Some(Signal::Status(crate::status::OrderStatus::Paid))
            })
        );
    }

    #[test]
    fn an_invalid_status_names_the_valid_ones() {
        let errors = validate_action(&params(json!({ "status": "shipped" }))).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("shipped"), "{errors:?}");
        assert!(errors[0].contains("payment_failed"), "{errors:?}");
        let errors = validate_action(&params(json!({ "status": 3 }))).unwrap_err();
        assert!(errors[0].contains("refunded"), "{errors:?}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let errors = validate_action(&params(json!({ "template": "x", "to": "y" }))).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("unknown key"), "{errors:?}");
    }
}
