//! `herald trigger`: every sample, signed and sent by the trigger code, is taken by a
//! real herald; the CLI edits, prints and sends files as documented.

use std::path::{Path, PathBuf};

use herald::cli::trigger::{build, send, Outgoing};
use herald::samples;
use herald::source::stripe::verify;
use herald_testkit::assert_contains;
use serde_json::Value;

use crate::helpers::{repo, run_cli, spawn_app, TestApp, SECRET};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// [`run_cli`] off the runtime's threads, so the herald under test keeps answering.
async fn cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let config = config.to_owned();
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&config, &args)
    })
    .await
    .expect("cli ran")
}

/// `herald trigger payment_intent.succeeded` against `app`: its webhook URL, whether
/// the command succeeded, and what it printed.
async fn trigger_payment(app: &TestApp) -> (String, bool, String, String) {
    let url = app.url("/webhooks/stripe");
    let (ok, out, err) = cli(
        &app.config_path(),
        &["trigger", "payment_intent.succeeded", "--url", &url],
    )
    .await;
    (url, ok, out, err)
}

/// Sends `outgoing` to `app`'s Stripe endpoint and reads back the event it stored.
async fn deliver(app: &TestApp, outgoing: Outgoing) -> herald_plugin_api::Event {
    let id = outgoing.id.clone().expect("an id");
    let answer = send(&app.url("/webhooks/stripe"), SECRET, outgoing.body, now())
        .await
        .expect("answered");
    assert_eq!(answer.status, 200, "{id}: {}", answer.body);
    app.store
        .event("stripe", &id)
        .await
        .expect("store")
        .unwrap_or_else(|| panic!("{id} not stored"))
}

fn payload(event: &herald_plugin_api::Event) -> Value {
    event.raw.value().clone()
}

#[tokio::test]
async fn every_sample_sent_by_the_trigger_code_is_stored_with_its_type() {
    let app = spawn_app().await;
    let kinds: Vec<&str> = samples::stripe_types().collect();
    assert!(kinds.len() >= 23, "{kinds:?}");
    for kind in kinds {
        let outgoing = build(kind, &[], now()).expect("a sample");
        let stored = deliver(&app, outgoing).await;
        assert!(stored.id.starts_with("evt_"), "{}", stored.id);
        assert_eq!(stored.kind, kind);
    }
}

#[tokio::test]
async fn set_edits_land_in_the_stored_event() {
    let app = spawn_app().await;
    let sets = [
        "data.object.metadata.order_id=A17",
        "data.object.amount=1234",
        "data.object.shipping.carrier=\"UPS\"",
        "data.object.metadata.gift=true",
    ]
    .map(|text| text.parse().expect("an assignment"));
    let outgoing = build("payment_intent.succeeded", &sets, now()).expect("built");
    let stored = deliver(&app, outgoing).await;
    assert_eq!(stored.order_id.as_deref(), Some("A17"));
    assert_eq!(stored.amount, Some(1234));
    let object = &payload(&stored)["data"]["object"];
    assert_eq!(object["shipping"]["carrier"], "UPS");
    assert_eq!(object["metadata"]["gift"], true);
    assert_eq!(
        object["receipt_email"], "jenny.rosen@example.com",
        "the rest is kept"
    );

    let err = build(
        "payment_intent.succeeded",
        &["data.object.amount.value=1".parse().unwrap()],
        now(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `data.object.amount.value`: `data.object.amount` is a number, not an object"
    );
}

#[tokio::test]
async fn the_cli_sends_the_shipped_sample_and_the_shipped_mail_goes_out() {
    let app = spawn_app().await;
    let (url, ok, out, err) = trigger_payment(&app).await;
    assert!(ok, "{out}\n{err}");
    let mut lines = out.lines();
    let first = lines.next().expect("a first line");
    assert!(
        first.starts_with("sending payment_intent.succeeded evt_"),
        "{out}"
    );
    assert!(first.ends_with(&format!(" to {url}")), "{out}");
    assert_eq!(lines.next(), Some("200 OK"), "{out}");
    assert_eq!(
        lines.next(),
        Some(r#"{"received":true,"duplicate":false,"jobs":2}"#),
        "{out}"
    );
    let id = first.split_whitespace().nth(2).expect("the id");
    let jobs = app.settle(id).await;
    assert!(jobs.iter().all(|job| job.status == "delivered"), "{jobs:?}");
    let mails = app.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_contains(
        &mails[0],
        &[
            "To: jenny.rosen@example.com",
            "Subject: Example Shop: payment received for order ORDER12345",
        ],
    );
}

#[tokio::test]
async fn the_secret_comes_from_the_config_and_a_refusal_exits_non_zero() {
    let app = spawn_app().await;
    let url = app.url("/webhooks/stripe");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[sources.stripe]\nsecret = \"${TRIGGER_SECRET}\"\n",
    )
    .unwrap();
    let run = |secret: &'static str| {
        let (config, url) = (config.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
                .args(["--config".as_ref(), config.as_os_str()])
                .args(["trigger", "charge.succeeded", "--url", &url])
                .env_remove("STRIPE_WEBHOOK_SECRET")
                .env("TRIGGER_SECRET", secret)
                .output()
                .expect("herald runs")
        })
    };
    let good = run(SECRET).await.unwrap();
    assert!(good.status.success(), "{good:?}");
    let bad = run("whsec_wrong").await.unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(out.contains("401 Unauthorized"), "{out}");
    assert!(out.contains("no signature matches the payload"), "{out}");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("herald answered 401 Unauthorized"), "{err}");
}

