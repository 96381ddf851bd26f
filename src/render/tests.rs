use super::*;
use herald_plugin_api::{Customer, Event};
use serde_json::json;
use std::fs;

/// The shipped templates, relative to the crate root.
const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

/// A renderer over no files: enough for helpers and inline templates.
fn empty() -> (tempfile::TempDir, Renderer) {
    let dir = tempfile::tempdir().unwrap();
    let renderer = Renderer::load(dir.path()).unwrap();
    (dir, renderer)
}

fn inline(template: &str, context: &Value) -> Result<String, RenderError> {
    empty().1.render_inline(template, context)
}

fn money_of(amount: Value, currency: &str) -> Result<String, RenderError> {
    inline("{{money a c}}", &json!({"a": amount, "c": currency}))
}

/// Writes `files` (path → content) under `<tmp>/templates` and loads it.
fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Renderer, LoadError>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("templates");
    fs::create_dir_all(dir.join("partials")).unwrap();
    for (path, content) in files {
        fs::write(dir.join(path), content).unwrap();
    }
    let loaded = Renderer::load(&dir);
    (tmp, loaded)
}

#[test]
fn money_uses_symbols_for_usd_eur_gbp_jpy() {
    assert_eq!(money_of(json!(4998), "usd").unwrap(), "$49.98");
    assert_eq!(money_of(json!(4998), "eur").unwrap(), "€49.98");
    assert_eq!(money_of(json!(4998), "gbp").unwrap(), "£49.98");
    assert_eq!(money_of(json!(4998), "USD").unwrap(), "$49.98");
    assert_eq!(money_of(json!(5000), "jpy").unwrap(), "¥5000");
    assert_eq!(money_of(json!(5), "usd").unwrap(), "$0.05");
    assert_eq!(money_of(json!(0), "usd").unwrap(), "$0.00");
    assert_eq!(money_of(json!(123456789), "usd").unwrap(), "$1234567.89");
}

#[test]
fn money_puts_other_codes_after_the_number() {
    assert_eq!(money_of(json!(4998), "chf").unwrap(), "49.98 CHF");
    assert_eq!(money_of(json!(5000), "krw").unwrap(), "5000 KRW");
    assert_eq!(money_of(json!(5000), "vnd").unwrap(), "5000 VND");
    assert_eq!(money_of(json!(5000), "clp").unwrap(), "5000 CLP");
    assert_eq!(money_of(json!(12340), "bhd").unwrap(), "12.340 BHD");
    // ISK is two-decimal in Stripe's API.
    assert_eq!(money_of(json!(500), "isk").unwrap(), "5.00 ISK");
}

#[test]
fn money_formats_negative_amounts() {
    assert_eq!(money_of(json!(-4998), "usd").unwrap(), "-$49.98");
    assert_eq!(money_of(json!(-5), "eur").unwrap(), "-€0.05");
    assert_eq!(money_of(json!(-4998), "chf").unwrap(), "-49.98 CHF");
    assert_eq!(money_of(json!(-5000), "jpy").unwrap(), "-¥5000");
    assert_eq!(
        money_of(json!(i64::MIN), "usd").unwrap(),
        "-$92233720368547758.08"
    );
}

#[test]
fn money_rejects_bad_arguments_with_an_error() {
    for (amount, currency) in [
        (json!(49.98), json!("usd")),
        (json!("4998"), json!("usd")),
        (json!(null), json!("usd")),
        (json!(u64::MAX), json!("usd")),
        (json!(4998), json!(null)),
        (json!(4998), json!(840)),
        (json!(4998), json!("dollars")),
        (json!(4998), json!("")),
    ] {
        let result = inline("{{money a c}}", &json!({"a": amount, "c": currency}));
        let message = result.unwrap_err().0;
        assert!(message.contains("money"), "{message}");
    }
    let missing = inline("{{money amount currency}}", &json!({"currency": "usd"})).unwrap_err();
    assert!(
        missing.0.contains("`amount` is not in the data"),
        "{missing}"
    );
    let arity = inline("{{money amount}}", &json!({"amount": 1})).unwrap_err();
    assert!(arity.0.contains("money takes"), "{arity}");
}

