//! Hot reload: edits of the config and templates, and SIGHUP, change what a running
//! herald does without a restart; a broken edit leaves the running config in force.

use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_testkit::assert_contains;

use crate::helpers::{
    copy_dir, fixture_with_id, process_config, repo, run_cli, shipped_config_in, spawn_app,
    HeraldProcess,
};

/// A config for the binary in `dir`: workers on, the templates copied beside it,
/// the email instance writing to `dir/outbox`; `extra` is appended.
fn config(dir: &Path, extra: &str) -> String {
    format!(
        r#"{process}
[templates]
dir = "templates"

[shop]
name = "Reload Shop"
support_email = "ops@example.com"

[sources.stripe]
secret = "${{STRIPE_WEBHOOK_SECRET}}"

[plugins.email.customer_mail]
transport = "file"
outbox = "outbox"
from = "Reload Shop <shop@example.com>"

[[rules]]
name = "payment-confirmation"
on = ["payment_intent.succeeded"]
actions = [{{ plugin = "customer_mail", template = "payment_succeeded", to = "{{{{customer.email}}}}" }}]
{extra}"#,
        process = process_config(dir, ""),
    )
}

/// The rule the tests add while herald runs.
const REFUND_RULE: &str = r#"
[[rules]]
name = "refund-thanks"
on = ["charge.refunded"]
actions = [{ plugin = "customer_mail", template = "refund_thanks", to = "{{customer.email}}" }]
"#;

/// A temp folder with a copy of the repo's templates.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::TempDir::new().expect("temp dir");
    copy_dir(&repo().join("templates"), &dir.path().join("templates"));
    dir
}

/// Writes `text` to `path` as editors do: a new file renamed over the old one.
fn save(path: &Path, text: &str) {
    let fresh = path.with_extension("saving");
    std::fs::write(&fresh, text).expect("test step");
    std::fs::rename(&fresh, path).expect("test step");
}

/// The refund template set, with `subject` as its subject template.
fn save_refund_template(dir: &Path, subject: &str) {
    let templates = dir.join("templates");
    std::fs::write(
        templates.join("refund_thanks.txt.hbs"),
        "Your refund of {{money amount currency}} is on its way.\n",
    )
    .expect("test step");
    save(&templates.join("refund_thanks.subject.hbs"), subject);
}

