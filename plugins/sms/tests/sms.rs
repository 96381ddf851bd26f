//! The sms plugin end to end: config → build → deliver, against HTTP sinks on 127.0.0.1.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use herald_plugin_api::{
    BuildContext, Customer, Event, Instance, Outcome, Plugin, PluginConfig, TemplatePart,
    Templates, ValidateContext,
};
use herald_plugin_sms::{validate_action, SmsConfig};
use herald_testkit::{
    assert_failed, canned, closed_port, form_fields, params, Attempt, HttpSink, Recorded,
    TemplateFiles,
};
use serde_json::{json, Map, Value};

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "stripe:evt_1:sms_paid:0";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tw-auth-token";

/// Two `.txt.hbs` files held in memory.
fn files() -> Arc<dyn Templates> {
    Arc::new(
        TemplateFiles::default()
            .with(
                "order_paid",
                TemplatePart::Text,
                "Order {{order_id}} is paid, {{customer.name}}. Thanks!",
            )
            .with("blank", TemplatePart::Text, "  {{customer.email}}  "),
    )
}

fn event(phone: Option<&str>) -> Event {
    Event {
        customer: Customer {
            id: None,
            email: Some(String::new()),
            phone: phone.map(str::to_owned),
            name: Some("Ada".into()),
            locales: Vec::new(),
        },
        ..herald_testkit::event("payment_intent.succeeded", json!({ "id": "pi_1" }))
    }
}

async fn deliver(plugin: &dyn Plugin, params: &Map<String, Value>, phone: Option<&str>) -> Outcome {
    let attempt = Attempt::first("sms_paid", KEY);
    herald_testkit::deliver(plugin, &event(phone), params, attempt).await
}

const KEY_SID: &str = "SK00112233445566778899aabbccddeeff";
const KEY_SECRET: &str = "tw-api-key-secret";

fn env() -> HashMap<String, String> {
    HashMap::from([
        ("TWILIO_ACCOUNT_SID".to_owned(), SID.to_owned()),
        ("TWILIO_AUTH_TOKEN".to_owned(), TOKEN.to_owned()),
        ("TWILIO_API_KEY_SID".to_owned(), KEY_SID.to_owned()),
        ("TWILIO_API_KEY_SECRET".to_owned(), KEY_SECRET.to_owned()),
    ])
}

async fn plugin_from(config: Value) -> Arc<dyn Plugin> {
    let config: SmsConfig = serde_json::from_value(config).expect("config deserializes");
    let env = env();
    let valid = config
        .validate(&ValidateContext::new("plugins.sms.test", &env))
        .expect("valid");
    valid
        .build(&BuildContext::new(files()).for_instance("test"))
        .await
        .expect("plugin builds")
}

fn twilio_config(base: &str) -> Value {
    json!({
        "provider": "twilio",
        "account_sid": "${TWILIO_ACCOUNT_SID}",
        "auth_token": "${TWILIO_AUTH_TOKEN}",
        "from": "+14155550100",
        "api_base": base,
        "timeout_secs": 5,
    })
}

fn issues(config: Value) -> Vec<String> {
    let config: SmsConfig = serde_json::from_value(config).expect("config deserializes");
    let env = env();
    let templates = files();
    let cx = ValidateContext::new("plugins.sms.test", &env).with_templates(templates.as_ref());
    match config.validate(&cx) {
        Ok(_) => Vec::new(),
        Err(issues) => issues.iter().map(ToString::to_string).collect(),
    }
}

fn form(request: &Recorded) -> HashMap<String, String> {
    form_fields(&request.body)
}

#[tokio::test]
async fn twilio_wire_format_is_the_messages_api() {
    let sink = HttpSink::start().await;
    sink.set_status(201);
    let plugin = plugin_from(twilio_config(&sink.url())).await;
    let action = params(json!({ "template": "order_paid" }));
    let outcome = deliver(plugin.as_ref(), &action, Some("+1 (415) 555-0199")).await;
    assert_eq!(outcome, Outcome::Delivered);

    let sent = sink.wait_for(1, WAIT).await;
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{SID}/Messages.json")
    );
    let auth = request.header("authorization").expect("authorization");
    let decoded = STANDARD
        .decode(auth.strip_prefix("Basic ").expect("basic auth"))
        .expect("base64");
    assert_eq!(decoded, format!("{SID}:{TOKEN}").as_bytes());
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("idempotency-key"), Some(KEY));
    assert_eq!(request.header("i-twilio-idempotency-token"), Some(KEY));
    let fields = form(request);
    assert_eq!(fields.len(), 3, "{fields:?}");
    assert_eq!(fields["To"], "+14155550199");
    assert_eq!(fields["From"], "+14155550100");
    assert_eq!(fields["Body"], "Order 42 is paid, Ada. Thanks!");
}

