//! The email plugin end to end: config → build → deliver, through the outbox folder and
//! through a real SMTP conversation with the in-process sink on 127.0.0.1.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{
    BuildContext, Customer, Event, Instance, Outcome, Plugin, PluginConfig, TemplatePart,
    Templates, ValidateContext,
};
use herald_plugin_email::{message_token, EmailConfig};
use herald_testkit::{
    assert_failed, assert_held, assert_retry, closed_port, params, Attempt, DataReply, SmtpSink,
    TemplateFiles,
};
use serde_json::{json, Map, Value};

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "stripe:evt_1:payment_succeeded:0";

fn templates() -> Arc<dyn Templates> {
    Arc::new(
        TemplateFiles::default()
            .with(
                "paid",
                TemplatePart::Subject,
                "Order {{order_id}}\n  paid\n",
            )
            .with(
                "paid",
                TemplatePart::Text,
                "Hi {{customer.name}},\r\n.a line that starts with a dot\r\nThanks!\r\n",
            )
            .with("paid", TemplatePart::Html, "<p>Hi {{customer.name}}</p>")
            .with("html_only", TemplatePart::Subject, "Receipt")
            .with(
                "html_only",
                TemplatePart::Html,
                "<p>Receipt {{order_id}}</p>",
            )
            .with("broken", TemplatePart::Subject, "{{no.such.field}}")
            .with("broken", TemplatePart::Text, "body"),
    )
}

fn event() -> Event {
    Event {
        customer: Customer::default(),
        ..herald_testkit::event("payment_intent.succeeded", json!({ "id": "pi_1" }))
    }
}

fn context(email: &str) -> Value {
    json!({ "order_id": "42", "customer": { "email": email, "name": "Ada" } })
}

fn paid_action() -> Map<String, Value> {
    params(json!({ "template": "paid", "to": "{{customer.email}}" }))
}

/// Delivers one job with the given pieces.
async fn deliver(
    plugin: &dyn Plugin,
    params: &Map<String, Value>,
    context: &Value,
    key: &str,
) -> Outcome {
    let attempt = Attempt::first("payment_succeeded", key);
    herald_testkit::deliver_in_context(plugin, &event(), params, context.clone(), attempt).await
}

/// Delivers the paid action for ada@example.com under [`KEY`].
async fn deliver_paid(plugin: &Arc<dyn Plugin>) -> Outcome {
    deliver(
        plugin.as_ref(),
        &paid_action(),
        &context("ada@example.com"),
        KEY,
    )
    .await
}

async fn plugin_from(config: Value, base_dir: &Path) -> Arc<dyn Plugin> {
    let env = HashMap::from([("SMTP_PASS".to_owned(), "hunter2".to_owned())]);
    let config: EmailConfig = serde_json::from_value(config).expect("config deserializes");
    let cx = ValidateContext::new("plugins.email.customer_mail", &env).with_base_dir(base_dir);
    let valid = config.validate(&cx).expect("config is valid");
    valid
        .build(&BuildContext::new(templates()).for_instance("customer_mail"))
        .await
        .expect("plugin builds")
}

async fn smtp_plugin(port: u16, extra: Value) -> Arc<dyn Plugin> {
    let mut config = json!({
        "transport": "smtp",
        "from": "Example Shop <shop@example.com>",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout_secs": 5,
    });
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
    plugin_from(config, Path::new("/")).await
}

#[tokio::test]
async fn file_transport_writes_one_eml_per_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = plugin_from(
        json!({ "from": "Example Shop <shop@example.com>" }),
        dir.path(),
    )
    .await;
    let outbox = dir.path().join("outbox");
    plugin.healthcheck().await.expect("outbox is writable");

    let outcome = deliver_paid(&plugin).await;
    assert_eq!(outcome, Outcome::Delivered);

    let token = message_token(KEY);
    assert_eq!(
        herald_testkit::file_names(&outbox),
        [format!("{token}.eml")]
    );
    let eml = std::fs::read_to_string(outbox.join(format!("{token}.eml"))).expect("read eml");
    // lettre quotes display names.
    assert!(
        eml.contains("From: \"Example Shop\" <shop@example.com>\r\n"),
        "{eml}"
    );
    assert!(eml.contains("To: ada@example.com\r\n"), "{eml}");
    assert!(eml.contains("Subject: Order 42 paid\r\n"), "{eml}");
    assert!(
        eml.contains(&format!("Message-ID: <{token}@example.com>\r\n")),
        "{eml}"
    );
    assert!(
        eml.contains(&format!("X-Herald-Idempotency-Key: {KEY}\r\n")),
        "{eml}"
    );
    assert!(eml.contains("Date: "), "{eml}");
    assert!(eml.contains("multipart/alternative"), "{eml}");
    assert!(
        eml.contains("text/plain") && eml.contains("text/html"),
        "{eml}"
    );
    assert!(eml.contains("<p>Hi Ada</p>"), "{eml}");

    // A redelivery of the same job replaces the file; another job adds one.
    let again = deliver_paid(&plugin).await;
    assert_eq!(again, Outcome::Delivered);
    assert_eq!(herald_testkit::file_names(&outbox).len(), 1);
    let other_key = "stripe:evt_2:payment_succeeded:0";
    deliver(
        plugin.as_ref(),
        &paid_action(),
        &context("ada@example.com"),
        other_key,
    )
    .await;
    assert_eq!(herald_testkit::file_names(&outbox).len(), 2);
}

