use serde_json::json;

use super::*;
use herald_testkit::{params, TemplateFiles};

/// The template files the tests name: complete sets and incomplete ones.
fn templates() -> TemplateFiles {
    [
        ("paid", TemplatePart::Subject),
        ("paid", TemplatePart::Text),
        ("html_only", TemplatePart::Subject),
        ("html_only", TemplatePart::Html),
        ("no_body", TemplatePart::Subject),
        ("no_subject", TemplatePart::Text),
    ]
    .into_iter()
    .fold(TemplateFiles::default(), |files, (name, part)| {
        files.with(name, part, "")
    })
}

fn errors(value: Value) -> Vec<String> {
    validate_action(&params(value), &templates()).expect_err("should be rejected")
}

#[test]
fn parses_a_complete_action() {
    let action = EmailAction::from_params(&params(json!({
        "template": "paid", "to": "{{customer.email}}", "reply_to": "help@example.com",
    })))
    .expect("valid");
    assert_eq!(action.template, "paid");
    assert_eq!(action.to, "{{customer.email}}");
    assert_eq!(action.reply_to.as_deref(), Some("help@example.com"));
}

#[test]
fn accepts_valid_actions() {
    for template in ["paid", "html_only"] {
        let action = json!({ "template": template, "to": "{{customer.email}}" });
        assert_eq!(validate_action(&params(action), &templates()), Ok(()));
    }
    let fixed = json!({ "template": "paid", "to": "Ops <ops@example.com>" });
    assert_eq!(validate_action(&params(fixed), &templates()), Ok(()));
}

#[test]
fn names_an_unknown_key_and_the_expected_ones() {
    let errors = errors(json!({ "tmplate": "paid", "to": "a@example.com" }));
    assert_eq!(
        errors,
        [
            "unknown key `tmplate` (expected `template`, `to`, `reply_to`, `attachments`)",
            "missing `template` (the template set to render, e.g. \"payment_succeeded\")",
        ]
    );
}

#[test]
fn requires_template_and_to_as_strings() {
    assert_eq!(errors(json!({})).len(), 2);
    let errors = errors(json!({ "template": 3, "to": ["a@example.com"] }));
    assert_eq!(
        errors,
        ["`template` must be a string", "`to` must be a string"]
    );
}

#[test]
fn reports_a_missing_template_set_with_its_files() {
    let errors = errors(json!({ "template": "foo", "to": "a@example.com" }));
    assert_eq!(
        errors,
        [
            "template `foo` not found: expected templates/foo.subject.hbs and \
          templates/foo.txt.hbs or templates/foo.html.hbs"
        ]
    );
}

#[test]
fn reports_an_incomplete_template_set() {
    let no_body = errors(json!({ "template": "no_body", "to": "a@example.com" }));
    assert!(
        no_body[0].contains("templates/no_body.txt.hbs"),
        "{no_body:?}"
    );
    let no_subject = errors(json!({ "template": "no_subject", "to": "a@example.com" }));
    assert!(
        no_subject[0].contains("templates/no_subject.subject.hbs"),
        "{no_subject:?}"
    );
}

#[test]
fn reports_inline_template_errors() {
    let errors = errors(json!({
        "template": "paid", "to": "{{customer.email", "reply_to": "not-an-address",
    }));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("`to` is not a valid template: unclosed"));
    assert!(errors[1].starts_with("`reply_to` is not a valid email address"));
}
