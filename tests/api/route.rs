//! `herald route`: the dry run, as the real binary on the shipped config and the
//! Stripe fixtures: exact output, the value a false `when` read, a template error in
//! place, `--json`, the webhook and sms previews, and nothing written.

use std::path::PathBuf;

use tempfile::TempDir;

use crate::helpers::{copy_dir, repo, shipped_config_in, test_env};

/// The shipped config in a fresh folder (its database and outbox would go there),
/// `edit`ed, with a copy of the templates when `own_templates`.
struct Shop {
    dir: TempDir,
    config: PathBuf,
}

impl Shop {
    fn new(own_templates: bool, edit: impl FnOnce(&mut toml::Table)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut table: toml::Table =
            toml::from_str(&shipped_config_in(dir.path())).expect("config parses");
        if own_templates {
            let templates = dir.path().join("templates");
            copy_dir(&repo().join("templates"), &templates);
            table["templates"]["dir"] = templates.display().to_string().into();
        }
        edit(&mut table);
        let config = dir.path().join("config.toml");
        std::fs::write(&config, toml::to_string(&table).expect("toml")).expect("write");
        Self { dir, config }
    }

    fn shipped() -> Self {
        Self::new(false, |_| {})
    }

    /// `herald route ARGS…`: success, stdout with the repo's path as `<repo>`, stderr.
    fn route(&self, args: &[&str]) -> (bool, String, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("--config")
            .arg(&self.config)
            .arg("route")
            .args(args)
            .envs(test_env())
            .env("HOOK_TOKEN", "token-that-must-not-show")
            .env("TWILIO_SID", format!("AC{}", "0123456789abcdef".repeat(2)))
            .env("TWILIO_TOKEN", "twilio-token-that-must-not-show")
            .output()
            .expect("herald runs");
        let stdout = String::from_utf8_lossy(&output.stdout)
            .replace(&repo().display().to_string(), "<repo>")
            .replace(&self.dir.path().display().to_string(), "<dir>");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    }

    /// Every file in the folder but the config (and the templates copied in).
    fn written(&self) -> Vec<String> {
        herald_testkit::file_names(self.dir.path())
            .into_iter()
            .filter(|name| name != "config.toml" && name != "templates")
            .collect()
    }
}

fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures/stripe")
        .join(format!("{name}.json"))
        .display()
        .to_string()
}