struct Running {
    herald: HeraldProcess,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl Running {
    async fn start(args: &[&str]) -> Self {
        let dir = folder();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config(dir.path(), "")).expect("test step");
        let herald = HeraldProcess::start_with(&path, args).await;
        Self {
            herald,
            dir,
            client: reqwest::Client::new(),
        }
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// Writes the config with `extra` appended and sends SIGHUP.
    fn rewrite_and_hup(&self, extra: &str) {
        std::fs::write(self.config_path(), config(self.dir.path(), extra)).expect("test step");
        self.herald.signal("-HUP");
    }

    /// `herald_config_reloads_total{outcome}` as served at /metrics.
    async fn reloads(&self, outcome: &str) -> u64 {
        let text = self
            .client
            .get(format!("http://{}/metrics", self.herald.addr))
            .send()
            .await
            .expect("metrics answered")
            .text()
            .await
            .expect("test step");
        let prefix = format!("herald_config_reloads_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |value| value.parse().expect("a count"))
    }

    /// Waits until the `outcome` count reaches `count`.
    async fn wait_reloads(&self, outcome: &str, count: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.reloads(outcome).await < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {count}th {outcome} reload within 30 s; log:\n{}",
                self.herald.log.lock().expect("log lock").join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Posts fixture `name` signed, under a fresh `id`; returns the answer's job count.
    async fn post(&self, name: &str, id: &str) -> u64 {
        let body = fixture_with_id(name, id);
        let answer = self.herald.post_signed(body).await;
        let ack: serde_json::Value = answer.json().await.expect("test step");
        ack["jobs"].as_u64().expect("a job count")
    }

    /// Waits for a mail in the outbox whose text contains `needle`, and returns it.
    async fn wait_mail(&self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let outbox = self.dir.path().join("outbox");
            let found = std::fs::read_dir(&outbox).ok().and_then(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
                    .find(|mail| mail.contains(needle))
            });
            if let Some(mail) = found {
                return mail;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mail with {needle:?} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the log has `needles` in this order (a problem may span lines).
    async fn wait_log(&self, needles: &[&str]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.herald.log.lock().expect("log lock").join("\n");
            let mut rest = text.as_str();
            let found = needles.iter().all(|needle| match rest.find(needle) {
                Some(at) => {
                    rest = &rest[at + needle.len()..];
                    true
                }
                None => false,
            });
            if found {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {needles:?} in the log within 30 s; log:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn assert_alive(&self) {
        let health = self
            .client
            .get(format!("http://{}/healthz", self.herald.addr))
            .send()
            .await
            .expect("herald still answers");
        assert_eq!(health.status(), 200);
    }
}

#[tokio::test]
async fn edits_apply_while_herald_runs_and_broken_ones_keep_the_old_config() {
    let run = Running::start(&[]).await;
    let dir = run.dir.path();
    assert_eq!(run.post("charge.refunded", "evt_before").await, 0);

    // A new template set, then a rule that uses it.
    save_refund_template(dir, "Refund on its way for {{order_id}}");
    run.wait_reloads("ok", 1).await;
    save(&run.config_path(), &config(dir, REFUND_RULE));
    run.wait_reloads("ok", 2).await;
    run.wait_log(&["config reloaded", "rules added: refund-thanks"])
        .await;
    assert_eq!(run.post("charge.refunded", "evt_after").await, 1);
    let mail = run
        .wait_mail("Subject: Refund on its way for ORDER12345")
        .await;
    assert!(mail.contains("To: jenny.rosen@example.com"), "{mail}");

    // Broken three ways; each is refused and logged, and the old config still delivers.
    save(&run.config_path(), "[server\nlisten = 1");
    run.wait_reloads("failed", 1).await;
    save(
        &run.config_path(),
        &config(dir, &format!("{REFUND_RULE}concurency = 8\n")),
    );
    run.wait_reloads("failed", 2).await;
    run.wait_log(&["reload refused", "concurency"]).await;
    save(&run.config_path(), &config(dir, REFUND_RULE));
    run.wait_reloads("ok", 3).await;
    save_refund_template(dir, "Refund for {{customer.nmae}}");
    run.wait_reloads("failed", 3).await;
    run.wait_log(&["reload refused", "customer.nmae"]).await;
    run.assert_alive().await;
    assert_eq!(run.post("charge.refunded", "evt_broken").await, 1);
    assert_eq!(run.post("payment_intent.succeeded", "evt_paid").await, 1);
    run.wait_mail("Subject: Reload Shop: payment received for order ORDER12345")
        .await;
    let mail = run
        .wait_mail("X-Herald-Idempotency-Key: stripe:evt_broken:")
        .await;
    assert!(
        mail.contains("Subject: Refund on its way for ORDER12345"),
        "{mail}"
    );
    assert_eq!(run.reloads("ok").await, 3, "no broken edit was applied");
}

#[tokio::test]
async fn sighup_applies_a_good_edit_and_keeps_the_old_config_on_a_bad_one() {
    let run = Running::start(&["--no-watch"]).await;
    let dir = run.dir.path();
    save_refund_template(dir, "Refunded by SIGHUP: {{order_id}}");
    run.rewrite_and_hup(REFUND_RULE);
    run.wait_reloads("ok", 1).await;
    run.wait_log(&["SIGHUP received"]).await;
    assert_eq!(run.post("charge.refunded", "evt_hup").await, 1);
    run.wait_mail("Subject: Refunded by SIGHUP: ORDER12345")
        .await;

    std::fs::write(run.config_path(), "[[rules]]\nname = 1\n").expect("test step");
    run.herald.signal("-HUP");
    run.wait_reloads("failed", 1).await;
    run.assert_alive().await;
    assert_eq!(run.post("charge.refunded", "evt_hup_bad").await, 1);
    assert_eq!(run.reloads("ok").await, 1);

    run.herald.signal("-TERM");
    let exit = tokio::time::timeout(Duration::from_secs(30), run.herald.wait())
        .await
        .expect("herald exits within 30 s");
    assert_eq!(
        exit,
        Some(0),
        "SIGHUP did not end herald; SIGTERM still does"
    );
}

/// A non-atomic writer (`cat > config.toml`) caught half-way leaves the file empty or cut
/// at a line; applied, it removed every rule, and webhooks were acknowledged with no jobs.
#[tokio::test]
async fn an_emptied_or_cut_config_is_held_back_until_sighup_confirms_it() {
    let run = Running::start(&[]).await;
    let dir = run.dir.path();
    std::fs::write(run.config_path(), "").expect("emptied in place");
    run.wait_reloads("failed", 1).await;
    run.wait_log(&["reload refused", "no source is configured"])
        .await;
    let full = config(dir, "");
    let cut = &full[..full.find("[[rules]]").expect("a rule")];
    std::fs::write(run.config_path(), cut).expect("cut in place");
    run.wait_reloads("failed", 2).await;
    run.wait_log(&["held back", "removes every rule (1 in force)", "SIGHUP"])
        .await;
    assert_eq!(run.post("payment_intent.succeeded", "evt_still").await, 1);
    assert_eq!(run.reloads("ok").await, 0);

    // The operator meant it: SIGHUP applies the rule-less config.
    run.herald.signal("-HUP");
    run.wait_reloads("ok", 1).await;
    assert_eq!(run.post("payment_intent.succeeded", "evt_none").await, 0);
}

/// A secret added after start: an environment variable never reaches the running
/// herald (the reload says why), a `${file:…}` is read at the reload.
#[tokio::test]
async fn a_reload_reads_secret_files_again_and_explains_a_missing_variable() {
    let run = Running::start(&["--no-watch"]).await;
    let dir = run.dir.path();
    let hook = |secret: &str| {
        format!(
            "\n[plugins.webhook.shipping]\nurl = \"http://127.0.0.1:9/ship\"\nsecret = \"{secret}\"\n\n\
             [[rules]]\nname = \"ship\"\non = [\"charge.refunded\"]\nactions = [{{ plugin = \"shipping\" }}]\n"
        )
    };
    run.rewrite_and_hup(&hook("${SHIPPING_SECRET_ADDED_LATER}"));
    run.wait_reloads("failed", 1).await;
    run.wait_log(&[
        "SHIPPING_SECRET_ADDED_LATER",
        "keeps the environment it was started with",
    ])
    .await;
    // `herald check` in a shell that has the variable says the running one lacks it.
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(run.config_path())
        .arg("check")
        .envs(crate::helpers::test_env())
        .env(
            "SHIPPING_SECRET_ADDED_LATER",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        .output()
        .expect("check runs");
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}");
    let pid = run.herald.child.id();
    assert!(
        out.contains(&format!(
            "note: the running herald (pid {pid}) lacks SHIPPING_SECRET_ADDED_LATER, set here"
        )),
        "{out}"
    );

    std::fs::create_dir(dir.join("secrets")).expect("test step");
    std::fs::write(
        dir.join("secrets/shipping"),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
    )
    .expect("test step");
    run.rewrite_and_hup(&hook("${file:secrets/shipping}"));
    run.wait_reloads("ok", 1).await;
    assert_eq!(run.post("charge.refunded", "evt_ship").await, 1);
}

#[tokio::test]
async fn queued_jobs_go_to_the_new_instance_and_wait_while_theirs_is_removed() {
    let app = spawn_app().await;
    let path = app.config_path();
    let shipped = std::fs::read_to_string(&path).expect("test step");
    let body = fixture_with_id("payment_intent.succeeded", "evt_queued");
    assert_eq!(app.post_webhook(&body).await.status(), 200);

    // The same instance name with another sender: the queued job goes out through it.
    let resent = shipped.replace(
        "Example Shop <shop@example.com>",
        "Reloaded Shop <reloaded@example.com>",
    );
    assert_ne!(resent, shipped);
    std::fs::write(&path, &resent).expect("test step");
    let changes = app.reload().await;
    assert!(changes.plugins_added.is_empty(), "{changes:?}");
    let jobs = app.settle("evt_queued").await;
    assert!(jobs.iter().all(|job| job.status == "delivered"), "{jobs:?}");
    let mails = app.outbox();
    assert_eq!(mails.len(), 1);
    assert_contains(
        &mails[0],
        &["From: \"Reloaded Shop\" <reloaded@example.com>"],
    );

    // Without the instance (and the rules that use it), its queued job waits.
    let body = fixture_with_id("payment_intent.succeeded", "evt_orphan");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let mut table: toml::Table = toml::from_str(&resent).expect("test step");
    table["plugins"]
        .as_table_mut()
        .expect("test step")
        .remove("email")
        .expect("the email instance");
    for section in ["rules", "followups", "digests"] {
        let rules = table[section].as_array_mut().expect("test step");
        rules.retain(|rule| !rule.to_string().contains("customer_mail"));
    }
    std::fs::write(&path, toml::to_string(&table).expect("test step")).expect("test step");
    let changes = app.reload().await;
    assert_eq!(changes.plugins_removed, ["customer_mail"], "{changes:?}");
    assert!(
        changes
            .rules_removed
            .contains(&"payment-confirmation".to_owned()),
        "{changes:?}"
    );
    app.dispatch_all_pending().await;
    let jobs = app.jobs("evt_orphan").await;
    let mail_job = jobs
        .iter()
        .find(|job| job.plugin == "customer_mail")
        .expect("the mail job");
    assert_eq!(mail_job.status, "pending", "{jobs:?}");
    assert_eq!(mail_job.attempts, 0, "{jobs:?}");
    assert_eq!(
        app.metrics.get(
            "herald_deliveries_deferred_total",
            &[("plugin", "customer_mail")]
        ),
        1
    );
    assert_eq!(app.outbox().len(), 1, "nothing new was sent");
    assert_eq!(
        app.metrics
            .get("herald_config_reloads_total", &[("outcome", "ok")]),
        2
    );

    // Until an operator says it is not coming back.
    let purge = ["purge", "--queued", "--plugin", "customer_mail"];
    let (ok, out, err) = crate::helpers::cli(&path, &purge).await;
    assert!(ok, "{err}");
    assert!(out.contains(&mail_job.id.to_string()), "{out}");
    assert!(out.contains("evt_orphan"), "{out}");
    assert!(
        out.contains("1 jobs queued for `customer_mail` would be deleted"),
        "{out}"
    );
    let (ok, out, err) = crate::helpers::cli(&path, &[&purge[..], &["--yes"]].concat()).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "purged 1 jobs queued for `customer_mail` and their attempts\n"
    );
    assert_eq!(app.store.job(mail_job.id).await.expect("test step"), None);
    let jobs = app.jobs("evt_orphan").await;
    assert!(
        jobs.iter().all(|job| job.plugin != "customer_mail"),
        "{jobs:?}"
    );
}

#[test]
fn queued_jobs_of_a_configured_instance_cannot_be_purged() {
    let dir = tempfile::TempDir::new().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, shipped_config_in(dir.path())).expect("config");
    let (ok, _, err) = run_cli(&path, &["purge", "--queued", "--plugin", "customer_mail"]);
    assert!(!ok);
    assert!(err.contains("`customer_mail` is in"), "{err}");
    assert!(err.contains("remove it from the config first"), "{err}");
    let (ok, _, err) = run_cli(&path, &["purge", "--queued"]);
    assert!(!ok, "--queued needs --plugin");
    assert!(err.contains("--plugin"), "{err}");
    let (ok, _, err) = run_cli(&path, &["purge", "--queued", "--plugin", "x", "--all"]);
    assert!(!ok, "--queued takes no dead-letter filter");
    assert!(err.contains("cannot be used with"), "{err}");
}

#[tokio::test]
async fn restart_only_settings_are_reported_and_the_rest_applies() {
    let app = spawn_app().await;
    app.edit_config(|table| {
        table["server"]["body_limit_bytes"] = 10.into();
        table["dispatch"]["concurrency"] = 1.into();
        table["shop"]["name"] = "Renamed Shop".into();
    });
    let changes = app.reload().await;
    assert_eq!(
        changes.restart_only,
        ["server.body_limit_bytes", "dispatch.concurrency"]
    );
    assert!(changes.shop_changed, "{changes:?}");
    // The running server keeps its limit: an event far over the new 10 bytes is taken.
    app.accept_fixture("payment_intent.succeeded").await;
    let jobs = app.settle("evt_1R4QrlHrLd9TstBbciwU1NSl").await;
    assert!(jobs.iter().all(|job| job.status == "delivered"), "{jobs:?}");
    let mails = app.outbox();
    assert_contains(&mails[0], &["Subject: Renamed Shop: payment received"]);
}

/// The reload log counted the lines it printed ("has 2 problems:" and each problem)
/// rather than the problems, so it said 3 where `herald check` said 2.
#[tokio::test]
async fn a_refused_reload_lists_each_problem_once_as_check_counts_them() {
    let app = spawn_app().await;
    app.edit_config(|table| {
        table["dispatch"]["concurrency"] = 0.into();
        table["dispatch"]["lease_secs"] = 0.into();
    });
    let problems = app.reload_refused().await;
    let endings = [
        "dispatch.concurrency: must be at least 1",
        "dispatch.lease_secs: must be at least 1",
    ];
    assert_eq!(problems.len(), endings.len(), "{problems:#?}");
    for (problem, ending) in problems.iter().zip(endings) {
        assert!(problem.ends_with(ending), "{problems:#?}");
    }
}

/// A template that does not render made every job using it a dead letter, to be
/// replayed by hand after the fix. Now the job is held, spends no attempt, and the
/// reload that fixes the template sends it.
#[tokio::test]
async fn a_job_held_for_a_broken_template_is_sent_by_the_reload_that_fixes_it() {
    let (app, subject, good) = crate::console::app_with_broken_subject().await;
    let id = "evt_1R4QrlHrLd9TstBbciwU1NSl";
    app.accept_fixture("payment_intent.succeeded").await;
    let jobs = app.settle(id).await;
    let mail = jobs
        .iter()
        .find(|job| job.plugin == "customer_mail")
        .expect("the mail job");
    assert_eq!(mail.status, "held", "{jobs:?}");
    assert!(
        mail.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("customer.nmae"),
        "{mail:?}"
    );
    assert!(app.outbox().is_empty(), "nothing was sent");

    std::fs::write(&subject, good).expect("fixed");
    app.reload().await;
    let mail = app
        .settle(id)
        .await
        .into_iter()
        .find(|job| job.plugin == "customer_mail")
        .expect("the mail job");
    assert_eq!(mail.status, "delivered", "{mail:?}");
    assert_eq!(app.outbox().len(), 1);
}

/// `metrics.listen` was reported as needing a restart but then recorded as in force,
/// so the next reload said nothing of it though the old listener still served.
#[tokio::test]
async fn a_new_metrics_listener_is_reported_at_every_reload_until_a_restart() {
    let app = spawn_app().await;
    app.edit_config(|table| {
        let mut metrics = toml::Table::new();
        metrics.insert("listen".to_owned(), "127.0.0.1:0".into());
        table.insert("metrics".to_owned(), metrics.into());
    });
    for round in 1..=2 {
        let changes = app.reload().await;
        assert_eq!(changes.restart_only, ["metrics.listen"], "reload {round}");
    }
}
