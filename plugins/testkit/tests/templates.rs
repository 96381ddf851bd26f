//! The template stand-ins: strict `{{dotted.path}}` substitution.

use herald_plugin_api::{TemplatePart, Templates};
use herald_testkit::{FakeTemplates, TemplateFiles};
use serde_json::json;

#[test]
fn inline_templates_substitute_dotted_paths_strictly() {
    let context = json!({ "order_id": "42", "amount": 1999, "customer": { "name": "Ada" } });
    let rendered = FakeTemplates
        .render_inline(
            "{{ customer.name }} paid {{amount}} for {{order_id}}",
            &context,
        )
        .expect("renders");
    assert_eq!(rendered, "Ada paid 1999 for 42");
    for missing in ["{{customer.phone}}", "{{nope}}"] {
        let error = FakeTemplates
            .render_inline(missing, &json!({ "customer": { "phone": null } }))
            .expect_err("missing");
        assert!(error.0.starts_with("missing field"), "{error}");
    }
    assert!(FakeTemplates.render_inline("{{open", &context).is_err());
}

#[test]
fn checking_a_template_ignores_missing_fields_but_not_bad_syntax() {
    assert_eq!(FakeTemplates.check_inline("{{anything.at.all}}"), Ok(()));
    assert!(FakeTemplates.check_inline("{{unclosed").is_err());
    assert!(TemplateFiles::default().check_inline("{{unclosed").is_err());
}

#[test]
fn fake_templates_have_no_files_and_template_files_have_theirs() {
    assert!(!FakeTemplates.has("paid", TemplatePart::Text));
    let error = FakeTemplates
        .render("paid", TemplatePart::Text, &json!({}))
        .expect_err("no files");
    assert_eq!(error.0, "no template paid.txt.hbs");

    let files = TemplateFiles::default().with("paid", TemplatePart::Subject, "Order {{id}}");
    assert!(files.has("paid", TemplatePart::Subject));
    assert!(!files.has("paid", TemplatePart::Html));
    assert_eq!(
        files.render("paid", TemplatePart::Subject, &json!({ "id": 7 })),
        Ok("Order 7".to_owned())
    );
    assert!(files
        .render("paid", TemplatePart::Html, &json!({}))
        .is_err());
    assert_eq!(
        files.render_inline("{{id}}", &json!({ "id": "x" })),
        Ok("x".to_owned())
    );
}
