use herald_plugin_api::{Context, Event};
use herald_testkit::{params, Attempt, FakeTemplates};
use serde_json::{json, Map};

use super::*;

fn event(object: Value) -> Event {
    herald_testkit::event("checkout.session.completed", object)
}

/// A first attempt of rule `ship` on `event`.
fn job<'a>(event: &'a Event, params: &'a Map<String, Value>, context: &'a Context<'a>) -> Job<'a> {
    herald_testkit::job(
        event,
        params,
        context,
        Attempt::first("ship", "stripe:evt_1:ship:0"),
    )
}

fn compose_with(base: &str, params: Value, context: Value) -> Result<Request, ComposeError> {
    let event = event(json!({ "id": "cs_1" }));
    let params = self::params(params);
    let context = Context::of_value(context);
    let job = job(&event, &params, &context);
    let base = Url::parse(base).expect("base url");
    compose(&job, &base, &FakeTemplates)
}

fn url_of(base: &str, path: &str, order_id: &str) -> String {
    compose_with(
        base,
        json!({ "path": path }),
        json!({ "order_id": order_id }),
    )
    .expect("composes")
    .url
    .to_string()
}

#[test]
fn appends_the_path_to_the_base() {
    let path = "/orders/{{order_id}}/ship";
    let expected = "https://ship.example.com/hooks/orders/42/ship";
    assert_eq!(
        url_of("https://ship.example.com/hooks", path, "42"),
        expected
    );
    assert_eq!(
        url_of("https://ship.example.com/hooks/", path, "42"),
        expected
    );
    assert_eq!(
        url_of("https://ship.example.com", path, "42"),
        "https://ship.example.com/orders/42/ship"
    );
    assert_eq!(
        url_of("https://ship.example.com/in?k=v", path, "42"),
        "https://ship.example.com/in/orders/42/ship?k=v"
    );
    assert_eq!(
        url_of("https://ship.example.com/in", "/orders/", "42"),
        "https://ship.example.com/in/orders/"
    );
    let none = compose_with("https://ship.example.com/in?k=v", json!({}), json!({}));
    assert_eq!(
        none.expect("composes").url.as_str(),
        "https://ship.example.com/in?k=v"
    );
}