#[test]
fn date_formats_unix_seconds_in_utc() {
    let context = json!({"t": 1789927243, "old": -86400, "f": "%d %B %Y"});
    assert_eq!(
        inline("{{date t}}", &context).unwrap(),
        "2026-09-20 18:00 UTC"
    );
    assert_eq!(
        inline("{{date t f}}", &context).unwrap(),
        "20 September 2026"
    );
    assert_eq!(
        inline("{{date t \"%H:%M:%S\"}}", &context).unwrap(),
        "18:00:43"
    );
    assert_eq!(
        inline("{{date old}}", &context).unwrap(),
        "1969-12-31 00:00 UTC"
    );
}

#[test]
fn date_is_in_the_shops_time_zone_even_inside_a_block() {
    let context = json!({"shop": {"time_zone": "Europe/Paris"}, "o": {"t": 1789927243}});
    assert_eq!(
        inline("{{#with o}}{{date t}}{{/with}}", &context).unwrap(),
        "2026-09-20 20:00 CEST"
    );
    let winter = json!({"shop": {"time_zone": "America/New_York"}, "t": 1798761600});
    assert_eq!(
        inline("{{date t}}", &winter).unwrap(),
        "2026-12-31 19:00 EST"
    );
    let unknown = json!({"shop": {"time_zone": "Mars/Olympus"}, "t": 0});
    let message = inline("{{date t}}", &unknown).unwrap_err().0;
    assert!(
        message.contains("unknown time zone `Mars/Olympus`"),
        "{message}"
    );
}

#[test]
fn date_rejects_bad_input_with_an_error() {
    for (template, context) in [
        ("{{date t}}", json!({"t": i64::MAX})),
        ("{{date t}}", json!({"t": "1789927243"})),
        ("{{date t}}", json!({"t": 1.5})),
        ("{{date t}}", json!({"t": null})),
        ("{{date t}}", json!({})),
        ("{{date t \"%Q\"}}", json!({"t": 0})),
        ("{{date t \"%\"}}", json!({"t": 0})),
        ("{{date t 3}}", json!({"t": 0})),
        ("{{date}}", json!({})),
    ] {
        let message = inline(template, &context).unwrap_err().0;
        assert!(message.contains("date"), "{template}: {message}");
    }
}

#[test]
fn upper_and_lower_change_case_of_strings_only() {
    let context = json!({"s": "Straße Ünd", "n": 5, "z": null});
    assert_eq!(inline("{{upper s}}", &context).unwrap(), "STRASSE ÜND");
    assert_eq!(inline("{{lower s}}", &context).unwrap(), "straße ünd");
    for template in [
        "{{upper n}}",
        "{{lower z}}",
        "{{upper missing}}",
        "{{lower s s}}",
    ] {
        assert!(inline(template, &context).is_err(), "{template}");
    }
    // Helpers compose as subexpressions.
    let money = json!({"a": 4998, "c": "chf"});
    assert_eq!(
        inline("{{lower (money a c)}}", &money).unwrap(),
        "49.98 chf"
    );
}

