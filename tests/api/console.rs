//! The console's pages and JSON over HTTP against a real herald: the template
//! editor's render and save, the listings, the dead-letter buttons. The browser
//! drives the same endpoints in `browser.rs`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{copy_dir, repo, shipped_config_in, spawn_app_with_dir, TestApp, ADMIN_TOKEN};

/// herald on the shipped config, with a copy of the templates to edit.
pub async fn app() -> TestApp {
    app_with("").await
}

/// [`app`], started with `payment_succeeded.subject.hbs` reading `{{customer.nmae}}`
/// (which `herald check` refuses); also the file, and its good text to put back.
pub async fn app_with_broken_subject() -> (TestApp, std::path::PathBuf, String) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let templates = dir.path().join("templates");
    copy_dir(&repo().join("templates"), &templates);
    let subject = templates.join("payment_succeeded.subject.hbs");
    let good = std::fs::read_to_string(&subject).expect("subject");
    std::fs::write(&subject, "Thanks {{customer.nmae}}").expect("broken");
    let text = shipped_config_in(dir.path())
        .replace(
            &repo().join("templates").display().to_string(),
            &templates.display().to_string(),
        )
        .replacen(
            "[admin]\n",
            "[admin]\ntoken = \"${HERALD_ADMIN_TOKEN}\"\n",
            1,
        );
    let app = spawn_app_with_dir(dir, &text).await;
    (app, subject, good)
}

/// [`app`] with its database at `url` (PostgreSQL).
async fn app_on(url: &str) -> TestApp {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let templates = dir.path().join("templates");
    copy_dir(&repo().join("templates"), &templates);
    let mut table: toml::Table =
        toml::from_str(&shipped_config_in(dir.path())).expect("shipped config");
    let mut set = |section: &str, key: &str, value: String| {
        table
            .get_mut(section)
            .and_then(toml::Value::as_table_mut)
            .expect(section)
            .insert(key.to_owned(), value.into());
    };
    set("database", "url", url.to_owned());
    set("templates", "dir", templates.display().to_string());
    set("admin", "token", "${HERALD_ADMIN_TOKEN}".to_owned());
    spawn_app_with_dir(dir, &toml::to_string(&table).expect("toml")).await
}

/// [`app`] with `extra` TOML (plugins, rules) appended to the config.
pub async fn app_with(extra: &str) -> TestApp {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let templates = dir.path().join("templates");
    copy_dir(&repo().join("templates"), &templates);
    let mut text = shipped_config_in(dir.path());
    text = text.replace(
        &repo().join("templates").display().to_string(),
        &templates.display().to_string(),
    );
    text = text.replacen(
        "[admin]\n",
        "[admin]\ntoken = \"${HERALD_ADMIN_TOKEN}\"\n",
        1,
    );
    assert!(text.contains("HERALD_ADMIN_TOKEN"), "{text}");
    text.push_str(extra);
    spawn_app_with_dir(dir, &text).await
}

pub async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app
        .send_as(Method::GET, app.console_url(path), ADMIN_TOKEN)
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

pub async fn send_json(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let response = app
        .client
        .request(method, app.console_url(path))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

pub async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app
        .send_as(Method::GET, app.console_url(path), ADMIN_TOKEN)
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("text"))
}

