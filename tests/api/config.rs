//! Config validation: the shipped file is valid; each mistake is named with its line.

use std::collections::HashMap;
use std::path::Path;

use herald::Config;

use crate::helpers::{base_config, repo, test_env};

fn load(text: &str, env: &HashMap<String, String>) -> Result<Config, String> {
    Config::from_toml(text, Path::new("/etc/herald/config.toml"), env).map_err(|e| e.to_string())
}

fn load_err(text: &str) -> String {
    match load(text, &test_env()) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(message) => message,
    }
}

fn with_rule(rule: &str) -> String {
    format!(
        "{}\n[plugins.email.mailer]\nfrom = \"Shop <shop@example.com>\"\n\n{rule}",
        base_config()
    )
}

#[test]
fn the_shipped_config_is_valid() {
    let path = repo().join("config.toml");
    let config = Config::load(&path, &test_env()).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.restart.stripe.is_some());
    assert!(config.reloadable.rules.iter().count() >= 4);
}

#[test]
fn a_config_with_only_a_source_gets_defaults() {
    let text = format!(
        "[templates]\ndir = \"{}\"\n[sources.stripe]\nsecret = \"whsec_x\"\n",
        repo().join("templates").display()
    );
    let config = load(&text, &HashMap::new()).expect("valid");
    assert_eq!(config.restart.server.listen.to_string(), "127.0.0.1:8787");
    assert_eq!(config.restart.server.body_limit_bytes, 1024 * 1024);
    assert!(config.restart.database.display.ends_with("herald.db"));
    assert!(config.restart.stripe.is_some());
}

/// An empty file, or one cut before `[sources.stripe]` (a non-atomic writer caught
/// half-way), parses to all defaults; it used to be a valid config that received nothing.
#[test]
fn a_config_with_no_source_is_refused() {
    for text in [
        String::new(),
        "\n".to_owned(),
        "[server]\nlisten = \"127.0.0.1:8787\"\n".to_owned(),
    ] {
        let message = load_err(&text);
        assert!(message.contains("no source is configured"), "{message}");
    }
}

#[test]
fn an_unknown_shop_time_zone_is_named_with_its_line() {
    let text = base_config().replacen("[shop]", "[shop]\ntime_zone = \"Europe/Pariss\"", 1);
    assert!(
        text.contains("Pariss"),
        "the base config has a [shop] table"
    );
    let message = load_err(&text);
    assert!(message.contains("shop.time_zone"), "{message}");
    assert!(
        message.contains("unknown time zone `Europe/Pariss`"),
        "{message}"
    );
}