#[test]
fn json_writes_any_value_as_json_text() {
    let context = json!({"s": "say \"hi\"\nbye", "n": 5, "z": null, "o": {"a": [1]}});
    assert_eq!(
        inline("{{json s}}", &context).unwrap(),
        r#""say \"hi\"\nbye""#
    );
    assert_eq!(inline("{{json n}} {{json z}}", &context).unwrap(), "5 null");
    assert_eq!(inline("{{json o}}", &context).unwrap(), r#"{"a":[1]}"#);
    let body = inline(r#"{"text": {{json s}}}"#, &context).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    assert_eq!(parsed["text"], context["s"]);
    for template in ["{{json missing}}", "{{json s n}}", "{{json}}"] {
        assert!(inline(template, &context).is_err(), "{template}");
    }
}

#[test]
fn strict_mode_names_a_missing_field() {
    let context = json!({"customer": {"name": null}});
    let error = inline("Hi {{customer.nmae}}", &context).unwrap_err();
    assert!(
        error.0.contains("`customer.nmae` is not in the data"),
        "{error}"
    );
    assert!(error.0.contains("line 1, column 4"), "{error}");
    // Present but null is not missing: it renders empty.
    assert_eq!(inline("[{{customer.name}}]", &context).unwrap(), "[]");
}

#[test]
fn if_on_a_missing_or_null_field_takes_the_else_branch() {
    let template = "{{#if customer.name}}Hi {{customer.name}}{{else}}Hello{{/if}}";
    for (context, expected) in [
        (json!({"customer": {"name": "Jenny"}}), "Hi Jenny"),
        (json!({"customer": {"name": null}}), "Hello"),
        (json!({"customer": {}}), "Hello"),
        (json!({"customer": null}), "Hello"),
        (json!({}), "Hello"),
    ] {
        assert_eq!(inline(template, &context).unwrap(), expected, "{context}");
    }
    let context = json!({"a": 0});
    assert_eq!(
        inline("{{#unless b.c}}none{{/unless}}", &context).unwrap(),
        "none"
    );
    assert_eq!(
        inline("{{#with b}}x{{else}}none{{/with}}", &context).unwrap(),
        "none"
    );
    assert_eq!(
        inline("{{#each b}}x{{else}}none{{/each}}", &context).unwrap(),
        "none"
    );
    let zero = "{{#if a includeZero=true}}{{a}}{{/if}}";
    assert_eq!(inline(zero, &context).unwrap(), "0");
}

#[test]
fn with_and_each_on_missing_data_need_an_else_in_strict_mode() {
    let context = json!({"a": null, "list": []});
    for template in [
        "{{#with a}}x{{/with}}",
        "{{#with b}}x{{/with}}",
        "{{#each b}}x{{/each}}",
    ] {
        assert!(inline(template, &context).is_err(), "{template}");
    }
    for template in [
        "{{#with a}}x{{else}}{{/with}}",
        "{{#each b}}x{{else}}{{/each}}",
    ] {
        assert_eq!(inline(template, &context).unwrap(), "", "{template}");
    }
    assert_eq!(inline("{{#each list}}x{{/each}}", &context).unwrap(), "");
}

#[test]
fn loads_sets_and_partials_and_escapes_only_html() {
    let (_tmp, loaded) = load(&[
        ("hello.subject.hbs", "Hi {{shop.name}}\n"),
        (
            "hello.html.hbs",
            "{{#> frame}}<b>{{shop.name}}</b> {{upper shop.name}}{{/frame}}",
        ),
        (
            "hello.txt.hbs",
            "{{shop.name}} {{money amount currency}}\n{{> sign}}",
        ),
        ("bye.txt.hbs", "Bye {{> sign}}"),
        ("partials/frame.hbs", "<main>{{> @partial-block}}</main>"),
        ("partials/sign.hbs", "-- {{shop.name}}"),
        ("README.md", "ignored"),
        (".hello.html.hbs.swp", "ignored"),
    ]);
    let renderer = loaded.unwrap();
    assert_eq!(renderer.names(), ["bye", "hello"]);
    assert!(renderer.has("hello", TemplatePart::Html));
    assert!(!renderer.has("bye", TemplatePart::Html));
    assert!(!renderer.has("sign", TemplatePart::Text));
    let context = json!({"shop": {"name": "Tom & Jerry's"}, "amount": 4998, "currency": "usd"});
    let html = renderer
        .render("hello", TemplatePart::Html, &context)
        .unwrap();
    assert_eq!(
        html,
        "<main><b>Tom &amp; Jerry&#x27;s</b> TOM &amp; JERRY&#x27;S</main>"
    );
    let text = renderer
        .render("hello", TemplatePart::Text, &context)
        .unwrap();
    assert_eq!(text, "Tom & Jerry's $49.98\n-- Tom & Jerry's");
    let subject = renderer.render("hello", TemplatePart::Subject, &context);
    assert_eq!(subject.unwrap(), "Hi Tom & Jerry's");
    let inline = renderer.render_inline("{{shop.name}} {{> sign}}", &context);
    assert_eq!(inline.unwrap(), "Tom & Jerry's -- Tom & Jerry's");
}

#[test]
fn a_subject_is_folded_onto_one_line() {
    let (_tmp, loaded) = load(&[("s.subject.hbs", "\n  Hello\n  {{name}}  \n\n")]);
    let context = json!({"name": "Eve\r\nBcc: all@example.com"});
    let subject = loaded.unwrap().render("s", TemplatePart::Subject, &context);
    assert_eq!(subject.unwrap(), "Hello Eve Bcc: all@example.com");
}

#[test]
fn an_unknown_template_is_an_error_naming_its_file() {
    let (_tmp, loaded) = load(&[("a.txt.hbs", "a")]);
    let renderer = loaded.unwrap();
    let error = renderer
        .render("nope", TemplatePart::Html, &json!({}))
        .unwrap_err();
    assert!(error.0.contains("templates/nope.html.hbs"), "{error}");
    let error = renderer
        .render("a", TemplatePart::Subject, &json!({}))
        .unwrap_err();
    assert!(error.0.contains("templates/a.subject.hbs"), "{error}");
}

#[test]
fn render_errors_name_the_file_and_position() {
    let (_tmp, loaded) = load(&[
        ("a.txt.hbs", "line one\n  {{oops}}"),
        ("b.html.hbs", "{{#> frame}}x{{/frame}}"),
        ("partials/frame.hbs", "<p>\n{{title}}</p>"),
    ]);
    let renderer = loaded.unwrap();
    let error = renderer
        .render("a", TemplatePart::Text, &json!({}))
        .unwrap_err();
    assert!(error.0.contains("templates/a.txt.hbs:2:3: "), "{error}");
    assert!(error.0.contains("`oops` is not in the data"), "{error}");
    let error = renderer
        .render("b", TemplatePart::Html, &json!({}))
        .unwrap_err();
    assert!(error.0.contains("(in a partial of "), "{error}");
    assert!(error.0.ends_with("templates/b.html.hbs)"), "{error}");
    assert!(
        error.0.contains("templates/partials/frame.hbs:2:"),
        "{error}"
    );
    assert!(error.0.contains("`title`"), "{error}");
    let error = renderer
        .render_inline("{{#> frame}}{{/frame}}", &json!({}))
        .unwrap_err();
    assert!(
        error.0.ends_with("(in a partial of inline template)"),
        "{error}"
    );
    assert!(
        error.0.contains("partials/frame.hbs:2:1: `title`"),
        "{error}"
    );
    let error = renderer
        .render_inline("{{lookup this \"x\"}}", &json!({}))
        .unwrap_err();
    assert_eq!(
        error.0,
        "inline template line 1, column 1: a value is not in the data"
    );
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let (_tmp, loaded) = load(&[("a.html.hbs", "<p>\n{{#if x}}open")]);
    match loaded {
        Err(LoadError::Syntax { path, line, .. }) => {
            assert!(path.ends_with("templates/a.html.hbs"));
            assert_eq!(line, 2);
        }
        other => panic!("{:?}", other.map(|r| r.names())),
    }
    let (_tmp, loaded) = load(&[("partials/p.hbs", "{{oops")]);
    let message = loaded.err().unwrap().to_string();
    assert!(
        message.contains("templates/partials/p.hbs line 1, column"),
        "{message}"
    );
}

#[test]
fn misnamed_files_and_unknown_partials_fail_to_load() {
    for (files, expected) in [
        (vec![("a.text.hbs", "x")], "expected <name>.subject.hbs"),
        (vec![("a.hbs", "x")], "expected <name>.subject.hbs"),
        (vec![("my mail.txt.hbs", "x")], "snake_case"),
        (vec![("partials/my.layout.hbs", "x")], "snake_case"),
        (
            vec![("a.txt.hbs", "{{> footr}}")],
            "unknown partial `footr`",
        ),
        (
            vec![("a.txt.hbs", "{{#if x}}{{#> lay}}x{{/lay}}{{/if}}")],
            "`lay`",
        ),
        (vec![("partials/p.hbs", "{{> q}}")], "unknown partial `q`"),
    ] {
        let (_tmp, loaded) = load(&files);
        let message = loaded.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(expected), "{files:?}: {message}");
    }
    // Inline partials and the partial block are not files.
    let inline = "{{#*inline \"row\"}}r{{/inline}}{{> row}}";
    let (_tmp, loaded) = load(&[
        ("a.txt.hbs", inline),
        ("partials/l.hbs", "{{> @partial-block}}"),
    ]);
    let renderer = loaded.unwrap();
    assert_eq!(
        renderer
            .render("a", TemplatePart::Text, &json!({}))
            .unwrap(),
        "r"
    );
}

#[test]
fn a_missing_folder_is_an_io_error_and_partials_are_optional() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = Renderer::load(&tmp.path().join("nope"));
    assert!(matches!(missing, Err(LoadError::Io { .. })));
    fs::write(tmp.path().join("a.txt.hbs"), "a").unwrap();
    assert_eq!(Renderer::load(tmp.path()).unwrap().names(), ["a"]);
}