#[tokio::test]
async fn templates_and_samples_are_listed_and_read() {
    let app = app().await;
    let (status, list) = get_json(&app, "/api/templates").await;
    assert_eq!(status, 200);
    let paid = list["templates"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["name"] == "payment_succeeded")
        .expect("payment_succeeded listed");
    assert_eq!(paid["parts"], json!(["subject", "html", "text"]));
    assert_eq!(paid["rules"], json!(["payment-confirmation"]));

    let (status, set) = get_json(&app, "/api/templates/payment_succeeded").await;
    assert_eq!(status, 200);
    let subject = std::fs::read_to_string(repo().join("templates/payment_succeeded.subject.hbs"))
        .expect("file");
    assert_eq!(set["parts"]["subject"], subject);
    let (status, _) = get_json(&app, "/api/templates/nope").await;
    assert_eq!(status, 404);

    let (_, samples) = get_json(&app, "/api/samples").await;
    let types: Vec<&str> = samples["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .filter_map(|s| s["type"].as_str())
        .collect();
    assert!(types.contains(&"payment_intent.succeeded"), "{types:?}");
}

#[tokio::test]
async fn a_draft_renders_against_a_sample_a_stored_event_or_posted_json() {
    let app = app().await;
    let draft = json!({ "subject": "Paid: {{order_id}}", "text": "Hi {{customer.name}}" });
    let (status, preview) = send_json(
        &app,
        reqwest::Method::POST,
        "/api/templates/payment_succeeded/render",
        &json!({ "parts": draft, "sample": "payment_intent.succeeded" }),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["subject"], "Paid: ORDER12345");
    assert_eq!(preview["text"], "Hi Jenny Rosen");
    assert!(
        preview["html"]
            .as_str()
            .expect("html from the file")
            .contains("<"),
        "{preview}"
    );
    assert_eq!(preview["sms"]["segments"], 1);
    assert_eq!(preview["errors"], json!([]));
    assert!(preview["params"]
        .as_str()
        .expect("params")
        .contains("payment-confirmation"));

    app.post_fixture("payment_intent.succeeded").await;
    let stored = herald_testkit::stripe::fixture_json("payment_intent.succeeded");
    let id = stored["id"].as_str().expect("id");
    let (status, preview) = send_json(
        &app,
        reqwest::Method::POST,
        "/api/templates/payment_succeeded/render",
        &json!({ "parts": { "subject": "{{id}}" }, "event": { "source": "stripe", "id": id } }),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["subject"], id);

    let (status, preview) = send_json(
        &app,
        reqwest::Method::POST,
        "/api/templates/payment_succeeded/render",
        &json!({ "parts": { "subject": "{{type}}" }, "payload": stored }),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["subject"], "payment_intent.succeeded");
}

#[tokio::test]
async fn template_errors_come_back_with_their_part_and_line() {
    let app = app().await;
    let (_, preview) = send_json(
        &app,
        reqwest::Method::POST,
        "/api/templates/payment_succeeded/render",
        &json!({ "parts": { "html": "<p>ok</p>\n<p>{{customer.nmae}}</p>" } }),
    )
    .await;
    let error = &preview["errors"][0];
    assert_eq!(error["part"], "html", "{preview}");
    assert_eq!(error["line"], 2, "{preview}");
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("customer.nmae"),
        "{preview}"
    );

    let (_, preview) = send_json(
        &app,
        reqwest::Method::POST,
        "/api/templates/payment_succeeded/render",
        &json!({ "parts": { "text": "fine\n{{#if x}}\nunclosed" } }),
    )
    .await;
    assert_eq!(preview["errors"][0]["part"], "text", "{preview}");
    assert_eq!(preview["errors"][0]["line"], 2, "{preview}");
    // Said plainly, not as the parser's grammar ("expected escape, expression, …").
    let message = preview["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.contains("`{{#if}}` opened on line 2 is never closed: add `{{/if}}`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_save_that_fails_the_check_is_refused_and_a_good_one_is_written_with_a_backup() {
    let app = app().await;
    let dir = app.dir.path().join("templates");
    let file = dir.join("payment_succeeded.subject.hbs");
    let before = std::fs::read_to_string(&file).expect("file");

    let (status, refused) = send_json(
        &app,
        reqwest::Method::PUT,
        "/api/templates/payment_succeeded",
        &json!({ "parts": { "subject": "{{customer.nmae}}" } }),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["saved"], false);
    assert!(
        refused["problems"][0]["message"]
            .as_str()
            .expect("message")
            .contains("customer.nmae"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        before,
        "a refused save writes nothing"
    );

    let (status, saved) = send_json(
        &app,
        reqwest::Method::PUT,
        "/api/templates/payment_succeeded",
        &json!({ "parts": { "subject": "Thanks, {{customer.name}}" } }),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["result"]["written"],
        json!(["payment_succeeded.subject.hbs"])
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        "Thanks, {{customer.name}}"
    );
    let backup = dir.join("payment_succeeded.subject.hbs.bak");
    assert_eq!(std::fs::read_to_string(backup).expect("backup"), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // The reload the file watcher would start takes it live.
    app.reload().await;
    app.post_fixture("payment_intent.succeeded").await;
    app.dispatch_all_pending().await;
    let mails = app.outbox();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: Thanks, Jenny Rosen")),
        "{mails:?}"
    );
}

#[tokio::test]
async fn the_pages_list_events_show_attempts_and_the_dead_letter_buttons_work() {
    let app = app().await;
    app.post_fixture("payment_intent.succeeded").await;
    app.dispatch_all_pending().await;
    let event = herald_testkit::stripe::fixture_json("payment_intent.succeeded");
    let id = event["id"].as_str().expect("id");

    let (status, list) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(list.contains(id), "{list}");
    assert!(list.contains("name=\"csrf-token\""), "{list}");
    let (_, filtered) = page(&app, "/?q=NOPE").await;
    assert!(
        !filtered.contains(id),
        "an order filter that matches nothing"
    );
    let (_, by_order) = page(&app, "/?q=ORDER12345").await;
    assert!(by_order.contains(id));
    let response = app
        .send_as(
            Method::GET,
            app.console_url(&format!("/?q={id}")),
            ADMIN_TOKEN,
        )
        .await;
    assert!(
        response
            .url()
            .path()
            .ends_with(&format!("/events/stripe/{id}")),
        "{}",
        response.url()
    );

    let (status, detail) = page(&app, &format!("/events/stripe/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        detail.contains("payment-confirmation") && detail.contains("badge-delivered"),
        "{detail}"
    );
    assert!(detail.contains("Attempts of job"), "{detail}");

    let (status, order) = page(&app, "/orders/ORDER12345").await;
    assert_eq!(status, 200);
    assert!(order.contains(id), "{order}");

    let (status, _) = send_json(
        &app,
        reqwest::Method::POST,
        "/dead-letters/purge",
        &json!({}),
    )
    .await;
    assert_eq!(status, 400, "an empty selection purges nothing");
    let (status, body) = send_json(
        &app,
        reqwest::Method::POST,
        &format!("/events/stripe/{id}/redeliver"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    for asset in ["console.css", "console.js", "editor.js"] {
        let response = app
            .send_as(
                Method::GET,
                app.console_url(&format!("/assets/{asset}")),
                ADMIN_TOKEN,
            )
            .await;
        assert_eq!(response.status(), 200, "{asset}");
    }
    let (status, _) = page(&app, "/templates").await;
    assert_eq!(status, 200);
}

/// A template `herald check` refuses used to start silently: every job using it
/// became a dead letter with nothing on any page. Now it is said in the log, in
/// `herald_config_problems` and above every console page, until a reload fixes it.
#[tokio::test]
async fn a_config_that_check_refuses_is_shown_above_every_page_until_fixed() {
    let (app, subject, good) = app_with_broken_subject().await;
    assert_eq!(app.metrics.get("herald_config_problems", &[]), 1);
    for path in ["/", "/dead-letters", "/templates"] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains("The config in force has 1 problem"),
            "{path}: {html}"
        );
        assert!(html.contains("customer.nmae"), "{path}");
    }
    std::fs::write(&subject, good).expect("fixed");
    app.reload().await;
    assert_eq!(app.metrics.get("herald_config_problems", &[]), 0);
    let (_, html) = page(&app, "/").await;
    assert!(!html.contains("problem"), "{html}");
}

/// The status filter lacked "skipped", and every page lacked a favicon.
#[tokio::test]
async fn the_status_filter_offers_skipped_and_pages_have_an_icon() {
    let app = app().await;
    let (status, html) = page(&app, "/?status=skipped").await;
    assert_eq!(status, 200);
    assert!(html.contains("<option selected>skipped</option>"), "{html}");
    assert!(
        html.contains(r#"<link rel="icon" href="/assets/favicon.svg""#),
        "{html}"
    );
    let icon = app
        .send_as(
            Method::GET,
            app.console_url("/assets/favicon.svg"),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

/// A syntax error in one part blanked every preview: the others came back empty.
#[tokio::test]
async fn a_part_that_does_not_parse_leaves_the_other_parts_rendering() {
    let app = app().await;
    let (_, preview) = send_json(
        &app,
        reqwest::Method::POST,
        "/api/templates/payment_succeeded/render",
        &json!({ "parts": {
            "html": "<p>{{#if customer.name}}unclosed</p>",
            "text": "Hello {{customer.name}}",
        } }),
    )
    .await;
    assert_eq!(preview["errors"][0]["part"], "html", "{preview}");
    assert_eq!(preview["text"], "Hello Jenny Rosen", "{preview}");
    assert!(
        preview["subject"].as_str().is_some_and(|s| !s.is_empty()),
        "{preview}"
    );
}

/// The events list showed no customer and no amount, and the editor's stored events
/// only their ids.
#[tokio::test]
async fn events_are_listed_with_their_customer_and_amount() {
    let app = app().await;
    app.accept_fixture("payment_intent.succeeded").await;
    let (_, html) = page(&app, "/").await;
    assert!(html.contains("<th scope=\"col\">Customer</th>"), "{html}");
    assert!(html.contains(">jenny.rosen@example.com</td>"), "{html}");
    assert!(html.contains(">49.98 USD</td>"), "{html}");
    let (_, editor) = page(&app, "/templates?name=payment_succeeded").await;
    assert!(
        editor.contains(
            "payment_intent.succeeded · ORDER12345 · jenny.rosen@example.com · 49.98 USD (evt_1R4QrlHrLd9TstBbciwU1NSl)"
        ),
        "{editor}"
    );
    let (_, listed) = send_json(&app, reqwest::Method::GET, "/api/events", &json!({})).await;
    assert_eq!(
        listed["events"][0]["customer"], "jenny.rosen@example.com",
        "{listed}"
    );
    assert_eq!(listed["events"][0]["amount"], 4998, "{listed}");
}

/// The orders page was a bare search box: now it lists the orders changed last, on
/// either backend.
#[tokio::test]
async fn the_orders_page_lists_the_orders_changed_last() {
    let postgres = crate::helpers::fresh_postgres().await;
    let mut databases = vec![None];
    if let Some(database) = &postgres {
        databases.push(Some(database.url.clone()));
    }
    for database in databases {
        let app = match &database {
            None => app().await,
            Some(url) => app_on(url).await,
        };
        let (_, empty) = page(&app, "/orders").await;
        assert!(empty.contains("No orders yet"), "{empty}");
        app.accept_fixture("payment_intent.succeeded").await;
        app.settle("evt_1R4QrlHrLd9TstBbciwU1NSl").await;
        let (status, html) = page(&app, "/orders").await;
        assert_eq!(status, 200);
        assert!(
            html.contains(r#"<a href="/orders/ORDER12345">ORDER12345</a>"#),
            "{database:?}: {html}"
        );
        assert!(html.contains(">paid</span>"), "{database:?}: {html}");
    }
}

/// An event's page did not show what its jobs sent.
#[tokio::test]
async fn an_events_page_shows_what_each_job_sends() {
    let app = app().await;
    app.accept_fixture("payment_intent.succeeded").await;
    app.settle("evt_1R4QrlHrLd9TstBbciwU1NSl").await;
    let (status, html) = page(&app, "/events/stripe/evt_1R4QrlHrLd9TstBbciwU1NSl").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h2>What each job sends</h2>"), "{html}");
    assert!(html.contains("jenny.rosen@example.com"), "{html}");
    assert!(
        html.contains("Example Shop: payment received for order ORDER12345"),
        "{html}"
    );
}

#[tokio::test]
async fn the_follow_ups_page_lists_what_waits_and_what_would_stop_it() {
    let app = app_with("").await;
    let (status, html) = page(&app, "/followups").await;
    assert_eq!(status, 200);
    assert!(html.contains("No follow-up is waiting"), "{html}");
    let mut failed = crate::helpers::sample("invoice.payment_failed");
    failed["created"] = chrono::Utc::now().timestamp().into();
    let body = serde_json::to_vec(&failed).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let (status, html) = page(&app, "/followups").await;
    assert_eq!(status, 200);
    assert!(html.contains("invoice-still-unpaid"), "{html}");
    assert!(html.contains("invoice.paid, invoice.voided"), "{html}");
    assert!(html.contains("1 follow-up job waiting"), "{html}");
}