#[tokio::test]
async fn an_unknown_type_is_refused_with_the_close_matches() {
    let app = spawn_app().await;
    let (ok, out, err) = cli(
        &app.config_path(),
        &[
            "trigger",
            "payment_intent.succeded",
            "--url",
            &app.url("/webhooks/stripe"),
        ],
    )
    .await;
    assert!(!ok);
    assert_eq!(out, "");
    assert_eq!(
        err.trim_end(),
        "error: no sample event of type `payment_intent.succeded`; did you mean \
         payment_intent.succeeded? (`herald trigger --list` shows every type)"
    );
    assert_eq!(app.store.event_count().await.unwrap(), 0);
}

#[tokio::test]
async fn print_shows_an_event_and_a_header_that_verify_with_the_secret() {
    let app = spawn_app().await;
    let (ok, body, err) = cli(
        &app.config_path(),
        &["trigger", "charge.refunded", "--print"],
    )
    .await;
    assert!(ok, "{err}");
    let header = err
        .trim_end()
        .strip_prefix("Stripe-Signature: ")
        .unwrap_or_else(|| panic!("a header on stderr: {err}"));
    verify(Some(header), body.as_bytes(), SECRET.as_bytes(), 300, now()).expect("verifies");
    let event: Value = serde_json::from_str(&body).expect("JSON on stdout");
    assert_eq!(event["type"], "charge.refunded");
    assert!((event["created"].as_i64().unwrap() - now()).abs() < 60);
    assert_eq!(app.store.event_count().await.unwrap(), 0, "nothing sent");

    // What was printed is what would be sent: herald takes it as it is.
    let response = app
        .post_raw(body.into_bytes(), Some(header.to_owned()))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn file_sends_the_file_unchanged() {
    let app = spawn_app().await;
    let file: PathBuf = repo().join("tests/fixtures/stripe/refund.created.json");
    let fixture: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let file = file.display().to_string();
    let url = app.url("/webhooks/stripe");
    let (ok, out, err) = cli(
        &app.config_path(),
        &["trigger", "--file", &file, "--url", &url],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let id = fixture["id"].as_str().unwrap();
    assert!(
        out.starts_with(&format!("sending refund.created {id} to {url}\n200 OK\n")),
        "{out}"
    );
    let stored = app
        .store
        .event("stripe", id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(payload(&stored), fixture);
}

#[tokio::test]
async fn list_shows_every_sample_type() {
    let app = spawn_app().await;
    let (ok, out, err) = cli(&app.config_path(), &["trigger", "--list"]).await;
    assert!(ok, "{err}");
    let listed: Vec<&str> = out.lines().collect();
    assert_eq!(listed, samples::stripe_types().collect::<Vec<_>>());
    let (ok, json, _) = cli(&app.config_path(), &["trigger", "--list", "--json"]).await;
    assert!(ok);
    let parsed: Vec<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, listed);
}

/// The README's walkthrough shows what `herald trigger payment_intent.succeeded` prints.
#[tokio::test]
async fn the_readme_shows_what_trigger_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme
        .find("-- trigger payment_intent.succeeded\n")
        .expect("the walkthrough triggers payment_intent.succeeded");
    let shown: Vec<&str> = readme[start..]
        .lines()
        .skip(1)
        .take(3)
        .map(|line| line.trim_start_matches("# "))
        .collect();
    let app = spawn_app().await;
    let (url, ok, out, err) = trigger_payment(&app).await;
    assert!(ok, "{err}");
    let printed: Vec<String> = out
        .lines()
        .map(|line| {
            // The README shows an elided id and the shipped config's address.
            let line = line.replace(&url, "http://127.0.0.1:8787/webhooks/stripe");
            match line.split_whitespace().nth(2) {
                Some(id) if id.starts_with("evt_") => line.replace(id, "evt_…"),
                _ => line,
            }
        })
        .collect();
    assert_eq!(printed, shown);
}

/// `sign --help` showed `--secret` as required; without it, the config's secret signs.
#[test]
fn sign_falls_back_to_the_configs_secret() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    std::fs::write(dir.path().join("stripe.secret"), "whsec_from_file\n").expect("secret");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[sources.stripe]\nsecret = \"${file:stripe.secret}\"\n",
    )
    .expect("config");
    let body = dir.path().join("event.json");
    std::fs::write(&body, br#"{"id":"evt_1"}"#).expect("body");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(&config)
        .arg("sign")
        .arg(&body)
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .output()
        .expect("runs");
    let header = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let t: i64 = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .expect("a timestamp");
    let expected = herald::source::stripe::sign(br#"{"id":"evt_1"}"#, b"whsec_from_file", t);
    assert_eq!(header, format!("t={t},v1={expected}"));
}

#[tokio::test]
async fn a_story_sends_its_case_in_order_and_the_dispute_reaches_the_order() {
    let app = spawn_app().await;
    let url = app.url("/webhooks/stripe");
    let (ok, out, err) = cli(
        &app.config_path(),
        &["trigger", "--story", "order-disputed", "--url", &url],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let sent: Vec<&str> = out
        .lines()
        .filter_map(|line| line.strip_prefix("sending "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(
        sent,
        [
            "payment_intent.succeeded",
            "charge.succeeded",
            "charge.dispute.created",
            "charge.dispute.updated",
            "charge.dispute.closed",
        ]
    );
    app.dispatch_all_pending().await;
    let (ok, shown, err) =
        crate::helpers::cli(&app.config_path(), &["orders", "show", "ORDER12345"]).await;
    assert!(ok, "{err}");
    // Won: the dispute, reached through the links, settled back to paid.
    assert!(shown.starts_with("order ORDER12345: paid"), "{shown}");
    assert!(shown.contains("charge.dispute.created"), "{shown}");
    assert!(shown.contains("charge.dispute.closed"), "{shown}");
}

#[test]
fn a_herald_event_type_is_not_sent_as_if_stripe_had_sent_it() {
    let err = herald::cli::trigger::build("herald.stock_low", &[], 1)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("event of herald's own"), "{err}");
    assert!(!samples::stripe_types().any(|kind| kind.starts_with("herald.")));
    assert!(samples::types().any(|kind| kind == "herald.stock_low"));
}

/// The stock recipe of docs/recipes.md: a story's `--set` reaches every event, and
/// the order announced by its payment, charge and checkout takes stock once.
#[tokio::test]
async fn a_story_with_line_items_takes_the_orders_stock_once() {
    let config = [
        crate::helpers::base_config(),
        "[plugins.inventory.stock]\n".to_owned(),
        crate::helpers::rule(
            "stock",
            "[\"checkout.session.completed\", \"payment_intent.succeeded\", \"charge.refunded\", \
             \"refund.created\"]\nwhen = \"order_id exists\"",
            r#"plugin = "stock""#,
        ),
    ]
    .concat();
    let app = crate::helpers::spawn_app_with(&config).await;
    let (ok, _, err) = crate::helpers::cli(
        &app.config_path(),
        &["inventory", "SKU-TEE-M", "--adjust", "6"],
    )
    .await;
    assert!(ok, "{err}");
    let url = app.url("/webhooks/stripe");
    let items = "data.object.metadata.items=SKU-TEE-M:2";
    let args = [
        "trigger",
        "--story",
        "order-paid",
        "--set",
        items,
        "--url",
        &url,
    ];
    let (ok, out, err) = cli(&app.config_path(), &args).await;
    assert!(ok, "{out}\n{err}");
    app.dispatch_all_pending().await;
    let (ok, levels, err) =
        crate::helpers::cli(&app.config_path(), &["inventory", "SKU-TEE-M"]).await;
    assert!(ok, "{err}");
    assert!(
        levels.split_whitespace().any(|w| w == "4"),
        "taken once: {levels}"
    );
}