#[test]
fn inline_templates_check_and_render_as_text() {
    let (_dir, renderer) = empty();
    assert_eq!(renderer.check_inline("{{customer.email}}"), Ok(()));
    let error = renderer.check_inline("to {{customer.email").unwrap_err();
    assert!(
        error.0.starts_with("inline template: line 1, column"),
        "{error}"
    );
    let context = json!({"customer": {"email": "a&b@example.com"}});
    let to = renderer.render_inline("{{customer.email}}", &context);
    assert_eq!(to.unwrap(), "a&b@example.com");
    let error = renderer.render_inline("{{#if}}", &context).unwrap_err();
    assert!(error.0.starts_with("inline template"), "{error}");
}

// ---- the shipped templates against the Stripe fixtures --------------------------------

/// The context `Event::context()` gives for a fixture, plus `shop` and `params`.
fn context(fixture: &str, shop_name: &str) -> Value {
    // The samples hold a copy of every fixture, and the types only samples have.
    let text = crate::samples::text(fixture).unwrap_or_else(|| panic!("no sample {fixture}"));
    let raw: Value = serde_json::from_str(text).unwrap();
    let object = raw["data"]["object"].clone();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let who = ["customer_details", "billing_details", "shipping"]
        .into_iter()
        .map(|key| &object[key])
        .find(|v| v.is_object())
        .unwrap_or(&Value::Null);
    let event = Event {
        id: text(&raw["id"]).unwrap(),
        source: "stripe".to_owned(),
        kind: text(&raw["type"]).unwrap(),
        created: raw["created"].as_i64().unwrap(),
        livemode: raw["livemode"].as_bool().unwrap(),
        api_version: None,
        object_id: text(&object["id"]),
        order_id: text(&object["metadata"]["order_id"]),
        links: Vec::new(),
        customer: Customer {
            id: None,
            email: text(&who["email"]).or_else(|| text(&object["receipt_email"])),
            phone: text(&who["phone"]),
            name: text(&who["name"]),
            locales: Vec::new(),
        },
        amount: object["amount"]
            .as_i64()
            .or(object["amount_total"].as_i64()),
        currency: text(&object["currency"]),
        raw: raw.into(),
    };
    let mut context = event.context();
    context["shop"] = json!({"name": shop_name, "support_email": "support@example.com"});
    context["params"] = json!({});
    context
}