#[tokio::test]
async fn html_only_set_is_a_single_part_and_action_reply_to_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = json!({
        "from": "shop@example.com", "reply_to": "noreply@example.com", "outbox": "mail",
    });
    let plugin = plugin_from(config, dir.path()).await;
    let action = params(json!({
        "template": "html_only", "to": "{{customer.email}}", "reply_to": "help@example.com",
    }));
    let outcome = deliver(plugin.as_ref(), &action, &context("ada@example.com"), KEY).await;
    assert_eq!(outcome, Outcome::Delivered);

    let eml = std::fs::read_to_string(
        dir.path()
            .join("mail")
            .join(format!("{}.eml", message_token(KEY))),
    )
    .expect("read eml");
    assert!(eml.contains("Reply-To: help@example.com\r\n"), "{eml}");
    assert!(!eml.contains("noreply@example.com"), "{eml}");
    assert!(eml.contains("Content-Type: text/html"), "{eml}");
    assert!(!eml.contains("multipart"), "{eml}");
}

#[tokio::test]
async fn smtp_delivers_envelope_headers_and_both_parts() {
    let sink = SmtpSink::start().await;
    let plugin = smtp_plugin(
        sink.port(),
        json!({ "username": "mailer", "password": "${SMTP_PASS}" }),
    )
    .await;
    plugin.healthcheck().await.expect("sink answers NOOP");

    let outcome = deliver_paid(&plugin).await;
    assert_eq!(outcome, Outcome::Delivered);

    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "shop@example.com");
    assert_eq!(mail.rcpt_to, ["ada@example.com"]);
    assert_eq!(mail.auth_user.as_deref(), Some("mailer"));
    assert_eq!(mail.header("Subject").as_deref(), Some("Order 42 paid"));
    assert_eq!(
        mail.header("X-Herald-Idempotency-Key").as_deref(),
        Some(KEY)
    );
    let message_id = format!("<{}@example.com>", message_token(KEY));
    assert_eq!(mail.header("Message-ID"), Some(message_id));
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    assert!(mail.data.contains("<p>Hi Ada</p>"), "{}", mail.data);
    // The leading dot survived lettre's dot-stuffing and the sink's unstuffing.
    assert!(
        mail.data.contains("\r\n.a line that starts with a dot\r\n"),
        "{}",
        mail.data
    );

    // A second job goes out too (through the pooled connection).
    let second = deliver(
        plugin.as_ref(),
        &paid_action(),
        &context("bob@example.com"),
        "k2",
    )
    .await;
    assert_eq!(second, Outcome::Delivered);
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails[1].rcpt_to, ["bob@example.com"]);
}

