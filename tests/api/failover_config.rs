//! `fallback`, `failover_after_secs` and `rate_limit` as written: each mistake
//! named at its line, `herald check` checking a fallback like any action, and
//! `herald route` showing the chain.

use std::path::Path;

use herald::Config;

use crate::helpers::{base_config, run_cli, test_env};

/// Two instances, `mail` (email to the outbox) and `texts` (Twilio), the given
/// lines added to `texts`, and `rule`.
fn config(texts_extra: &str, rule: &str) -> String {
    format!(
        r#"{base}
[plugins.email.mail]
from = "Shop <shop@example.com>"

[plugins.sms.texts]
provider = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "${{HERALD_ADMIN_TOKEN}}"
from = "+14155550100"
{texts_extra}

{rule}
"#,
        base = base_config()
    )
}

const CHAIN: &str = r#"[[rules]]
name = "receipt"
on = ["payment_intent.succeeded"]
actions = [
  { plugin = "mail", template = "payment_succeeded", to = "{{customer.email}}", fallback = [
    { plugin = "texts", template = "payment_succeeded" },
  ] },
]"#;

fn load_err(text: &str) -> String {
    match Config::from_toml(text, Path::new("/etc/herald/config.toml"), &test_env()) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(err) => err.to_string(),
    }
}

/// The 1-based line of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

#[test]
fn a_fallback_chain_and_dispatcher_keys_load() {
    let text = config("rate_limit = \"20/s\"\nfailover_after_secs = 120", CHAIN);
    let config = Config::from_toml(&text, Path::new("/tmp/config.toml"), &test_env())
        .unwrap_or_else(|e| panic!("{e}"));
    let rule = config.reloadable.rules.iter().next().expect("rule");
    let chain: Vec<&str> = rule.actions()[0]
        .fallback()
        .iter()
        .map(herald::rules::Action::plugin)
        .collect();
    assert_eq!(chain, ["texts"]);
    let texts = config
        .reloadable
        .plugins
        .iter()
        .find(|spec| spec.name() == "texts")
        .expect("texts");
    let delivery = texts.delivery();
    assert_eq!(
        delivery.rate_limit.map(|r| r.to_string()).as_deref(),
        Some("20/s")
    );
    assert_eq!(delivery.failover_after.as_secs(), 120);
    let mail = config
        .reloadable
        .plugins
        .iter()
        .find(|spec| spec.name() == "mail")
        .expect("mail");
    assert_eq!(mail.delivery(), herald::plugins::Delivery::default());
    assert_eq!(mail.delivery().failover_after.as_secs(), 300, "the default");
}

#[test]
fn a_rate_that_is_not_one_is_named_at_its_line_with_the_forms_that_work() {
    let text = config("rate_limit = \"20 per second\"", CHAIN);
    let message = load_err(&text);
    let line = line_of(&text, "rate_limit");
    assert!(
        message.contains(&format!(
            ":{line}: plugins.sms.texts.rate_limit: `20 per second` is not a rate"
        )),
        "{message}"
    );
    assert!(message.contains("\"10/s\""), "{message}");

    let text = config("failover_after_secs = \"soon\"", CHAIN);
    let message = load_err(&text);
    let line = line_of(&text, "failover_after_secs");
    assert!(
        message.contains(&format!(":{line}: plugins.sms.texts")),
        "{message}"
    );
}

/// `retry` is herald's, taken out of the instance table like `rate_limit`: the kind
/// never sees it, and its problems are still named at their line.
#[test]
fn an_instance_retry_policy_is_read_and_checked_by_herald() {
    let text = config("retry = { max_attempts = 3, backoff_base_secs = 2 }", CHAIN);
    let loaded = Config::from_toml(&text, Path::new("/tmp/config.toml"), &test_env())
        .unwrap_or_else(|e| panic!("{e}"));
    let texts = loaded
        .reloadable
        .plugins
        .iter()
        .find(|spec| spec.name() == "texts")
        .expect("texts");
    assert_eq!(texts.retry().max_attempts, Some(3));
    assert_eq!(texts.delivery().retry.backoff_base_secs, Some(2.0));

    let text = config("retry = { max_attempts = 0 }", CHAIN);
    let message = load_err(&text);
    let line = line_of(&text, "retry =");
    assert!(
        message.contains(&format!(":{line}: plugins.sms.texts.retry.max_attempts")),
        "{message}"
    );
    let text = config("retry = { attempts = 3 }", CHAIN);
    let message = load_err(&text);
    assert!(message.contains("unknown field `attempts`"), "{message}");
    assert!(
        message.contains(&format!(":{line}: plugins.sms.texts")),
        "{message}"
    );
}

#[test]
fn a_fallback_is_checked_like_any_action() {
    let rule = CHAIN.replace(
        "{ plugin = \"texts\", template = \"payment_succeeded\" }",
        "{ plugin = \"texts\", template = \"no_such_template\" }, { plugin = \"pager\" }",
    );
    let text = config("", &rule);
    let message = load_err(&text);
    let line = line_of(&text, "plugin = \"mail\"");
    assert!(message.contains("actions[0].fallback[0]"), "{message}");
    assert!(message.contains("no_such_template"), "{message}");
    assert!(
        message.contains(&format!(
            ":{line}: rules[0] (receipt).actions[0].fallback[1].plugin: no plugin instance named `pager`"
        )),
        "{message}"
    );
}

#[test]
fn a_chain_that_cannot_work_is_refused() {
    for (fallback, expected) in [
        ("fallback = []", "lists no actions"),
        ("fallback = \"texts\"", "must be a list of actions"),
        (
            "fallback = [{ plugin = \"mail\", template = \"payment_succeeded\", to = \"b@example.com\" }]",
            "`mail` is already in this action's chain",
        ),
        (
            "fallback = [{ plugin = \"texts\", template = \"payment_succeeded\", fallback = [] }]",
            "a fallback has no fallback of its own",
        ),
    ] {
        let rule = format!(
            "[[rules]]\nname = \"receipt\"\non = [\"*\"]\nactions = [{{ plugin = \"mail\", template = \"payment_succeeded\", to = \"a@example.com\", {fallback} }}]"
        );
        let message = load_err(&config("", &rule));
        assert!(message.contains(expected), "{fallback}: {message}");
    }
}

#[test]
fn check_passes_a_chain_and_route_shows_it() {
    let dir = tempfile::TempDir::new().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config("rate_limit = \"1/s\"", CHAIN)).expect("write");
    let (ok, out, err) = run_cli(&path, &["check"]);
    assert!(ok, "{out}{err}");

    let (ok, out, err) = run_cli(&path, &["route", "--sample", "payment_intent.succeeded"]);
    assert!(ok, "{err}");
    let action = out.find("action 0: mail (email)").expect(&out);
    let fallback = out
        .find("fallback 1: texts (sms), when mail gives up")
        .expect(&out);
    assert!(action < fallback, "{out}");
    // The fallback's own preview: what the SMS would say.
    assert!(out[fallback..].contains("to: +1"), "{out}");

    let (ok, json, err) = run_cli(
        &path,
        &["route", "--sample", "payment_intent.succeeded", "--json"],
    );
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    let action = &json["rules"][0]["actions"][0];
    assert_eq!(action["fallback"][0]["plugin"], "texts");
    assert_eq!(
        action["fallback"][0]["idempotency_key"],
        action["idempotency_key"]
    );
}