#[tokio::test]
async fn twilio_messaging_service_and_inline_to() {
    let sink = HttpSink::start().await;
    let mut config = twilio_config(&sink.url());
    config["from"] = Value::Null;
    config["messaging_service_sid"] = json!("MG0123456789abcdef0123456789abcdef");
    let plugin = plugin_from(config).await;
    let action = params(json!({ "template": "order_paid", "to": "+44 20 {{order_id}}46 0958" }));
    assert_eq!(
        deliver(plugin.as_ref(), &action, None).await,
        Outcome::Delivered
    );
    let fields = form(&sink.wait_for(1, WAIT).await[0]);
    assert_eq!(fields["To"], "+442042460958");
    assert_eq!(
        fields["MessagingServiceSid"],
        "MG0123456789abcdef0123456789abcdef"
    );
    assert!(!fields.contains_key("From"));
}

#[test]
fn the_removed_json_provider_names_the_webhook_plugin() {
    let err = serde_json::from_value::<SmsConfig>(json!({
        "provider": "json",
        "url": "https://sms.example.com/send",
    }))
    .expect_err("json is refused");
    let text = err.to_string();
    assert!(text.contains("provider = \"json\" was removed"), "{text}");
    assert!(text.contains("[plugins.webhook.<name>]"), "{text}");
    assert!(text.contains("`body` template"), "{text}");
}