#[test]
fn a_missing_plugin_reference_is_named_with_its_line() {
    let text = with_rule(
        r#"[[rules]]
name = "r"
on = ["charge.refunded"]
actions = [{ plugin = "custmer_mail", template = "refund_issued", to = "x@example.com" }]
"#,
    );
    let message = load_err(&text);
    let line = text
        .lines()
        .position(|l| l.contains("custmer_mail"))
        .expect("line")
        + 1;
    assert!(
        message.contains("no plugin instance named `custmer_mail`"),
        "{message}"
    );
    assert!(message.contains("configured: mailer"), "{message}");
    assert!(
        message.contains(&format!("config.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let text = format!(
        "{}\n[plugins.email.mailer]\nfrom = \"a@example.com\"\nfrom_adress = \"x\"\n",
        base_config()
    );
    let message = load_err(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("from_adress"))
        .expect("line")
        + 1;
    assert!(message.contains("from_adress"), "{message}");
    assert!(
        message.contains(&format!(
            "config.toml:{line}: plugins.email.mailer.from_adress:"
        )),
        "{message}"
    );

    let message = load_err("[sever]\nlisten = \"127.0.0.1:1\"\n");
    assert!(message.contains("config.toml:1: sever:"), "{message}");
}

#[test]
fn a_misspelt_plugin_kind_lists_the_valid_kinds() {
    let message = load_err("[plugins.emial.mailer]\nfrom = \"a@example.com\"\n");
    assert!(message.contains("emial"), "{message}");
    assert!(message.contains("email"), "{message}");
}

#[test]
fn a_malformed_glob_is_named_with_its_line() {
    let text = with_rule(
        r#"[[rules]]
name = "r"
on = ["charge.refunded", "payment intent.*"]
actions = [{ plugin = "mailer", template = "refund_issued", to = "x@example.com" }]
"#,
    );
    let message = load_err(&text);
    let line = text
        .lines()
        .position(|l| l.contains("payment intent"))
        .expect("line")
        + 1;
    assert!(message.contains("payment intent.*"), "{message}");
    assert!(message.contains("on[1]"), "{message}");
    assert!(
        message.contains(&format!("config.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn a_malformed_condition_is_named_with_its_line() {
    let text = with_rule(
        r#"[[rules]]
name = "r"
on = ["charge.refunded"]
when = "data.object.amount = 5"
actions = [{ plugin = "mailer", template = "refund_issued", to = "x@example.com" }]
"#,
    );
    let message = load_err(&text);
    assert!(message.contains(".when"), "{message}");
    assert!(message.contains("=="), "{message}");
}

#[test]
fn an_unknown_order_field_is_named_with_the_known_ones() {
    let text = with_rule(
        r#"[[rules]]
name = "r"
on = ["charge.refunded"]
when = "order.changed and order.state == 'refunded'"
actions = [{ plugin = "mailer", template = "refund_issued", to = "x@example.com" }]
"#,
    );
    let message = load_err(&text);
    assert!(message.contains("rules[0] (r).when"), "{message}");
    assert!(
        message.contains("`order.state` is not an order field"),
        "{message}"
    );
    assert!(message.contains("order.status, order.previous_status, order.changed"));
    let line = text
        .lines()
        .position(|l| l.starts_with("when"))
        .expect("line")
        + 1;
    assert!(
        message.contains(&format!("config.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn a_missing_env_secret_is_named() {
    let Err(message) = load(&base_config(), &HashMap::new()) else {
        panic!("accepted without the secret")
    };
    assert!(message.contains("STRIPE_WEBHOOK_SECRET"), "{message}");
    assert!(message.contains("sources.stripe.secret"), "{message}");
    let line = base_config()
        .lines()
        .position(|l| l.starts_with("secret"))
        .expect("line")
        + 1;
    assert!(
        message.contains(&format!("config.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn a_missing_template_is_named() {
    let text = with_rule(
        r#"[[rules]]
name = "r"
on = ["charge.refunded"]
actions = [{ plugin = "mailer", template = "no_such_template", to = "x@example.com" }]
"#,
    );
    let message = load_err(&text);
    assert!(message.contains("no_such_template"), "{message}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = with_rule(
        r#"[[rules]]
name = "a"
on = ["**"]
actions = [{ plugin = "nope", template = "refund_issued", to = "x@example.com" }]

[[rules]]
name = "b"
on = ["charge.refunded"]
when = "amount >"
actions = [{ plugin = "mailer", template = "refund_issued", to = "x@example.com" }]
"#,
    );
    let message = load_err(&text);
    assert!(message.contains("3 problems"), "{message}");
}

#[test]
fn a_removed_json_provider_is_named_at_its_line_with_the_webhook_replacement() {
    for kind in ["sms", "push"] {
        let text = format!(
            "{}\n[plugins.{kind}.gateway]\nprovider = \"json\"\nurl = \"https://gw.example.com\"\n",
            base_config()
        );
        let message = load_err(&text);
        let line = text
            .lines()
            .position(|l| l.contains("provider = \"json\""))
            .expect("line")
            + 1;
        assert!(
            message.contains(&format!(
                "config.toml:{line}: plugins.{kind}.gateway.provider:"
            )),
            "{message}"
        );
        assert!(
            message.contains(&format!("provider = \"json\" was removed from {kind}")),
            "{message}"
        );
        assert!(message.contains("[plugins.webhook.<name>]"), "{message}");
        assert!(message.contains("`body` template"), "{message}");
    }
}

#[test]
fn a_weak_admin_token_is_refused_at_its_line() {
    let text = format!(
        "{}\n[admin]\ntoken = \"${{HERALD_ADMIN_TOKEN}}\"\n",
        base_config()
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("token"))
        .expect("line")
        + 1;
    let mut env = test_env();
    for weak in ["a".repeat(16), "0123456789abcdef".to_owned()] {
        env.insert("HERALD_ADMIN_TOKEN".to_owned(), weak.clone());
        let Err(message) = load(&text, &env) else {
            panic!("the token {weak} was accepted")
        };
        assert!(message.contains("admin.token"), "{message}");
        assert!(message.contains("too weak"), "{message}");
        assert!(
            message.contains(&format!("config.toml:{line}:")),
            "{message}"
        );
        assert!(
            !message.contains(&weak),
            "the token is not logged: {message}"
        );
    }
    env.insert(
        "HERALD_ADMIN_TOKEN".to_owned(),
        "3f9a1c0e7b52d864a0c91e2f7d3b5a68".to_owned(),
    );
    assert!(load(&text, &env).is_ok());
}

#[test]
fn check_reports_every_schema_problem_at_once_with_the_rest() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    let text = format!(
        "{}\n[plugins.email.mailer]\nfrom = \"Shop <shop@example.com>\"\n\n[[rules]]\nname = \"r\"\n\
         on = [\"charge.refunded\"]\nactions = [{{ plugin = \"nope\" }}]\n",
        base_config().replace(
            "[dispatch]\n",
            "[dispatch]\nconcurency = 8\nretention_days = \"thirty\"\n"
        )
    );
    std::fs::write(&config, &text).expect("config written");
    let (ok, out, err) = crate::helpers::run_cli(&config, &["check"]);
    assert!(!ok, "{out}");
    let path = config.display();
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).expect(needle) + 1;
    assert_eq!(
        err,
        format!(
            "error: {path} has 3 problems:\n  \
             {path}:{}: dispatch.concurency: unknown field `concurency` (did you mean `concurrency`?), expected one of \
             `enabled`, `concurrency`, `poll_interval_ms`, `lease_secs`, `max_attempts`, \
             `max_age_secs`, `backoff_base_secs`, `backoff_max_secs`, `breaker_failures`, \
             `breaker_cooldown_secs`, `retention_days`\n  \
             {path}:{}: dispatch.retention_days: invalid type: string \"thirty\", expected u64\n  \
             {path}:{}: rules[0] (r).actions[0].plugin: no plugin instance named `nope` \
             (configured: mailer)\n",
            line("concurency"),
            line("thirty"),
            line("nope"),
        )
    );
}

#[test]
fn a_missing_template_is_named_inside_the_configured_templates_dir() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    std::fs::create_dir(dir.path().join("mail")).expect("mail/");
    let text = "[templates]\ndir = \"mail\"\n\n[plugins.email.mailer]\nfrom = \"shop@example.com\"\n\n\
                [plugins.sms.texts]\nprovider = \"twilio\"\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"${HERALD_ADMIN_TOKEN}\"\nfrom = \"+14155550100\"\n\n\
                [[rules]]\nname = \"r\"\non = [\"charge.refunded\"]\nactions = [\
                { plugin = \"mailer\", template = \"receipt\", to = \"x@example.com\" }, \
                { plugin = \"texts\", template = \"receipt\" }]\n";
    let path = dir.path().join("config.toml");
    let message = Config::from_toml(text, &path, &test_env())
        .err()
        .expect("refused")
        .to_string();
    let mail = std::path::absolute(dir.path().join("mail")).expect("absolute");
    let mail = mail.display();
    assert!(
        message.contains(&format!(
            "template `receipt` not found: expected {mail}/receipt.subject.hbs and \
             {mail}/receipt.txt.hbs or {mail}/receipt.html.hbs"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "template `receipt` has no text part: create {mail}/receipt.txt.hbs"
        )),
        "{message}"
    );
}

/// A start that fails on a port already taken used to leave a new `herald.db` and
/// `outbox/` behind, which looked like a herald that had run.
#[test]
fn a_start_on_a_taken_port_creates_no_database_or_outbox() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let text = crate::helpers::shipped_config_in(dir.path());
    let text = text.replacen("127.0.0.1:0", &format!("127.0.0.1:{port}"), 1);
    let config = dir.path().join("config.toml");
    std::fs::write(&config, &text).expect("config");
    let (ok, _, err) = crate::helpers::run_cli(&config, &["serve"]);
    assert!(!ok, "started on a taken port");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert_eq!(herald_testkit::file_names(dir.path()), ["config.toml"]);
}

/// `when = "customer.emial exists"` printed "config is valid", and the rule never fired.
#[test]
fn check_names_a_misspelt_field_in_a_condition_with_the_one_meant() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    let text = format!(
        "{}\n[plugins.webhook.hook]\nurl = \"https://example.com/hook\"\n\n[[rules]]\nname = \"vip\"\n\
         on = [\"payment_intent.succeeded\"]\nwhen = \"customer.emial exists\"\nactions = [{{ plugin = \"hook\" }}]\n",
        base_config()
    );
    std::fs::write(&config, &text).expect("config written");
    let (ok, out, err) = crate::helpers::run_cli(&config, &["check"]);
    assert!(!ok, "{out}");
    assert!(!out.contains("config is valid"), "{out}");
    assert!(
        err.contains("rule `vip`: its `when` reads `customer.emial`"),
        "{err}"
    );
    assert!(err.contains("(did you mean `customer.email`?)"), "{err}");
}

/// Every plugin secret's problem names its line, however the table is written
/// (a header, an inline table, a sub-table, a header's value).
#[test]
fn plugin_secret_problems_name_their_line_in_every_table_form() {
    let text = format!(
        "{}\n[plugins.sms.texts]\nprovider = \"twilio\"\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\n\
         api_key_sid = \"${{NOPE_SID}}\"\napi_key_secret = \"${{NOPE_SECRET}}\"\nfrom = \"+14155550100\"\n\n\
         [plugins.webhook]\nship = {{ url = \"https://example.com/x\", secret = \"${{NOPE_INLINE}}\" }}\n\n\
         [plugins.orders.status.callback]\nurl = \"https://example.com/cb\"\nsecret = \"${{NOPE_CB}}\"\n\n\
         [plugins.webhook.hook]\nurl = \"https://example.com/y\"\nheaders = {{ Authorization = \"Bearer ${{NOPE_HDR}}\" }}\n\n\
         [plugins.exec.job]\ncommand = \"/bin/true\"\n[plugins.exec.job.env]\nTOKEN = \"${{NOPE_ENV}}\"\n",
        base_config()
    );
    let message = load_err(&text);
    for name in [
        "NOPE_SID",
        "NOPE_SECRET",
        "NOPE_INLINE",
        "NOPE_CB",
        "NOPE_HDR",
        "NOPE_ENV",
    ] {
        let line = text
            .lines()
            .position(|line| line.contains(name))
            .expect(name)
            + 1;
        let said = message
            .lines()
            .find(|said| said.contains(name))
            .unwrap_or_else(|| panic!("{name} not named: {message}"));
        assert!(
            said.contains(&format!("config.toml:{line}: ")),
            "{name} at line {line}: {said}"
        );
    }
}

/// Issue 30: `check` renders every shipped template against every sample its rules
/// match, the recipes' commented-out rules (stock and its alert) included.
#[test]
fn check_renders_the_shipped_templates_against_every_sample_their_rules_match() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    let text = format!(
        "{}\n[plugins.inventory.stock]\nlow_stock_at = 5\n\n[[rules]]\nname = \"stock-alert\"\n\
         on = [\"herald.stock_low\"]\nactions = [{{ plugin = \"customer_mail\", template = \"stock_low\", \
         to = \"{{{{shop.support_email}}}}\" }}]\n",
        crate::helpers::shipped_config_in(dir.path())
    );
    std::fs::write(&config, &text).expect("config written");
    let (ok, out, err) = crate::helpers::run_cli(&config, &["check"]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("config is valid"), "{out}");
    let renders = out
        .lines()
        .find(|line| line.starts_with("templates: ") && line.contains("renders"))
        .unwrap_or_else(|| panic!("no templates line: {out}"));
    // payment, failure, refund, checkout, async ×2, dispute, warning, review, stock,
    // and the subscription's welcome, renewal failed, action required, paid, trial, end,
    // the follow-ups' payment still processing, herald's dead-letter and signature alerts, and the daily summary.
    assert!(
        renders.contains("against the 22 of 55 sample events"),
        "{renders}"
    );
}