/// Each shipped set, its fixture, and a phrase its text must contain.
const SETS: [(&str, &str, &str); 8] = [
    (
        "payment_succeeded",
        "payment_intent.succeeded",
        "payment of $49.98 for order ORDER12345",
    ),
    (
        "payment_failed",
        "payment_intent.payment_failed",
        "Your card has insufficient funds.",
    ),
    (
        "refund_issued",
        "charge.refunded",
        "refunded $49.98 for order ORDER12345",
    ),
    (
        "order_confirmation",
        "checkout.session.completed",
        "510 Townsend Street",
    ),
    (
        "dispute_alert",
        "charge.dispute.created",
        "Evidence due: 2026-10-08 17:59 UTC",
    ),
    (
        "fraud_alert",
        "radar.early_fraud_warning.created",
        "Fraud type:   unauthorized_use_of_card",
    ),
    ("stock_low", "herald.stock_low", "SKU-TEE-M is running low"),
    ("daily_summary", "herald.digest", "Net:       114.95"),
];
/// The sets sent to the shop's team, whose footer does not link the shop.
const INTERNAL: [&str; 4] = ["dispute_alert", "fraud_alert", "stock_low", "daily_summary"];
const PARTS: [TemplatePart; 3] = [
    TemplatePart::Subject,
    TemplatePart::Html,
    TemplatePart::Text,
];

fn shipped() -> Renderer {
    Renderer::load(Path::new(TEMPLATES)).unwrap_or_else(|e| panic!("{e}"))
}

/// The files of the shipped sets that `renderer` lacks. Sets of a shop's own are no
/// concern of this: a shop may add any it likes beside the shipped ones.
fn missing_shipped_parts(renderer: &Renderer) -> Vec<String> {
    SETS.iter()
        .flat_map(|(name, _, _)| PARTS.map(move |part| (name, part)))
        .filter(|(name, part)| !renderer.has(name, *part))
        .map(|(name, part)| format!("{name}.{}.hbs", part.as_str()))
        .collect()
}