#[tokio::test]
async fn bad_numbers_and_empty_texts_fail_without_sending() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(twilio_config(&sink.url())).await;
    let action = params(json!({ "template": "order_paid" }));
    let outcome = deliver(plugin.as_ref(), &action, Some("0415 555 0199")).await;
    assert_failed(&outcome, "not an E.164 phone number: `0415 555 0199`");
    // A `to` template that does not render holds the job for a fix instead.
    herald_testkit::assert_held(
        &deliver(plugin.as_ref(), &action, None).await,
        "`to` template error",
    );
    let blank = params(json!({ "template": "blank" }));
    let outcome = deliver(plugin.as_ref(), &blank, Some("+14155550199")).await;
    assert_failed(&outcome, "rendered an empty message");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn temporary_answers_retry_with_the_hint() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(twilio_config(&sink.url())).await;
    let action = params(json!({ "template": "order_paid" }));
    sink.fail_next(1, 503);
    let outcome = deliver(plugin.as_ref(), &action, Some("+14155550199")).await;
    assert!(
        matches!(outcome, Outcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    sink.set_retry_after(Some("30".into()));
    sink.fail_next(1, 429);
    let outcome = deliver(plugin.as_ref(), &action, Some("+14155550199")).await;
    match outcome {
        Outcome::Retry { after, reason } => {
            assert_eq!(after, Some(Duration::from_secs(30)));
            assert!(reason.contains("429"), "{reason}");
        }
        other => panic!("expected Retry, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_provider_is_retried() {
    let port = closed_port();
    let plugin = plugin_from(twilio_config(&format!("http://127.0.0.1:{port}"))).await;
    let action = params(json!({ "template": "order_paid" }));
    let outcome = deliver(plugin.as_ref(), &action, Some("+14155550199")).await;
    assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
}

#[tokio::test]
async fn twilio_errors_fail_with_code_and_message() {
    let base = canned(
        400,
        r#"{"code": 21211, "message": "The 'To' number +14155550199 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#,
    )
    .await;
    let plugin = plugin_from(twilio_config(&base)).await;
    let action = params(json!({ "template": "order_paid" }));
    let outcome = deliver(plugin.as_ref(), &action, Some("+14155550199")).await;
    assert_failed(
        &outcome,
        "400 Bad Request: Twilio error 21211: The 'To' number",
    );
}

#[test]
fn validation_names_every_problem() {
    let found = issues(json!({
        "provider": "twilio",
        "account_sid": "${NOT_SET}",
        "auth_token": "inline-secret",
        "from": "415-555-0100",
        "messaging_service_sid": "MG1",
        "max_concurrency": 0,
    }));
    let text = found.join("\n");
    for needle in [
        "plugins.sms.test.account_sid: environment variable `NOT_SET` is not set",
        "plugins.sms.test.auth_token: must be a `${VAR}` reference",
        "plugins.sms.test.from: set either `from` or `messaging_service_sid`",
        "plugins.sms.test.max_concurrency: must be at least 1",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("inline-secret"), "{text}");

    let text = issues(json!({
        "provider": "twilio",
        "account_sid": "SK0123456789abcdef0123456789abcdef",
        "auth_token": "${TWILIO_AUTH_TOKEN}",
        "from": "0415 555 0100",
        "api_base": "ftp://api.example.com",
    }))
    .join("\n");
    assert!(
        text.contains("account_sid: is not a Twilio Account SID"),
        "{text}"
    );
    assert!(text.contains("from: not an E.164 phone number"), "{text}");
    assert!(
        text.contains("api_base: `ftp://api.example.com` uses the `ftp` scheme"),
        "{text}"
    );

    // The JSON gateway's keys went with it: they are unknown now.
    let unknown = serde_json::from_value::<SmsConfig>(json!({
        "provider": "twilio",
        "url": "https://x.example.com",
    }));
    assert!(unknown.is_err());
}

#[test]
fn validated_config_hides_the_token() {
    let config: SmsConfig = serde_json::from_value(twilio_config(TWILIO_DEFAULT)).expect("config");
    let valid = config
        .validate(&ValidateContext::new("plugins.sms.test", &env()))
        .expect("valid");
    assert_eq!(valid.max_concurrency, 8);
    assert_eq!(valid.timeout, Duration::from_secs(5));
    assert!(!format!("{valid:?}").contains(TOKEN));
}

const TWILIO_DEFAULT: &str = "https://api.twilio.com";

#[test]
fn actions_are_checked_at_start_up() {
    let templates = files();
    let ok = params(json!({ "template": "order_paid", "to": "{{customer.phone}}" }));
    assert_eq!(validate_action(&ok, templates.as_ref()), Ok(()));
    let errors = validate_action(&params(json!({ "template": "nope" })), templates.as_ref())
        .expect_err("missing template");
    assert!(errors[0].contains("templates/nope.txt.hbs"), "{errors:?}");
    let errors = validate_action(
        &params(json!({ "to": 5, "extra": "x" })),
        templates.as_ref(),
    )
    .expect_err("bad params");
    assert_eq!(errors.len(), 3, "{errors:?}");
    let errors = validate_action(
        &params(json!({ "template": "order_paid", "to": "{{customer.phone" })),
        templates.as_ref(),
    )
    .expect_err("bad to");
    assert!(
        errors[0].contains("`to` is not a valid template"),
        "{errors:?}"
    );
}

/// The Messages API's form parameters herald sends, as Twilio's "Messages resource" page
/// (https://www.twilio.com/docs/messaging/api/message-resource) names them.
const DOCUMENTED_FIELDS: [&str; 5] = [
    "To",
    "From",
    "MessagingServiceSid",
    "Body",
    "StatusCallback",
];

fn api_key_config(base: &str) -> Value {
    json!({
        "provider": "twilio",
        "account_sid": "${TWILIO_ACCOUNT_SID}",
        "api_key_sid": "${TWILIO_API_KEY_SID}",
        "api_key_secret": "${TWILIO_API_KEY_SECRET}",
        "from": "+14155550100",
        "status_callback": "https://shop.example.com/twilio/status?order={{order_id}}",
        "api_base": base,
    })
}

#[tokio::test]
async fn api_key_auth_and_status_callback_on_the_wire() {
    let sink = HttpSink::start().await;
    sink.set_status(201);
    let plugin = plugin_from(api_key_config(&sink.url())).await;
    let action = params(json!({ "template": "order_paid" }));
    let outcome = deliver(plugin.as_ref(), &action, Some("+14155550199")).await;
    assert_eq!(outcome, Outcome::Delivered);
    let request = &sink.wait_for(1, WAIT).await[0];
    // The account stays in the path; the key authenticates.
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{SID}/Messages.json")
    );
    let auth = request.header("authorization").expect("authorization");
    let decoded = STANDARD
        .decode(auth.strip_prefix("Basic ").expect("basic auth"))
        .expect("base64");
    assert_eq!(decoded, format!("{KEY_SID}:{KEY_SECRET}").as_bytes());
    let fields = form(request);
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["Body", "From", "StatusCallback", "To"]);
    assert!(names.iter().all(|name| DOCUMENTED_FIELDS.contains(name)));
    assert_eq!(
        fields["StatusCallback"],
        "https://shop.example.com/twilio/status?order=42"
    );
    assert_eq!(fields["To"], "+14155550199");
    assert_eq!(fields["Body"], "Order 42 is paid, Ada. Thanks!");
}

#[tokio::test]
async fn a_status_callback_that_renders_to_no_url_fails_without_sending() {
    let sink = HttpSink::start().await;
    let mut config = api_key_config(&sink.url());
    config["status_callback"] = json!("{{customer.name}}");
    let plugin = plugin_from(config).await;
    let action = params(json!({ "template": "order_paid" }));
    let outcome = deliver(plugin.as_ref(), &action, Some("+14155550199")).await;
    assert_failed(
        &outcome,
        "`status_callback` rendered to `Ada`, not an http(s) URL",
    );
    assert!(sink.received().is_empty());
}

#[test]
fn an_api_key_or_the_auth_token_one_of_the_two() {
    let base = |extra: Value| {
        let mut config = json!({
            "provider": "twilio", "account_sid": SID, "from": "+14155550100",
        });
        for (key, value) in extra.as_object().expect("object") {
            config[key] = value.clone();
        }
        issues(config).join("\n")
    };
    let text = base(json!({
        "auth_token": "${TWILIO_AUTH_TOKEN}", "api_key_sid": KEY_SID,
        "api_key_secret": "${TWILIO_API_KEY_SECRET}",
    }));
    assert!(
        text.contains("auth_token: set either `auth_token` or `api_key_sid`"),
        "{text}"
    );
    let text = base(json!({ "api_key_sid": KEY_SID }));
    assert!(
        text.contains("api_key_secret: is required with `api_key_sid`"),
        "{text}"
    );
    let text = base(json!({ "api_key_secret": "${TWILIO_API_KEY_SECRET}" }));
    assert!(
        text.contains("api_key_sid: is required with `api_key_secret`"),
        "{text}"
    );
    let text = base(json!({}));
    assert!(
        text.contains("api_key_sid: is required: an API key"),
        "{text}"
    );
    let text = base(json!({ "api_key_sid": SID, "api_key_secret": "inline-secret" }));
    assert!(
        text.contains("api_key_sid: is an Account SID; an API key's SID starts with `SK`"),
        "{text}"
    );
    assert!(
        text.contains("api_key_secret: must be a `${VAR}` reference"),
        "{text}"
    );
    assert!(!text.contains("inline-secret"), "{text}");
    let text = base(json!({
        "auth_token": "${TWILIO_AUTH_TOKEN}", "status_callback": "ftp://status.example.com",
    }));
    assert!(
        text.contains("status_callback: `ftp://status.example.com` uses the `ftp` scheme"),
        "{text}"
    );
    let text = base(json!({
        "auth_token": "${TWILIO_AUTH_TOKEN}", "status_callback": "https://x.example/{{order_id",
    }));
    assert!(
        text.contains("status_callback: is not a valid template"),
        "{text}"
    );

    let config: SmsConfig = serde_json::from_value(api_key_config(TWILIO_DEFAULT)).expect("config");
    let valid = config
        .validate(&ValidateContext::new("plugins.sms.test", &env()))
        .expect("valid");
    let shown = format!("{valid:?}");
    assert!(
        shown.contains(KEY_SID) && !shown.contains(KEY_SECRET),
        "{shown}"
    );
    assert_eq!(
        valid.describe(),
        "sends texts through Twilio with an API key"
    );
}

#[test]
fn route_previews_the_status_callback() {
    let config: SmsConfig = serde_json::from_value(api_key_config(TWILIO_DEFAULT)).expect("config");
    let valid = config
        .validate(&ValidateContext::new("plugins.sms.test", &env()))
        .expect("valid");
    let event = event(Some("+14155550199"));
    let action = params(json!({ "template": "order_paid" }));
    let context = herald_plugin_api::Context::of_value(event.context());
    let job = herald_testkit::job(&event, &action, &context, Attempt::first("sms_paid", KEY));
    let preview = valid
        .preview(&job, files().as_ref())
        .expect("sms previews")
        .expect("composes");
    let callback = preview
        .lines
        .iter()
        .find(|(label, _)| label == "status callback")
        .map(|(_, value)| value.as_str());
    assert_eq!(
        callback,
        Some("https://shop.example.com/twilio/status?order=42")
    );
    assert!(!format!("{preview:?}").contains(KEY_SECRET));
}
