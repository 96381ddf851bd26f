//! The console in a real headless Chromium through WebDriver (chromedriver), against
//! a herald on 127.0.0.1 with seeded events. One browser session walks the whole
//! story, taking the screenshots `docs/console.md` shows.
//!
//! `scripts/browser` installs Debian's `chromium` and `chromium-driver`; without a
//! chromedriver the test says so and passes, unless `HERALD_BROWSER_TESTS=required`
//! (as `scripts/test` sets it), which makes a missing browser a failure.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use herald::store::JobStatus;
use herald_testkit::HttpSink;
use serde_json::{json, Map, Value};

use crate::console::app_with;
use crate::helpers::{fixture_with_id, repo, TestApp};

/// Longest any one state is waited for: a slow machine, never a timing claim.
const PATIENCE: Duration = Duration::from_secs(30);

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// Polls `check` until it holds; panics naming `what` after [`PATIENCE`].
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts chromedriver on a free port and a headless Chromium session with a fresh
/// profile; `None` when there is no chromedriver and it is not required.
async fn browser() -> Option<(Driver, Client)> {
    let Some(chromedriver) = std::env::var_os("HERALD_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_on_path("chromedriver"))
    else {
        let required = std::env::var("HERALD_BROWSER_TESTS").is_ok_and(|v| v == "required");
        assert!(
            !required,
            "no chromedriver: run scripts/browser to install it"
        );
        eprintln!("skipping the browser test: no chromedriver (scripts/browser installs it)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::TempDir::new().expect("profile dir");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: profile,
    };
    let status = format!("{}/status", driver.url);
    let http = reqwest::Client::new();
    until("chromedriver to answer", || {
        let request = http.get(&status).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars",
            format!("--user-data-dir={}", driver._profile.path().display()),
        ]
    });
    if let Some(chromium) = find_on_path("chromium") {
        options["binary"] = Value::from(chromium.display().to_string());
    }
    let mut capabilities = Map::new();
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session");
    Some((driver, client))
}

/// Saves what the browser shows as `docs/screenshots/<name>.png`.
async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let dir = repo().join("docs/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
}

/// The text of the first element matching `css`, or empty.
async fn text(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn wait_for_text(client: &Client, css: &str, wanted: &str) {
    until(&format!("`{wanted}` in {css}"), || async {
        text(client, css).await.contains(wanted)
    })
    .await;
}

/// Posts a fixture under a fresh id and delivers what it planned.
async fn deliver(app: &TestApp, fixture: &str, id: &str) {
    let body = fixture_with_id(fixture, id);
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.settle(id).await;
}

async fn job_status(app: &TestApp, event_id: &str, plugin: &str) -> JobStatus {
    let jobs = app.jobs(event_id).await;
    jobs.iter()
        .find(|job| job.plugin == plugin)
        .map(|job| job.status)
        .expect("the job")
}

#[tokio::test]
async fn the_console_in_a_browser_lists_details_replays_and_edits_templates() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let sink = HttpSink::start().await;
    let app = app_with(&format!(
        r#"
[plugins.webhook.ops_hook]
url = "{url}"

[[rules]]
name = "dispute-to-ops"
on = ["charge.dispute.created"]
actions = [{{ plugin = "ops_hook" }}]
"#,
        url = sink.url()
    ))
    .await;
    // Seeded: a delivered payment, and a dispute whose ops webhook is refused for good.
    deliver(&app, "payment_intent.succeeded", "evt_console_paid").await;
    sink.set_status(404);
    deliver(&app, "charge.dispute.created", "evt_console_dispute").await;
    assert_eq!(
        job_status(&app, "evt_console_dispute", "ops_hook").await,
        JobStatus::Dead
    );
    sink.set_status(200);

    if let Some(path) = app.console_login_path() {
        client.goto(&app.console_url(&path)).await.expect("login");
    }
    events_list_updates_live(&client, &app).await;
    detail_shows_attempts(&client, &app).await;
    a_held_order_shows_its_hold(&client, &app).await;
    a_subscription_shows_its_access(&client, &app).await;
    a_waiting_follow_up_is_listed(&client, &app).await;
    the_report_draws_net_per_day(&client, &app).await;
    the_daily_summary_previews(&client, &app).await;
    replay_requeues_a_dead_letter(&client, &app).await;
    editor_previews_flags_errors_and_saves(&client, &app).await;
    editor_fits_the_screen_and_keeps_unsaved_edits(&client, &app).await;
    a_text_only_set_is_shown_as_an_sms(&client, &app).await;
    phone_layout(&client, &app).await;
    client.close().await.expect("session closed");
}

async fn events_list_updates_live(client: &Client, app: &TestApp) {
    client
        .goto(&app.console_url("/"))
        .await
        .expect("events page");
    wait_for_text(client, "table.events", "evt_console_dispute").await;
    assert!(text(client, "table.events")
        .await
        .contains("evt_console_paid"));
    // A new event arrives while the page is open: the list shows it without a reload.
    deliver(app, "charge.refunded", "evt_console_refund").await;
    wait_for_text(client, "table.events", "evt_console_refund").await;
    screenshot(client, "events").await;
}

async fn detail_shows_attempts(client: &Client, app: &TestApp) {
    client
        .goto(&app.console_url("/events/stripe/evt_console_dispute"))
        .await
        .expect("detail page");
    wait_for_text(client, "[data-live=jobs]", "ops_hook").await;
    let jobs = text(client, "[data-live=jobs]").await;
    assert!(jobs.contains("failed") && jobs.contains("404"), "{jobs}");
    assert!(jobs.contains("delivered"), "the alert mail: {jobs}");
    screenshot(client, "event-detail").await;
    // Replay from the event's page asks first (it used to replay at once); Cancel
    // leaves the dead letter as it is.
    client
        .find(Locator::Css("button[data-action=replay-event]"))
        .await
        .expect("replay button")
        .click()
        .await
        .expect("clicked");
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("dialog[open] button[value=cancel]"))
        .await
        .expect("the confirmation")
        .click()
        .await
        .expect("cancelled");
    wait_for_text(client, "body", "Nothing changed").await;
    assert_eq!(
        job_status(app, "evt_console_dispute", "ops_hook").await,
        JobStatus::Dead
    );
}

