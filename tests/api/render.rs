//! `herald check` renders every template a rule uses against the sample events it
//! matches; `herald render` shows one template set as delivery renders it. Both run
//! as the real binary on a copy of the shipped config and templates.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::helpers::{repo, run_cli, shipped_config_in};

/// A copy of the shipped config and templates in a fresh folder, `edit`ed.
struct Shop {
    dir: TempDir,
    config: PathBuf,
}

impl Shop {
    fn new(edit: impl FnOnce(&mut toml::Table)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let templates = dir.path().join("templates");
        std::fs::create_dir_all(templates.join("partials")).expect("mkdir");
        for sub in ["", "partials"] {
            let from = repo().join("templates").join(sub);
            for entry in std::fs::read_dir(&from).expect("templates") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    let to = templates.join(sub).join(path.file_name().expect("name"));
                    std::fs::copy(&path, to).expect("copy");
                }
            }
        }
        let mut table: toml::Table =
            toml::from_str(&shipped_config_in(dir.path())).expect("config parses");
        table["templates"]["dir"] = templates.display().to_string().into();
        edit(&mut table);
        let config = dir.path().join("config.toml");
        std::fs::write(&config, toml::to_string(&table).expect("toml")).expect("write");
        Self { dir, config }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Replaces `from` by `to` in a template, returning the 1-based line it is on.
    fn edit_template(&self, file: &str, from: &str, to: &str) -> usize {
        let path = self.path("templates").join(file);
        let text = std::fs::read_to_string(&path).expect("template");
        assert!(text.contains(from), "{file} has no {from}");
        let text = text.replacen(from, to, 1);
        std::fs::write(&path, &text).expect("write");
        line_of(&text, to)
    }

    fn cli(&self, args: &[&str]) -> (bool, String, String) {
        run_cli(&self.config, args)
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .expect("needle")
        + 1
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_shipped_config_and_templates_pass_check() {
    let (ok, stdout, stderr) = run_cli(&repo().join("config.toml"), &["check"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.ends_with("config is valid\n"), "{stdout}");
    assert!(stdout.contains("templates: "), "{stdout}");
    assert!(
        !stdout.contains("not rendered"),
        "every shipped rule is checked: {stdout}"
    );
}

#[test]
fn check_names_a_typo_with_its_file_line_rule_and_sample() {
    let shop = Shop::new(|_| {});
    let line = shop.edit_template(
        "payment_succeeded.txt.hbs",
        "Thank you!",
        "Thank you, {{customer.nmae}}!",
    );
    let (ok, stdout, stderr) = shop.cli(&["check"]);
    assert!(!ok, "{stdout}");
    assert!(!stdout.contains("config is valid"), "{stdout}");
    let file = shop.path("templates/payment_succeeded.txt.hbs");
    let expected = format!("  {}:{line}:", file.display());
    assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    assert!(
        stderr.contains("`customer.nmae` is not in the data (strict mode)\n    in rule `payment-confirmation`, action 0 (customer_mail), with sample payment_intent.succeeded"),
        "{stderr}"
    );
    assert!(stderr.contains("has 1 template problem:"), "{stderr}");
}

#[test]
fn check_reports_a_shop_value_a_template_uses_but_the_config_lacks() {
    let shop = Shop::new(|table| {
        table["shop"]
            .as_table_mut()
            .expect("[shop]")
            .remove("support_email");
    });
    let (ok, stdout, stderr) = shop.cli(&["check"]);
    assert!(!ok, "{stdout}");
    let footer = shop.path("templates/partials/text_footer.hbs");
    let line = line_of(&read(&footer), "{{shop.support_email}}");
    let expected = format!("{}:{line}:", footer.display());
    assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    assert!(
        stderr.contains("`shop.support_email` is not in the data"),
        "{stderr}"
    );
    assert!(stderr.contains("in rule `refund`"), "{stderr}");
    // The dispute alert's `to = "{{shop.support_email}}"`, at its action's line (the
    // table that holds it, as the test writes actions).
    let config = read(&shop.config);
    let to = line_of(&config, "to = \"{{shop.support_email}}\"");
    let line = config
        .lines()
        .take(to)
        .collect::<Vec<_>>()
        .iter()
        .rposition(|text| matches!(text.trim(), "[[rules.actions]]" | "[[followups.actions]]"))
        .expect("the action's table")
        + 1;
    let expected = format!("{}:{line}: `to` (customer_mail): ", shop.config.display());
    assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    assert!(
        stderr.contains(
            "in rule `dispute-alert`, action 0 (customer_mail), with sample charge.dispute.created"
        ),
        "{stderr}"
    );
}

#[test]
fn check_samples_adds_the_shops_own_events() {
    let shop = Shop::new(|table| {
        let rule: toml::Table = toml::from_str(
            r#"
            name = "wholesale"
            on = ["payment_intent.succeeded"]
            when = "data.object.metadata.channel == 'wholesale'"
            actions = [{ plugin = "customer_mail", template = "wholesale", to = "{{customer.email}}" }]
            "#,
        )
        .expect("rule");
        table["rules"]
            .as_array_mut()
            .expect("rules")
            .push(rule.into());
    });
    std::fs::write(shop.path("templates/wholesale.subject.hbs"), "Your order").expect("write");
    std::fs::write(
        shop.path("templates/wholesale.txt.hbs"),
        "Your account manager: {{data.object.metadata.account_manager}}\n",
    )
    .expect("write");
    // No built-in sample is a wholesale payment: nothing of the rule is rendered.
    let (ok, stdout, stderr) = shop.cli(&["check"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("not rendered (no sample event matches): wholesale"),
        "{stdout}"
    );

    let saved = shop.path("saved");
    std::fs::create_dir_all(&saved).expect("mkdir");
    let mut event: serde_json::Value = serde_json::from_str(&read(
        &repo().join("tests/fixtures/stripe/payment_intent.succeeded.json"),
    ))
    .expect("fixture");
    event["data"]["object"]["metadata"]["channel"] = "wholesale".into();
    std::fs::write(saved.join("wholesale-order.json"), event.to_string()).expect("write");
    let (ok, stdout, stderr) = shop.cli(&["check", "--samples", saved.to_str().expect("utf-8")]);
    assert!(!ok, "{stdout}");
    let file = shop.path("templates/wholesale.txt.hbs");
    let expected = format!(
        "{}:1:23: `data.object.metadata.account_manager` is not in the data (strict mode)\n    \
         in rule `wholesale`, action 0 (customer_mail), with sample {}",
        file.display(),
        saved.join("wholesale-order.json").display()
    );
    assert!(stderr.contains(&expected), "{expected}\n{stderr}");

    // A file that is no Stripe event is a problem too.
    std::fs::write(saved.join("notes.json"), "{\"hello\": 1}").expect("write");
    let (ok, _, stderr) = shop.cli(&["check", "--samples", saved.to_str().expect("utf-8")]);
    assert!(!ok);
    assert!(
        stderr.contains("notes.json: not a Stripe event"),
        "{stderr}"
    );
}

#[test]
fn render_prints_the_subject_and_text_and_writes_the_three_parts() {
    let shop = Shop::new(|_| {});
    let fixture = repo().join("tests/fixtures/stripe/payment_intent.succeeded.json");
    let out = shop.path("preview");
    let (ok, stdout, stderr) = shop.cli(&[
        "render",
        "payment_succeeded",
        "--event",
        fixture.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{stderr}");
    let written =
        ["subject", "txt", "html"].map(|part| out.join(format!("payment_succeeded.{part}")));
    let expected = format!(
        "payment_succeeded for {} (evt_1R4QrlHrLd9TstBbciwU1NSl; params of rule `payment-confirmation` action 0)\n\
         Subject: Example Shop: payment received for order ORDER12345\n\
         \n\
         Hi Jenny Rosen,\n\
         \n\
         We received your payment of $49.98 for order ORDER12345. Thank you!\n\
         \n\
         We're getting everything ready and will keep you posted.\n\
         \n\
         Example Shop\n\
         https://shop.example.com\n\
         Questions? Just reply to this email or write to support@example.com.\n\
         \n\
         wrote {}\n",
        fixture.display(),
        written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    assert_eq!(stdout, expected);
    assert_eq!(
        read(&written[0]),
        "Example Shop: payment received for order ORDER12345"
    );
    assert!(read(&written[1]).contains("We received your payment of $49.98"));
    let html = read(&written[2]);
    assert!(html.contains("<html") && html.contains("$49.98"), "{html}");

    // A built-in sample works the same, dated now.
    let (ok, stdout, stderr) =
        shop.cli(&["render", "refund_issued", "--sample", "charge.refunded"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("Subject: Example Shop: your refund for order ORDER12345 is on its way\n"),
        "{stdout}"
    );
}

#[test]
fn render_names_each_missing_field_with_its_file_line_and_path() {
    let shop = Shop::new(|table| {
        table["shop"]
            .as_table_mut()
            .expect("[shop]")
            .remove("support_email");
    });
    let line = shop.edit_template(
        "payment_succeeded.txt.hbs",
        "Thank you!",
        "{{customer.nmae}}",
    );
    let out = shop.path("preview");
    let (ok, stdout, stderr) = shop.cli(&[
        "render",
        "payment_succeeded",
        "--sample",
        "payment_intent.succeeded",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(!ok, "{stdout}");
    let file = shop.path("templates/payment_succeeded.txt.hbs");
    let expected = format!(
        "{}:{line}:{}: `customer.nmae` is not in the data (strict mode)",
        file.display(),
        read(&file)
            .lines()
            .nth(line - 1)
            .and_then(|text| text.find("{{customer.nmae}}"))
            .expect("the typo")
            + 1
    );
    assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    let footer = shop.path("templates/partials/text_footer.hbs");
    let line = line_of(&read(&footer), "{{shop.support_email}}");
    assert!(
        stderr.contains(&format!("text_footer.hbs:{line}:")),
        "{stderr}"
    );
    assert!(stderr.contains("`shop.support_email`"), "{stderr}");
    assert!(!out.exists(), "nothing is written when a part fails");

    let (ok, _, stderr) = shop.cli(&["render", "nope", "--sample", "payment_intent.succeeded"]);
    assert!(!ok);
    assert!(stderr.contains("no template set `nope`"), "{stderr}");
}

#[test]
fn check_renders_the_templates_of_every_plugin_kind() {
    let shop = Shop::new(|table| {
        let extra: toml::Table = toml::from_str(
            r#"
            [plugins.webhook.shipping]
            url = "https://shipping.example.com/hooks"

            [plugins.push.ops_phone]
            provider = "ntfy"
            url = "https://ntfy.sh"
            topic = "orders"

            [plugins.sms.texts]
            provider = "twilio"
            account_sid = "AC0123456789abcdef0123456789abcdef"
            auth_token = "${HERALD_ADMIN_TOKEN}"
            from = "+14155550100"

            [plugins.exec.order_log]
            command = "/bin/true"

            [[rules]]
            name = "paid-everywhere"
            on = ["payment_intent.succeeded"]
            actions = [
              { plugin = "shipping", path = "/orders/{{order_idd}}/ship" },
              { plugin = "ops_phone", title = "Paid: {{customer.nmae}}", body = "{{money amount currency}}" },
              { plugin = "texts", template = "texted" },
              { plugin = "order_log", args = ["{{data.object.metadata.nothing}}"] },
            ]
            "#,
        )
        .expect("extra config");
        for (key, value) in extra {
            match (table.get_mut(&key), value) {
                (Some(toml::Value::Table(plugins)), toml::Value::Table(kinds)) => {
                    plugins.extend(kinds);
                }
                (Some(toml::Value::Array(rules)), toml::Value::Array(more)) => rules.extend(more),
                (_, value) => {
                    table.insert(key, value);
                }
            }
        }
    });
    std::fs::write(shop.path("templates/texted.txt.hbs"), "{{shop.nmae}}: paid").expect("write");
    let (ok, stdout, stderr) = shop.cli(&["check"]);
    assert!(!ok, "{stdout}");
    for (action, plugin, what) in [
        (0, "shipping", "`path` (shipping): inline template line 1, column 9: `order_idd`"),
        (1, "ops_phone", "`title` (ops_phone): inline template line 1, column 7: `customer.nmae`"),
        (2, "texts", "texted.txt.hbs:1:1: `shop.nmae`"),
        (3, "order_log", "`args[0]` (order_log): inline template line 1, column 1: `data.object.metadata.nothing`"),
    ] {
        assert!(stderr.contains(what), "{what}\n{stderr}");
        let at = format!("in rule `paid-everywhere`, action {action} ({plugin}), with sample payment_intent.succeeded");
        assert!(stderr.contains(&at), "{at}\n{stderr}");
    }
    assert!(stderr.contains("has 4 template problems:"), "{stderr}");
}