#[tokio::test]
async fn smtp_4xx_is_retried() {
    let sink = SmtpSink::start_with(DataReply::TempFail).await;
    let plugin = smtp_plugin(sink.port(), json!({})).await;
    let outcome = deliver_paid(&plugin).await;
    assert_retry(&outcome, "451");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn rejected_credentials_are_retried_so_fixing_them_loses_nothing() {
    let sink = SmtpSink::start_with(DataReply::RejectAuth).await;
    let plugin = smtp_plugin(
        sink.port(),
        json!({ "username": "mailer", "password": "${SMTP_PASS}" }),
    )
    .await;
    let outcome = deliver_paid(&plugin).await;
    assert_retry(&outcome, "535");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn smtp_5xx_fails_with_the_server_text() {
    let sink = SmtpSink::start_with(DataReply::PermFail).await;
    let plugin = smtp_plugin(sink.port(), json!({})).await;
    let outcome = deliver_paid(&plugin).await;
    assert_failed(&outcome, "554");
    assert_failed(&outcome, "Message rejected by policy");
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let port = closed_port();
    let plugin = smtp_plugin(port, json!({})).await;
    let outcome = deliver_paid(&plugin).await;
    assert_retry(&outcome, &format!("127.0.0.1:{port}"));
    assert!(plugin.healthcheck().await.is_err());
}

#[tokio::test]
async fn a_server_that_stops_answering_is_retried_after_the_timeout() {
    let sink = SmtpSink::start_with(DataReply::Hang).await;
    let plugin = smtp_plugin(sink.port(), json!({ "timeout_secs": 1 })).await;
    let outcome = deliver_paid(&plugin).await;
    assert_retry(&outcome, "did not finish within 1s");
}

#[tokio::test]
async fn bad_recipients_fail_without_sending() {
    let sink = SmtpSink::start().await;
    let plugin = smtp_plugin(sink.port(), json!({})).await;

    let invalid = deliver(
        plugin.as_ref(),
        &paid_action(),
        &context("not-an-address"),
        KEY,
    )
    .await;
    assert_failed(&invalid, "`not-an-address`");
    let empty = deliver(plugin.as_ref(), &paid_action(), &context("  "), KEY).await;
    assert_failed(&empty, "empty address");
    let two = deliver(
        plugin.as_ref(),
        &paid_action(),
        &context("a@example.com, b@example.com"),
        KEY,
    )
    .await;
    assert_failed(&two, "not a valid email address");
    assert!(sink.received().is_empty());
}

/// A template that does not render is herald's problem, not the event's: the job is
/// held for a fix (it used to become a dead letter). A bad parameter still fails.
#[tokio::test]
async fn template_errors_hold_the_job_and_parameter_errors_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = plugin_from(json!({ "from": "shop@example.com" }), dir.path()).await;

    let broken = params(json!({ "template": "broken", "to": "{{customer.email}}" }));
    let outcome = deliver(plugin.as_ref(), &broken, &context("ada@example.com"), KEY).await;
    assert_held(&outcome, "template error: missing field `no.such.field`");

    let missing = params(json!({ "template": "nope", "to": "{{customer.email}}" }));
    let outcome = deliver(plugin.as_ref(), &missing, &context("ada@example.com"), KEY).await;
    assert_held(&outcome, "template `nope` not found");

    let typo = params(json!({ "tmplate": "paid", "to": "{{customer.email}}" }));
    let outcome = deliver(plugin.as_ref(), &typo, &context("ada@example.com"), KEY).await;
    assert_failed(&outcome, "unknown key `tmplate`");
    assert!(herald_testkit::file_names(&dir.path().join("outbox")).is_empty());
}

/// The header lines of a raw message, unfolded lines as they came.
fn header_lines(data: &str) -> Vec<&str> {
    data.split("\r\n")
        .take_while(|line| !line.is_empty())
        .collect()
}

#[tokio::test]
async fn header_lines_stay_within_998_characters_whatever_the_event_holds() {
    let sink = SmtpSink::start().await;
    let plugin = smtp_plugin(sink.port(), json!({})).await;
    // A 10 KB event id in the key, a 100 KB order id in the subject, a 10 KB name in To.
    let key = format!("stripe:evt_{}:payment_succeeded:0", "1".repeat(10_000));
    let order_id = "9".repeat(100_000);
    let context = json!({
        "order_id": order_id,
        "customer": { "email": "ada@example.com", "name": "A".repeat(10_000) },
    });
    let action = params(json!({
        "template": "paid",
        "to": "{{customer.name}} <{{customer.email}}>",
    }));
    let outcome = deliver(plugin.as_ref(), &action, &context, &key).await;
    assert_eq!(outcome, Outcome::Delivered);

    let mail = &sink.wait_for(1, WAIT).await[0];
    let lines = header_lines(&mail.data);
    assert!(lines.len() > 5, "{lines:?}");
    for line in &lines {
        assert!(
            line.len() <= 998,
            "{} characters: {}",
            line.len(),
            &line[..80]
        );
    }
    assert_eq!(mail.rcpt_to, ["ada@example.com"]);
    let subject = mail.header("Subject").expect("subject");
    assert!(subject.starts_with("Order 9999"), "{subject}");
    assert!(
        subject.ends_with("..."),
        "{}",
        &subject[subject.len() - 20..]
    );
    let sent_key = mail.header("X-Herald-Idempotency-Key").expect("key");
    assert!(sent_key.starts_with("stripe:evt_111"), "{sent_key}");
    assert!(sent_key.contains("...sha256:"), "{sent_key}");
    // The Message-ID is the key's hash, short whatever the key.
    let message_id = format!("<{}@example.com>", message_token(&key));
    assert_eq!(mail.header("Message-ID"), Some(message_id));
}

#[tokio::test]
async fn a_huge_bad_address_gives_a_short_reason() {
    let sink = SmtpSink::start().await;
    let plugin = smtp_plugin(sink.port(), json!({})).await;
    let email = format!("ada@{}", "x".repeat(100_000));
    let outcome = deliver(plugin.as_ref(), &paid_action(), &context(&email), KEY).await;
    assert_failed(&outcome, "not a valid email address");
    let Outcome::Failed { reason } = outcome else {
        unreachable!()
    };
    assert!(reason.len() < 400, "{} bytes", reason.len());
}
