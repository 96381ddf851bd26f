use serde_json::json;

use super::*;
use herald_testkit::{params, FakeTemplates};

fn errors(value: Value) -> Vec<String> {
    validate_action(&params(value), &FakeTemplates).expect_err("should be rejected")
}

#[test]
fn every_key_is_optional() {
    assert_eq!(validate_action(&params(json!({})), &FakeTemplates), Ok(()));
    assert_eq!(
        WebhookAction::from_params(&params(json!({}))),
        Ok(WebhookAction::default())
    );
}

#[test]
fn parses_and_accepts_a_complete_action() {
    let action = params(json!({
        "path": "/orders/{{order_id}}/ship", "event_type": "order.paid",
    }));
    assert_eq!(validate_action(&action, &FakeTemplates), Ok(()));
    let parsed = WebhookAction::from_params(&action).expect("valid");
    assert_eq!(parsed.path.as_deref(), Some("/orders/{{order_id}}/ship"));
    assert_eq!(parsed.event_type.as_deref(), Some("order.paid"));
    assert!(parsed.body.is_none());

    let with_body = params(json!({ "path": "/", "body": "{\"order\": \"{{order_id}}\"}" }));
    assert_eq!(validate_action(&with_body, &FakeTemplates), Ok(()));
}

#[test]
fn splits_paths_outside_expressions_only() {
    assert_eq!(
        path_segments("/orders/{{order_id}}/ship").expect("ok"),
        ["orders", "{{order_id}}", "ship"]
    );
    assert_eq!(
        path_segments("/o/{{#if order_id}}{{order_id}}{{else}}none{{/if}}/").expect("ok"),
        ["o", "{{#if order_id}}{{order_id}}{{else}}none{{/if}}", ""]
    );
    assert_eq!(path_segments("/").expect("ok"), [""]);
    assert!(path_segments("orders").is_err());
}

#[test]
fn block_helpers_with_hash_and_slash_are_fine_in_paths() {
    let action = params(json!({ "path": "/o/{{#if order_id}}{{order_id}}{{/if}}" }));
    assert_eq!(validate_action(&action, &FakeTemplates), Ok(()));
}

#[test]
fn rejects_paths_that_could_leave_the_destination() {
    let no_slash = errors(json!({ "path": "orders/{{order_id}}" }));
    assert_eq!(no_slash.len(), 1);
    assert!(
        no_slash[0].starts_with("`path` must start with `/`"),
        "{no_slash:?}"
    );

    let host = errors(json!({ "path": "/https://evil.example.com/x" }));
    assert!(host.iter().any(|e| e.contains("`://`")), "{host:?}");

    let query = errors(json!({ "path": "/orders?id={{order_id}}" }));
    assert_eq!(query.len(), 1, "{query:?}");
    assert!(query[0].contains("`?` or `#`"), "{query:?}");

    let fragment = errors(json!({ "path": "/orders#x" }));
    assert!(fragment[0].contains("`?` or `#`"), "{fragment:?}");

    let empty = errors(json!({ "path": "/orders//ship" }));
    assert!(empty[0].contains("empty segment"), "{empty:?}");

    let dots = errors(json!({ "path": "/orders/../admin" }));
    assert!(dots[0].contains("`..`"), "{dots:?}");
}

#[test]
fn reports_template_errors_per_segment_and_in_the_body() {
    let errors = errors(json!({
        "path": "/orders/{{order_id", "body": "{\"id\": \"{{id\"}",
    }));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("`path` segment `{{order_id` is not a valid template: unclosed"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("`body` is not a valid template"),
        "{errors:?}"
    );
}

#[test]
fn a_fixed_body_must_be_json() {
    let errors = errors(json!({ "body": "{\"ok\": tru}" }));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("`body` is not valid JSON"),
        "{errors:?}"
    );
    let fine = params(json!({ "body": "{\"ok\": true}" }));
    assert_eq!(validate_action(&fine, &FakeTemplates), Ok(()));
}

#[test]
fn names_unknown_keys_and_non_strings() {
    // Sorted: the order follows serde_json's map, which a feature flag can change.
    let mut errors = errors(json!({ "pth": "/x", "body": 3 }));
    errors.sort();
    assert_eq!(
        errors,
        [
            "`body` must be a string",
            "unknown key `pth` (expected `path`, `body`, `event_type`)",
        ]
    );
    assert!(WebhookAction::from_params(&params(json!({ "url": "x" }))).is_err());
}

#[test]
fn event_type_is_for_the_built_in_body_only() {
    let both = errors(json!({ "body": "{}", "event_type": "order.paid" }));
    assert_eq!(both.len(), 1);
    assert!(
        both[0].contains("only applies to the built-in body"),
        "{both:?}"
    );
    let empty = errors(json!({ "event_type": " " }));
    assert_eq!(empty, ["`event_type` must not be empty"]);
}