/// An early fraud warning names only the charge: reached through the links, it puts
/// the paid order on hold, which its page shows beside the status.
async fn a_held_order_shows_its_hold(client: &Client, app: &TestApp) {
    let mut warning = crate::helpers::sample("radar.early_fraud_warning.created");
    warning["id"] = "evt_console_warning".into();
    let body = serde_json::to_vec(&warning).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.settle("evt_console_warning").await;
    client
        .goto(&app.console_url("/orders/ORDER12345"))
        .await
        .expect("order page");
    wait_for_text(client, "dl.fields", "on hold").await;
    assert!(text(client, "table.history").await.contains("hold"));
    screenshot(client, "order-held").await;
}

/// A subscription whose events name only `cus_…`: its page shows the plan and access.
async fn a_subscription_shows_its_access(client: &Client, app: &TestApp) {
    for name in [
        "customer.subscription.created",
        "customer.subscription.updated",
    ] {
        let body = serde_json::to_vec(&crate::helpers::sample(name)).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    app.dispatch_all_pending().await;
    client
        .goto(&app.console_url("/subscriptions/sub_1PpTbmHrLd9TstRsHdRXfr8n"))
        .await
        .expect("subscription page");
    wait_for_text(client, "dl.fields", "Coffee club monthly").await;
    assert!(text(client, "dl.fields")
        .await
        .contains("at the end of the period"));
    screenshot(client, "subscription").await;
}

/// A failed invoice starts the shipped reminder: the follow-ups page shows it waiting.
async fn a_waiting_follow_up_is_listed(client: &Client, app: &TestApp) {
    let mut failed = crate::helpers::sample("invoice.payment_failed");
    failed["created"] = chrono::Utc::now().timestamp().into();
    let body = serde_json::to_vec(&failed).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    client
        .goto(&app.console_url("/followups"))
        .await
        .expect("follow-ups page");
    wait_for_text(client, "table.followups", "invoice-still-unpaid").await;
    screenshot(client, "followups").await;
}

/// A week of payments and a refund: the report page charts the net of each day.
async fn the_report_draws_net_per_day(client: &Client, app: &TestApp) {
    let now = chrono::Utc::now().timestamp();
    for (day, amount) in [(6, 4998), (5, 12000), (3, 2500), (2, 8999), (1, 4998)] {
        let mut paid = crate::helpers::sample("payment_intent.succeeded");
        paid["id"] = format!("evt_report_day_{day}").into();
        paid["created"] = (now - day * 86_400).into();
        paid["data"]["object"]["id"] = format!("pi_report_day_{day}").into();
        paid["data"]["object"]["amount_received"] = amount.into();
        let body = serde_json::to_vec(&paid).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    let mut refund = crate::helpers::sample("refund.created");
    refund["id"] = "evt_report_refund".into();
    refund["created"] = (now - 4 * 86_400).into();
    refund["data"]["object"]["id"] = "re_report_day_4".into();
    let body = serde_json::to_vec(&refund).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    client
        .goto(&app.console_url("/report"))
        .await
        .expect("report page");
    wait_for_text(client, "figure.chart figcaption", "Net per day, USD").await;
    screenshot(client, "report").await;
}

/// The shipped digest's mail, previewed against its sample: what the accountant gets.
async fn the_daily_summary_previews(client: &Client, app: &TestApp) {
    client
        .goto(&app.console_url("/templates?name=daily_summary"))
        .await
        .expect("editor");
    wait_for_text(client, "#preview-subject", "Summary for").await;
    wait_for_text(client, "#preview-state", "up to date").await;
    screenshot(client, "daily-summary").await;
}

async fn replay_requeues_a_dead_letter(client: &Client, app: &TestApp) {
    client
        .goto(&app.console_url("/dead-letters"))
        .await
        .expect("dead letters page");
    wait_for_text(client, "table.dead-letters", "evt_console_dispute").await;
    client
        .find(Locator::Css("input[name=job]"))
        .await
        .expect("a dead letter's checkbox")
        .click()
        .await
        .expect("selected");
    client
        .find(Locator::Css("button[data-action=replay-selected]"))
        .await
        .expect("replay button")
        .click()
        .await
        .expect("clicked");
    let confirm = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("dialog[open] button[data-confirm]"))
        .await
        .expect("the confirmation");
    screenshot(client, "dead-letters").await;
    confirm.click().await.expect("confirmed");
    wait_for_text(client, ".actions .result", "Replayed 1 dead letter").await;
    assert_eq!(
        job_status(app, "evt_console_dispute", "ops_hook").await,
        JobStatus::Pending
    );
    app.settle("evt_console_dispute").await;
    assert_eq!(
        job_status(app, "evt_console_dispute", "ops_hook").await,
        JobStatus::Delivered
    );
}

async fn editor_previews_flags_errors_and_saves(client: &Client, app: &TestApp) {
    client
        .goto(&app.console_url("/templates?name=payment_succeeded"))
        .await
        .expect("editor");
    wait_for_text(client, "#preview-state", "up to date").await;
    let subject = client
        .find(Locator::Css("#part-subject"))
        .await
        .expect("subject");
    subject.clear().await.expect("cleared");
    subject
        .send_keys("Thanks, {{customer.name}}! Order {{order_id}}")
        .await
        .expect("typed");
    wait_for_text(
        client,
        "#preview-subject",
        "Thanks, Jenny Rosen! Order ORDER12345",
    )
    .await;
    wait_for_text(client, "#preview-state", "up to date").await;
    screenshot(client, "editor").await;

    let html = client
        .find(Locator::Css("#part-html"))
        .await
        .expect("html part");
    let original = html.prop("value").await.expect("value").unwrap_or_default();
    html.send_keys("\n<p>{{customer.nmae}}</p>")
        .await
        .expect("typed");
    wait_for_text(client, "[data-errors=html]", "customer.nmae").await;
    let error = text(client, "[data-errors=html]").await;
    let last_line = original.matches('\n').count() + 2;
    assert!(error.contains(&format!("line {last_line}")), "{error}");
    screenshot(client, "editor-error").await;

    // Saving the broken draft is refused, the file stays as it was.
    client
        .find(Locator::Css("#save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("clicked");
    wait_for_text(client, "#save-result", "Not saved").await;
    let file = app.dir.path().join("templates/payment_succeeded.html.hbs");
    assert_eq!(std::fs::read_to_string(&file).expect("file"), original);

    html.clear().await.expect("cleared");
    html.send_keys(&original).await.expect("typed");
    wait_for_text(client, "#preview-state", "up to date").await;
    client
        .find(Locator::Css("#save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("clicked");
    wait_for_text(client, "#save-result", "Saved").await;

    // The reload the file watcher starts on a save; then the next mail uses the edit.
    app.reload().await;
    // Another order: ORDER12345 is refunded by now, and the confirmation mail's rule
    // asks for a paid order.
    let body = String::from_utf8(fixture_with_id(
        "payment_intent.succeeded",
        "evt_console_after_edit",
    ))
    .expect("a UTF-8 fixture")
    .replace("ORDER12345", "ORDER12346")
    .into_bytes();
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.settle("evt_console_after_edit").await;
    let mails = app.outbox();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: Thanks, Jenny Rosen! Order ORDER12346")),
        "{mails:?}"
    );
}

/// Whether the page is wider than the window (it scrolls sideways).
async fn scrolls_sideways(client: &Client) -> bool {
    let wider = client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            Vec::new(),
        )
        .await
        .expect("script");
    wider.as_bool().expect("a boolean")
}

/// A long unbroken line (a pasted URL) pushed the page sideways at 1400 px and on a
/// phone; switching set dropped unsaved edits without a word.
async fn editor_fits_the_screen_and_keeps_unsaved_edits(client: &Client, app: &TestApp) {
    client.set_window_size(1400, 900).await.expect("wide");
    client
        .goto(&app.console_url("/templates?name=payment_succeeded"))
        .await
        .expect("editor");
    wait_for_text(client, "#preview-state", "up to date").await;
    let long = format!("https://shop.example.com/track/{}", "a".repeat(300));
    let text = client
        .find(Locator::Css("#part-text"))
        .await
        .expect("text part");
    text.send_keys(&format!("\n{long}")).await.expect("typed");
    wait_for_text(client, "#preview-text", &long).await;
    assert!(
        !scrolls_sideways(client).await,
        "sideways scroll at 1400 px"
    );
    client.set_window_size(390, 844).await.expect("phone size");
    assert!(!scrolls_sideways(client).await, "sideways scroll at 390 px");
    screenshot(client, "phone-editor").await;
    client.set_window_size(1400, 900).await.expect("wide");

    // Another set asked for with edits unsaved: the browser asks, and "no" stays.
    let picker = client
        .find(Locator::Css("#template"))
        .await
        .expect("picker");
    picker
        .select_by_value("refund_issued")
        .await
        .expect("picked");
    let question = client.get_alert_text().await.expect("a question");
    assert!(question.contains("not saved"), "{question}");
    client.dismiss_alert().await.expect("dismissed");
    let value = text.prop("value").await.expect("value").unwrap_or_default();
    assert!(value.contains(&long), "the edit was kept");
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .ends_with("name=payment_succeeded"),
        "stayed on the set"
    );
    // "Yes" opens the other set, edits dropped.
    picker
        .select_by_value("refund_issued")
        .await
        .expect("picked");
    client.accept_alert().await.expect("accepted");
    wait_for_text(client, "#preview-state", "up to date").await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .ends_with("name=refund_issued"),
        "opened the other set"
    );
}

/// A set of a text part alone was shown as a broken email: empty subject and HTML
/// editors, an empty subject line and a blank frame in the preview.
async fn a_text_only_set_is_shown_as_an_sms(client: &Client, app: &TestApp) {
    let file = app.dir.path().join("templates/order_shipped_sms.txt.hbs");
    std::fs::write(
        &file,
        "Your order {{order_id}} is on its way. Reply STOP to opt out.",
    )
    .expect("an SMS set");
    app.reload().await;
    client
        .goto(&app.console_url("/templates?name=order_shipped_sms"))
        .await
        .expect("editor");
    wait_for_text(client, "#preview-text", "is on its way. Reply STOP").await;
    for hidden in [
        "#part-subject",
        "#part-html",
        "#preview-subject-row",
        "#preview-html",
    ] {
        let shown = client
            .find(Locator::Css(hidden))
            .await
            .expect(hidden)
            .is_displayed()
            .await
            .expect("displayed?");
        assert!(!shown, "{hidden} is shown for a text-only set");
    }
    wait_for_text(client, "#preview-sms", "1 segment").await;
    screenshot(client, "editor-sms").await;
}

async fn phone_layout(client: &Client, app: &TestApp) {
    client.set_window_size(390, 844).await.expect("phone size");
    client
        .goto(&app.console_url("/"))
        .await
        .expect("events page");
    wait_for_text(client, "table.events", "evt_console_after_edit").await;
    screenshot(client, "phone-events").await;
}