/// The shipped config's rule names, in file order: the route tests list every rule,
/// and follow the shipped config as it grows.
fn shipped_rules() -> Vec<String> {
    let names = |section: &str| {
        let text = std::fs::read_to_string(repo().join("config.toml")).expect("config.toml");
        let table: toml::Table = toml::from_str(&text).expect("config parses");
        table
            .get(section)
            .and_then(toml::Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .map(|rule| rule["name"].as_str().expect("a name").to_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    // Follow-ups and digests are rules too, listed after them.
    [names("rules"), names("followups"), names("digests")].concat()
}

/// Whether the shipped rule `name` is one of `section`'s entries (`followups`, `digests`).
fn is_in(section: &str, name: &str) -> bool {
    let text = std::fs::read_to_string(repo().join("config.toml")).expect("config.toml");
    text.contains(&format!("name = \"{name}\"")) && {
        let table: toml::Table = toml::from_str(&text).expect("config parses");
        table[section]
            .as_array()
            .is_some_and(|all| all.iter().any(|f| f["name"].as_str() == Some(name)))
    }
}

/// `rule NAME: not matched` for each shipped rule from `from` up to `to` (exclusive),
/// none of whose patterns matches `kind`.
fn unmatched(kind: &str, from: &str, to: Option<&str>) -> String {
    let rules = shipped_rules();
    let start = rules.iter().position(|rule| rule == from).expect("from");
    let end = to.map_or(rules.len(), |to| {
        rules.iter().position(|rule| rule == to).expect("to")
    });
    rules[start..end]
        .iter()
        .map(|rule| {
            if is_in("followups", rule) {
                format!("follow-up {rule}: not matched\n  after: no pattern matches {kind}\n\n")
            } else if is_in("digests", rule) {
                format!("digest {rule}: not matched\n  on: no pattern matches {kind}\n\n")
            } else {
                format!("rule {rule}: not matched\n  on: no pattern matches {kind}\n\n")
            }
        })
        .collect()
}

fn add_rule(table: &mut toml::Table, rule: toml::Value) {
    table["rules"].as_array_mut().expect("rules").push(rule);
}

#[test]
fn payment_succeeded_shows_every_rule_and_the_mail_as_delivery_renders_it() {
    let shop = Shop::shipped();
    let (ok, stdout, stderr) = shop.route(&[&fixture("payment_intent.succeeded")]);
    assert!(ok, "{stderr}");
    let kind = "payment_intent.succeeded";
    let expected = format!(
        "\
payment_intent.succeeded evt_1R4QrlHrLd9TstBbciwU1NSl (<repo>/tests/fixtures/stripe/payment_intent.succeeded.json)

rule payment-confirmation: matched, if the order agrees at delivery
  on: payment_intent.succeeded
  when: customer.email exists and order_id exists and order.status == 'paid'
    customer.email exists → true (\"jenny.rosen@example.com\")
    order_id exists → true (\"ORDER12345\")
    order.status == \"paid\" → evaluated at delivery
  action 0: customer_mail (email)
    idempotency key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:payment-confirmation:0
    from: Example Shop <shop@example.com>
    to: jenny.rosen@example.com
    reply-to: support@example.com
    subject: Example Shop: payment received for order ORDER12345
    text:
      Hi Jenny Rosen,

      We received your payment of $49.98 for order ORDER12345. Thank you!

      We're getting everything ready and will keep you posted.

      … (3 more lines)
    html: 1389 bytes
    message-id: <236be00f8925dec5544204da41922fca@example.com>

{unmatched}rule order-status: matched
  on: payment_intent.succeeded
  when: order_id exists
    order_id exists → true (\"ORDER12345\")
  action 0: orders (orders)
    idempotency key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:order-status:0

{followups}2 of {count} rules match, 2 actions would run (dry run: nothing sent, nothing stored)
",
        unmatched = unmatched(kind, "payment-failed", Some("order-status")),
        followups = unmatched(kind, "ops-on-dead-letters", None),
        count = shipped_rules().len(),
    );
    assert_eq!(stdout, expected);
    assert_eq!(
        shop.written(),
        Vec::<String>::new(),
        "no database, no outbox"
    );
}

#[test]
fn an_event_no_rule_matches_says_so_for_each_rule() {
    let shop = Shop::shipped();
    let (ok, stdout, stderr) = shop.route(&[&fixture("refund.created")]);
    assert!(ok, "{stderr}");
    let rules = shipped_rules();
    let expected = format!(
        "refund.created evt_1QgIfOHrLd9Tsthu0VEtEjUr (<repo>/tests/fixtures/stripe/refund.created.json)\n\n{}\
         0 of {} rules match, 0 actions would run (dry run: nothing sent, nothing stored)\n",
        unmatched("refund.created", &rules[0], None),
        rules.len()
    );
    assert_eq!(stdout, expected);
    assert_eq!(shop.written(), Vec::<String>::new());
}

#[test]
fn a_false_when_shows_each_comparison_with_the_value_it_read() {
    let shop = Shop::new(false, |table| {
        table["rules"][0]["when"] =
            "customer.email exists and amount >= 10000 and data.object.metadata.gift exists".into();
    });
    let (ok, stdout, stderr) = shop.route(&[&fixture("payment_intent.succeeded")]);
    assert!(ok, "{stderr}");
    let expected = "\
rule payment-confirmation: not matched
  on: payment_intent.succeeded
  when: customer.email exists and amount >= 10000 and data.object.metadata.gift exists
    customer.email exists → true (\"jenny.rosen@example.com\")
    amount >= 10000 → false (4998)
    data.object.metadata.gift exists → false (missing)

rule payment-failed";
    assert!(stdout.contains(expected), "{stdout}");
    let matched = format!("1 of {} rules match", shipped_rules().len());
    assert!(stdout.contains(&matched), "{stdout}");
}

#[test]
fn a_template_error_shows_in_place_with_its_file_and_line() {
    let shop = Shop::new(true, |_| {});
    let subject = shop
        .dir
        .path()
        .join("templates/payment_succeeded.subject.hbs");
    std::fs::write(&subject, "Hello {{customer.nmae}}\n").expect("write");
    let (ok, stdout, stderr) = shop.route(&[&fixture("payment_intent.succeeded")]);
    assert!(ok, "a dry run reports, it does not fail: {stderr}");
    let expected = "\
  action 0: customer_mail (email)
    idempotency key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:payment-confirmation:0
    to: jenny.rosen@example.com
    subject: ERROR <dir>/templates/payment_succeeded.subject.hbs:1:";
    assert!(stdout.contains(expected), "{stdout}");
    assert!(stdout.contains("customer.nmae"), "{stdout}");
    assert!(
        stdout.contains("    text:\n      Hi Jenny Rosen,"),
        "{stdout}"
    );
}

#[test]
fn json_reports_rules_comparisons_and_action_lines() {
    let shop = Shop::shipped();
    let (ok, stdout, stderr) = shop.route(&["--json", &fixture("payment_intent.succeeded")]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["type"], "payment_intent.succeeded");
    assert_eq!(report["event_id"], "evt_1R4QrlHrLd9TstBbciwU1NSl");
    let rules = report["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), shipped_rules().len());
    let first = &rules[0];
    assert_eq!(first["name"], "payment-confirmation");
    assert_eq!(first["matched"], true);
    assert_eq!(first["on"], "payment_intent.succeeded");
    assert_eq!(
        first["when"],
        "customer.email exists and order_id exists and order.status == 'paid'"
    );
    assert_eq!(
        first["comparisons"],
        serde_json::json!([{"text": "customer.email exists", "result": true,
                            "read": "jenny.rosen@example.com"},
                           {"text": "order_id exists", "result": true, "read": "ORDER12345"},
                           {"text": "order.status == \"paid\"", "result": false,
                            "read": null, "deferred": true}])
    );
    let action = &first["actions"][0];
    assert_eq!(action["plugin"], "customer_mail");
    assert_eq!(action["kind"], "email");
    assert_eq!(
        action["idempotency_key"],
        "stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:payment-confirmation:0"
    );
    assert_eq!(
        action["lines"][1],
        serde_json::json!({"label": "to", "value": "jenny.rosen@example.com"})
    );
    assert_eq!(rules[1]["on"], serde_json::Value::Null);
    assert_eq!(rules[1]["actions"], serde_json::json!([]));
}

#[test]
fn webhook_and_sms_actions_show_what_they_would_send_without_secrets() {
    let shop = Shop::new(false, |table| {
        let plugins = table["plugins"].as_table_mut().expect("plugins");
        plugins.insert(
            "webhook".into(),
            toml::toml! {
                [shipping]
                url = "https://shipping.example.com/hooks?key=abc"
                secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                headers = { Authorization = "Bearer ${HOOK_TOKEN}" }
            }
            .into(),
        );
        plugins.insert(
            "sms".into(),
            toml::toml! {
                [texts]
                provider = "twilio"
                account_sid = "${TWILIO_SID}"
                auth_token = "${TWILIO_TOKEN}"
                from = "+14155550100"
            }
            .into(),
        );
        plugins.insert(
            "exec".into(),
            toml::toml! {
                [label]
                command = "/bin/echo"
                args = ["--token=${HOOK_TOKEN}"]
            }
            .into(),
        );
        add_rule(
            table,
            toml::toml! {
                name = "ship"
                on = ["payment_intent.succeeded"]
                actions = [
                    { plugin = "shipping", path = "/orders/{{order_id}}",
                      body = "{\"order\": \"{{order_id}}\"}" },
                    { plugin = "texts", template = "payment_succeeded", to = "+1 415 555 0199" },
                    { plugin = "label", args = ["{{order_id}}", "{{customer.name}}"] },
                ]
            }
            .into(),
        );
    });
    let (ok, stdout, stderr) = shop.route(&[&fixture("payment_intent.succeeded")]);
    assert!(ok, "{stderr}");
    let webhook = "\
  action 0: shipping (webhook)
    idempotency key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:ship:0
    method: POST
    url: https://shipping.example.com/hooks/orders/ORDER12345?<hidden>
    headers:
      Content-Type: application/json
      Idempotency-Key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:ship:0
      authorization: <hidden>
      webhook-id: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:ship:0
      webhook-timestamp: (the time of sending)
      webhook-signature: <hidden>
    body: {\"order\": \"ORDER12345\"}
  action 1: texts (sms)
    idempotency key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:ship:1
    from: +14155550100
    to: +14155550199
    text:
      Hi Jenny Rosen,";
    assert!(stdout.contains(webhook), "{stdout}");
    assert!(stdout.contains("    segments: 2 (GSM-7)\n"), "{stdout}");
    let exec = "\
  action 2: label (exec)
    idempotency key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:ship:2
    argv:
      /bin/echo
      <hidden> (from the config)
      ORDER12345
      Jenny Rosen
";
    assert!(stdout.contains(exec), "{stdout}");
    assert!(!stdout.contains("must-not-show"), "{stdout}");
}

#[test]
fn a_sample_type_routes_without_a_file() {
    let shop = Shop::shipped();
    let (ok, stdout, stderr) = shop.route(&["--sample", "charge.refunded"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("charge.refunded evt_"), "{stdout}");
    assert!(stdout.contains("(sample charge.refunded)"), "{stdout}");
    assert!(stdout.contains("rule refund: matched"), "{stdout}");
}