/// Copies the shipped templates (and partials) to `<tmp>/templates`.
fn copy_of_shipped() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("templates");
    for sub in ["", "partials"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
        for entry in fs::read_dir(Path::new(TEMPLATES).join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                fs::copy(&path, dir.join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    (tmp, dir)
}

#[test]
fn shipped_templates_load_with_every_part() {
    let renderer = shipped();
    assert_eq!(missing_shipped_parts(&renderer), Vec::<String>::new());
    let names = renderer.names();
    for (name, _, _) in SETS {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
}

#[test]
fn a_shops_own_set_beside_the_shipped_ones_is_accepted() {
    let (_tmp, dir) = copy_of_shipped();
    fs::write(
        dir.join("gift_card.subject.hbs"),
        "A gift from {{shop.name}}",
    )
    .unwrap();
    fs::write(dir.join("gift_card.txt.hbs"), "Enjoy it.").unwrap();
    let renderer = Renderer::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(missing_shipped_parts(&renderer), Vec::<String>::new());
    assert!(renderer.names().contains(&"gift_card".to_owned()));
    assert_eq!(renderer.names().len(), shipped().names().len() + 1);
    let context = json!({ "shop": { "name": "Example Shop" } });
    assert_eq!(
        renderer
            .render("gift_card", TemplatePart::Subject, &context)
            .unwrap(),
        "A gift from Example Shop"
    );
}

#[test]
fn a_shipped_set_missing_a_part_is_named() {
    let (_tmp, dir) = copy_of_shipped();
    fs::remove_file(dir.join("refund_issued.txt.hbs")).unwrap();
    let renderer = Renderer::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(missing_shipped_parts(&renderer), ["refund_issued.txt.hbs"]);
}

#[test]
fn shipped_templates_render_their_fixtures() {
    let renderer = shipped();
    for (name, fixture, phrase) in SETS {
        let context = context(fixture, "Example Shop");
        let render = |part| {
            renderer
                .render(name, part, &context)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (subject, html, text) = (render(PARTS[0]), render(PARTS[1]), render(PARTS[2]));
        assert!(
            subject.contains("Example Shop") && !subject.contains('\n'),
            "{subject}"
        );
        for body in [&html, &text] {
            // An early fraud warning names no amount (only its charge does), nor
            // does a stock level; a summary gives totals.
            assert!(
                ["fraud_alert", "stock_low", "daily_summary"].contains(&name)
                    || body.contains("$49.98"),
                "{name}: {body}"
            );
            assert!(body.contains("Example Shop"), "{name}: {body}");
        }
        assert!(text.contains(phrase), "{name}: {text}");
        assert!(
            html.starts_with("<!DOCTYPE html>") && !text.contains("<p>"),
            "{name}"
        );
    }
}

#[test]
fn shipped_templates_render_without_optional_fields() {
    let renderer = shipped();
    for (name, fixture, _) in SETS {
        let mut context = context(fixture, "Example Shop");
        context["order_id"] = Value::Null;
        // herald's own events carry the order in their object.
        if let Some(order) = context["data"]["object"].get_mut("order_id") {
            *order = Value::Null;
        }
        context["customer"] = json!({"email": null, "phone": null, "name": null});
        context["shop"]["url"] = json!("https://shop.example.com");
        for part in PARTS {
            let out = renderer
                .render(name, part, &context)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!out.contains("ORDER12345"), "{name}: {out}");
        }
        let text = renderer.render(name, TemplatePart::Text, &context).unwrap();
        assert!(
            INTERNAL.contains(&name) || text.contains("https://shop.example.com"),
            "{name}"
        );
    }
    // A session with no shipping details nor name, a payment with no error message.
    let expired = context("checkout.session.expired", "Example Shop");
    let text = renderer
        .render("order_confirmation", TemplatePart::Text, &expired)
        .unwrap();
    assert!(
        text.starts_with("Hello,") && !text.contains("ship it to"),
        "{text}"
    );
    let succeeded = context("payment_intent.succeeded", "Example Shop");
    let text = renderer
        .render("payment_failed", TemplatePart::Text, &succeeded)
        .unwrap();
    assert!(!text.contains("Your bank said"), "{text}");
}

#[test]
fn shipped_templates_escape_html_but_not_text() {
    let renderer = shipped();
    for (name, fixture, _) in SETS {
        let context = context(fixture, "Tom & Jerry's");
        let html = renderer.render(name, TemplatePart::Html, &context).unwrap();
        assert!(html.contains("Tom &amp; Jerry&#x27;s"), "{name}: {html}");
        assert!(!html.contains("Tom & Jerry"), "{name}: {html}");
        for part in [TemplatePart::Subject, TemplatePart::Text] {
            let out = renderer.render(name, part, &context).unwrap();
            assert!(
                out.contains("Tom & Jerry's") && !out.contains("&amp;"),
                "{name}: {out}"
            );
        }
    }
}

/// The messages of [`Renderer::problems`].
fn problems(renderer: &Renderer, source: Source<'_>, context: &Value) -> Vec<String> {
    renderer
        .problems(source, context)
        .into_iter()
        .map(|RenderError(message)| message)
        .collect()
}

#[test]
fn the_probe_names_every_missing_field_at_once_with_its_position() {
    let (_tmp, loaded) = load(&[(
        "a.txt.hbs",
        "{{customer.nmae}}\n{{#if gone}}{{gone}}{{/if}} {{shop.support_email}}\n{{customer.name}}",
    )]);
    let renderer = loaded.unwrap();
    let context = json!({"customer": {"name": "Jenny"}, "shop": {}});
    let found = problems(&renderer, Source::Set("a", TemplatePart::Text), &context);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0]
            .ends_with("templates/a.txt.hbs:1:1: `customer.nmae` is not in the data (strict mode)"),
        "{found:?}"
    );
    assert!(found[1].contains("a.txt.hbs:2:"), "{found:?}");
    assert!(found[1].contains("`shop.support_email`"), "{found:?}");
    // The caller's context is left as it was; a template that renders has none.
    assert_eq!(context["shop"], json!({}));
    let fine = json!({"customer": {"name": "J", "nmae": "J"}, "shop": {"support_email": "s"}});
    assert!(problems(&renderer, Source::Set("a", TemplatePart::Text), &fine).is_empty());
}

#[test]
fn the_probe_stops_where_a_placeholder_cannot_help() {
    let (_tmp, loaded) = load(&[(
        "a.txt.hbs",
        "{{#each list}}{{nmae}}{{/each}}{{money amount currency}}",
    )]);
    let renderer = loaded.unwrap();
    // A field missing inside a block is relative to it: named once, no endless retry.
    let found = problems(
        &renderer,
        Source::Set("a", TemplatePart::Text),
        &json!({"list": [{"name": "x"}], "currency": "usd"}),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`nmae`"), "{found:?}");
    // A helper's own error comes first and alone.
    let found = problems(
        &renderer,
        Source::Set("a", TemplatePart::Text),
        &json!({"list": [], "amount": "x", "currency": "usd"}),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    // A set or part that does not exist is the error delivery would give.
    let found = problems(&renderer, Source::Set("a", TemplatePart::Html), &json!({}));
    assert!(found[0].starts_with("no template "), "{found:?}");
}

#[test]
fn the_probe_renders_inline_templates_and_fills_through_null() {
    let (_tmp, renderer) = empty();
    let found = problems(
        &renderer,
        Source::Inline("{{customer.emial}} {{order.id}}"),
        &json!({"customer": {"email": "j@x"}, "order": null}),
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("inline template line 1, column 1: `customer.emial`"),
        "{found:?}"
    );
    assert!(found[1].contains("`order.id`"), "{found:?}");
}

#[test]
fn the_shipped_sms_text_fits_one_segment() {
    let context = context("payment_intent.succeeded", "Example Shop");
    let text = shipped()
        .render("payment_succeeded_sms", TemplatePart::Text, &context)
        .unwrap_or_else(|e| panic!("{e}"));
    let text = text.trim();
    assert!(
        text.contains("$49.98") && text.contains("ORDER12345"),
        "{text}"
    );
    assert!(
        text.chars().count() <= 160,
        "{} characters: {text}",
        text.chars().count()
    );
    assert!(text.is_ascii(), "GSM-7 friendly: {text}");
}