#[test]
fn rendered_values_cannot_escape_their_segment() {
    let base = "https://ship.example.com/hooks";
    assert_eq!(
        url_of(base, "/orders/{{order_id}}/ship", "a/b?c#d%e f"),
        "https://ship.example.com/hooks/orders/a%2Fb%3Fc%23d%25e%20f/ship"
    );
    assert_eq!(
        url_of(base, "/o/{{order_id}}", "@evil.example.com:80"),
        "https://ship.example.com/hooks/o/@evil.example.com:80"
    );
    assert_eq!(
        url_of(base, "/o/x-{{order_id}}", "..").as_str(),
        "https://ship.example.com/hooks/o/x-.."
    );
    for bad in ["", ".", ".."] {
        let err = compose_with(
            base,
            json!({ "path": "/o/{{order_id}}/ship" }),
            json!({ "order_id": bad }),
        )
        .expect_err("refused");
        assert!(
            matches!(err, ComposeError::Segment { .. }),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn a_missing_field_in_the_path_fails() {
    let err = compose_with(
        "https://x.example.com",
        json!({ "path": "/{{nope}}" }),
        json!({}),
    )
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "`path` template error: missing field `nope`"
    );
}

#[test]
fn the_built_in_body_lifts_the_useful_parts() {
    let object = json!({
        "id": "cs_1",
        "shipping_details": { "name": "old" },
        "collected_information": { "shipping_details": { "name": "Ada", "address": { "city": "Oslo" } } },
        "line_items": { "data": [{ "description": "Mug", "quantity": 2 }] },
    });
    let event = event(object.clone());
    let params = params(json!({ "event_type": "order.paid" }));
    let context = Context::of_value(json!({}));
    let job = job(&event, &params, &context);
    let base = Url::parse("https://x.example.com/h").expect("url");
    let request = compose(&job, &base, &FakeTemplates).expect("composes");
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(
        body,
        json!({
            "type": "checkout.session.completed",
            "id": "evt_1",
            "created": 1_700_000_000,
            "order_id": "42",
            "customer": { "email": "ada@example.com", "phone": null, "name": "Ada" },
            "amount": 1999,
            "currency": "usd",
            "shipping": { "name": "Ada", "address": { "city": "Oslo" } },
            "line_items": [{ "description": "Mug", "quantity": 2 }],
            "data": object,
            "event_type": "order.paid",
        })
    );
}

#[test]
fn shipping_falls_back_through_the_stripe_shapes() {
    let shipping = |object: Value| {
        let event = event(object);
        let params = Map::new();
        let context = Context::of_value(Value::Null);
        let job = job(&event, &params, &context);
        let body = default_body(&job, None).expect("serializes");
        serde_json::from_slice::<Value>(&body).expect("json")["shipping"].clone()
    };
    assert_eq!(
        shipping(json!({ "shipping_details": { "name": "a" } })),
        json!({ "name": "a" })
    );
    assert_eq!(
        shipping(json!({ "shipping": { "name": "b" } })),
        json!({ "name": "b" })
    );
    let null_first = json!({ "collected_information": { "shipping_details": null }, "shipping": { "name": "c" } });
    assert_eq!(shipping(null_first), json!({ "name": "c" }));
    assert_eq!(shipping(json!({})), Value::Null);
}

#[test]
fn a_body_template_is_sent_as_rendered_when_it_is_json() {
    let template = "{\"order\": \"{{order_id}}\", \"big\": 12345678901234567890123}\n";
    let request = compose_with(
        "https://x.example.com",
        json!({ "body": template }),
        json!({ "order_id": "42" }),
    )
    .expect("composes");
    assert_eq!(
        request.body,
        b"{\"order\": \"42\", \"big\": 12345678901234567890123}"
    );

    let err = compose_with(
        "https://x.example.com",
        json!({ "body": template }),
        json!({ "order_id": "say \"hi\"" }),
    )
    .expect_err("not json");
    assert!(
        err.to_string()
            .starts_with("`body` did not render to valid JSON"),
        "{err}"
    );
}

#[test]
fn bad_parameters_fail() {
    let err = compose_with("https://x.example.com", json!({ "url": "x" }), json!({}))
        .expect_err("refused");
    assert!(err.to_string().contains("unknown key `url`"), "{err}");
}

/// The built-in body as the tree of the payload gives it (how it was built before it
/// was copied from the text).
fn body_from_tree(event: &Event) -> Value {
    let object = event
        .raw
        .pointer("/data/object")
        .cloned()
        .unwrap_or(Value::Null);
    let field = |pointer: &str| {
        object
            .pointer(pointer)
            .filter(|value| !value.is_null())
            .cloned()
    };
    let shipping = field("/collected_information/shipping_details")
        .or_else(|| field("/shipping_details"))
        .or_else(|| field("/shipping"));
    json!({
        "amount": event.amount,
        "created": event.created,
        "currency": event.currency,
        "customer": event.customer,
        "data": object,
        "id": event.id,
        "line_items": field("/line_items/data"),
        "order_id": event.order_id,
        "shipping": shipping,
        "type": event.kind,
    })
}

#[test]
fn the_built_in_body_from_the_text_holds_what_the_tree_gives_for_every_fixture() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stripe");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let mut event = event(Value::Null);
        event.raw = herald_plugin_api::Payload::from_text(text);
        let params = Map::new();
        // A context that would be wrong if it were read: the text must be.
        let context = Context::of_value(json!({ "data": { "object": "not this" } }));
        let body = default_body(&job(&event, &params, &context), None).expect("body");
        assert!(
            !body.contains(&b'\n'),
            "{}: spacing left in",
            path.display()
        );
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body, body_from_tree(&event), "{}", path.display());
        seen += 1;
    }
    assert!(seen > 10, "the Stripe fixtures are there");
}

#[test]
fn the_built_in_body_keeps_the_object_as_sent() {
    let text = r#"{"data": {"object": {"z": 1, "big": 12345678901234567890123, "a": "\u00e9\"",
        "shipping": null, "shipping_details": {"name": "b"}}}}"#;
    let mut event = event(Value::Null);
    event.raw = herald_plugin_api::Payload::from_text(text.to_owned());
    let params = Map::new();
    let context = Context::of_value(Value::Null);
    let body = default_body(&job(&event, &params, &context), None).expect("body");
    let body = String::from_utf8(body).expect("utf-8");
    assert!(
        body.contains(r#""data":{"z":1,"big":12345678901234567890123,"a":"\u00e9\"","shipping":null,"shipping_details":{"name":"b"}}"#),
        "{body}"
    );
    assert!(body.contains(r#""shipping":{"name":"b"}"#), "{body}");
}

#[test]
fn without_a_payload_the_object_comes_from_the_context() {
    let mut event = event(Value::Null);
    event.raw = herald_plugin_api::Payload::default();
    let params = Map::new();
    let context =
        Context::of_value(json!({ "data": { "object": { "shipping": { "name": "c" } } } }));
    let body = default_body(&job(&event, &params, &context), None).expect("body");
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["data"], json!({ "shipping": { "name": "c" } }));
    assert_eq!(body["shipping"], json!({ "name": "c" }));
}
