//! The admin listener: who gets in (token, session cookie, CSRF), what stays off the
//! webhook listener, and the admin API against careless requests.

use herald::store::JobStatus;
use herald_testkit::HttpSink;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    base_config, fixture_with_id, notify_sink, run_cli, spawn_app_with, test_env, TestApp,
    ADMIN_TABLE, ADMIN_TOKEN,
};

/// herald with `[admin] token` set and every event delivered to `sink`.
async fn app_with_sink(sink: &HttpSink) -> TestApp {
    let sink = notify_sink(&sink.url(), r#"["*"]"#, "");
    spawn_app_with(&format!("{}\n{ADMIN_TABLE}\n{sink}", base_config())).await
}

/// herald with `[admin] token` set and no plugins.
async fn app_with_token() -> TestApp {
    spawn_app_with(&format!("{}\n{ADMIN_TABLE}", base_config())).await
}

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// A dead letter: the sink refuses the event for good.
async fn dead_letter(app: &TestApp, sink: &HttpSink, id: &str) {
    sink.set_status(404);
    let body = fixture_with_id("payment_intent.succeeded", id);
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    assert_eq!(app.settle(id).await[0].status, JobStatus::Dead);
}

async fn purge(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app
        .admin_post("/api/dead-letters/purge")
        .json(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The `herald_session=…` pair of a login answer's `Set-Cookie`, and the whole header.
fn session_cookie(headers: &HeaderMap) -> (String, String) {
    let set = headers
        .get(SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .expect("a Set-Cookie header")
        .to_owned();
    let pair = set.split(';').next().expect("a pair").trim().to_owned();
    assert!(pair.starts_with("herald_session="), "{set}");
    (pair, set)
}

/// Signs in through the form; returns the cookie pair and the session's CSRF token.
async fn log_in(app: &TestApp, token: &str) -> (String, String) {
    let response = browser()
        .post(app.admin_url("/login"))
        .form(&[("token", token)])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let (cookie, _) = session_cookie(response.headers());
    let session: Value = app
        .client
        .get(app.admin_url("/api/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(session["via"], "session", "{session}");
    let csrf = session["csrf_token"]
        .as_str()
        .expect("a CSRF token")
        .to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn an_empty_purge_filter_is_refused_unless_it_says_all() {
    let sink = HttpSink::start().await;
    let app = app_with_sink(&sink).await;
    dead_letter(&app, &sink, "evt_keep").await;

    let (status, body) = purge(&app, &json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("\"all\": true")),
        "{body}"
    );
    let (status, body) = purge(&app, &json!({ "all": false })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(app.settle("evt_keep").await[0].status, JobStatus::Dead);

    let (status, body) = purge(&app, &json!({ "event_id": "evt_other" })).await;
    assert_eq!((status, &body["purged"]), (200, &json!(0)), "{body}");
    let (status, body) = purge(&app, &json!({ "all": true })).await;
    assert_eq!((status, &body["purged"]), (200, &json!(1)), "{body}");
    assert!(app.settle("evt_keep").await.is_empty());
}

#[tokio::test]
async fn the_bearer_scheme_is_accepted_in_any_case() {
    let app = app_with_token().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .client
            .get(app.admin_url("/api/dead-letters"))
            .header("authorization", format!("{scheme} {ADMIN_TOKEN}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn no_token_a_wrong_token_and_tokens_of_other_lengths_are_refused() {
    let app = app_with_token().await;
    let wrong = ADMIN_TOKEN.replace('0', "1");
    let shorter = &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1];
    let longer = format!("{ADMIN_TOKEN}x");
    let values = [
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some(format!("Basic {ADMIN_TOKEN}")),
        Some(format!("Bearer {wrong}")),
        Some(format!("Bearer {shorter}")),
        Some(format!("Bearer {longer}")),
        Some(format!("Bearer {ADMIN_TOKEN}{ADMIN_TOKEN}")),
    ];
    for path in [
        "/api/dead-letters",
        "/api/session",
        "/api/jobs/1",
        "/nowhere",
    ] {
        // A herald of its own per path: past ten wrong tokens an address is held off
        // with 429 (`admin_hardening.rs`).
        let app = app_with_token().await;
        for value in &values {
            let mut request = app.client.get(app.admin_url(path));
            if let Some(value) = value {
                request = request.header("authorization", value);
            }
            let response = request.send().await.expect("sent");
            assert_eq!(response.status(), 401, "{path} with {value:?}");
            assert_eq!(
                response
                    .headers()
                    .get("www-authenticate")
                    .map(reqwest::header::HeaderValue::as_bytes),
                Some(&b"Bearer"[..])
            );
            let body: Value = response.json().await.expect("a JSON body");
            assert_eq!(body["error"], "missing or wrong admin token", "{path}");
        }
    }
    let posted = app
        .client
        .post(app.admin_url("/api/dead-letters/purge"))
        .header("authorization", format!("Bearer {shorter}"))
        .json(&json!({ "all": true }))
        .send()
        .await
        .expect("sent");
    assert_eq!(posted.status(), 401);
    // Past the door, an unknown path is just unknown.
    let missing = app.admin_get("/nowhere").send().await.expect("sent");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_the_login_form() {
    let app = app_with_token().await;
    let page = browser()
        .get(app.admin_url("/"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()[LOCATION], "/login");
    let form = browser()
        .get(app.admin_url("/login"))
        .send()
        .await
        .expect("sent");
    assert_eq!(form.status(), 200);
    assert_eq!(form.headers()["cache-control"], "no-store");
    let policy = form.headers()["content-security-policy"]
        .to_str()
        .expect("ASCII");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = form.text().await.expect("text");
    assert!(
        html.contains(r#"<form method="post" action="/login">"#)
            && html.contains(r#"<label for="token">"#)
            && html.contains(r#"name="token" type="password""#),
        "{html}"
    );
}

#[tokio::test]
async fn logging_in_sets_a_strict_http_only_cookie_that_admits_the_browser() {
    let app = app_with_token().await;
    let response = browser()
        .post(app.admin_url("/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/");
    let (cookie, set) = session_cookie(response.headers());
    let attributes: Vec<&str> = set.split(';').skip(1).map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} missing from {set}");
    }
    assert!(
        attributes.iter().any(|a| a.starts_with("Max-Age=")),
        "{set}"
    );
    assert!(
        !set.contains(ADMIN_TOKEN),
        "the cookie is not the token: {set}"
    );

    let listed = app
        .client
        .get(app.admin_url("/api/dead-letters"))
        .header("cookie", format!("theme=dark; {cookie}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(listed.status(), 200);

    // The one-time URL does the same as the form.
    let url = browser()
        .get(app.admin_url(&format!("/login?token={ADMIN_TOKEN}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(url.status(), 303);
    session_cookie(url.headers());

    // A forged or altered cookie is no session.
    for forged in [
        "herald_session=1.2.3".to_owned(),
        format!("{cookie}0"),
        cookie.replacen("herald_session=", "herald_session=9", 1),
    ] {
        let response = app
            .client
            .get(app.admin_url("/api/dead-letters"))
            .header("cookie", &forged)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 401, "{forged}");
    }
}

#[tokio::test]
async fn a_wrong_login_token_sets_no_cookie() {
    let app = app_with_token().await;
    let wrong = ADMIN_TOKEN.replace('t', "T");
    for response in [
        browser()
            .post(app.admin_url("/login"))
            .form(&[("token", wrong.as_str())])
            .send()
            .await
            .expect("sent"),
        browser()
            .post(app.admin_url("/login"))
            .form(&[("other", ADMIN_TOKEN)])
            .send()
            .await
            .expect("sent"),
        browser()
            .get(app.admin_url(&format!("/login?token={wrong}")))
            .send()
            .await
            .expect("sent"),
    ] {
        assert_eq!(response.status(), 401);
        assert!(response.headers().get(SET_COOKIE).is_none());
        let html = response.text().await.expect("text");
        assert!(html.contains("not the admin token"), "{html}");
    }
}

#[tokio::test]
async fn a_cookie_post_needs_the_sessions_csrf_token() {
    let sink = HttpSink::start().await;
    let app = app_with_sink(&sink).await;
    dead_letter(&app, &sink, "evt_csrf").await;
    let (cookie, csrf) = log_in(&app, ADMIN_TOKEN).await;
    let (_, other_csrf) = log_in(&app, ADMIN_TOKEN).await;
    assert_ne!(csrf, other_csrf, "each session has its own");

    let purge_with = |header: Option<&str>| {
        let mut request = app
            .client
            .post(app.admin_url("/api/dead-letters/purge"))
            .header("cookie", &cookie)
            .json(&json!({ "all": true }));
        if let Some(header) = header {
            request = request.header("x-csrf-token", header);
        }
        request.send()
    };
    let wrong = csrf.replace(|c: char| c.is_ascii_digit(), "a");
    for header in [
        None,
        Some(""),
        Some(wrong.as_str()),
        Some(other_csrf.as_str()),
    ] {
        let response = purge_with(header).await.expect("sent");
        assert_eq!(response.status(), 403, "{header:?}");
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("X-CSRF-Token")),
            "{body}"
        );
    }
    assert_eq!(app.settle("evt_csrf").await[0].status, JobStatus::Dead);

    let done = purge_with(Some(&csrf)).await.expect("sent");
    assert_eq!(done.status(), 200);
    assert!(app.settle("evt_csrf").await.is_empty());

    // A bearer token needs no CSRF token: no browser sends it on its own.
    let (status, body) = purge(&app, &json!({ "all": true })).await;
    assert_eq!(status, 200, "{body}");

    let out = browser()
        .post(app.admin_url("/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("sent");
    assert_eq!(out.status(), 303);
    let (cleared, set) = session_cookie(out.headers());
    assert_eq!(cleared, "herald_session=");
    assert!(set.contains("Max-Age=0"), "{set}");
}

/// Before, the URL held the made-up admin token itself, was logged, and worked until
/// restart for whoever read the log.
#[tokio::test]
async fn without_a_configured_token_a_sign_in_link_works_once_and_the_file_has_the_next() {
    let app = spawn_app_with(&base_config()).await;
    let url = app.admin_login_url.clone().expect("a login URL");
    let prefix = format!("http://{}/login?code=", app.admin_addr);
    let code = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
    assert_eq!(code.len(), 64, "{code}");
    let file = app.dir.path().join(".herald-login-url");
    let kept = std::fs::read_to_string(&file).expect("the link is kept in a file");
    assert_eq!(kept.trim(), url);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&file).expect("file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "readable by herald's user alone");

    let response = browser().get(&url).send().await.expect("sent");
    assert_eq!(response.status(), 303);
    let (cookie, _) = session_cookie(response.headers());
    let listed = app
        .client
        .get(app.admin_url("/api/dead-letters"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(listed.status(), 200);
    // The code is not the admin token: it admits no script.
    let bearer = app
        .send_as(Method::GET, app.admin_url("/api/dead-letters"), code)
        .await;
    assert_eq!(bearer.status(), 401);

    // Spent: the same link again signs nobody in, and names the file.
    let again = browser().get(&url).send().await.expect("sent");
    assert_eq!(again.status(), 401);
    assert!(again.headers().get(SET_COOKIE).is_none());
    let page = again.text().await.expect("page");
    assert!(page.contains("used already"), "{page}");
    // The file now holds a new link, which works once.
    let next = std::fs::read_to_string(&file).expect("file");
    assert_ne!(next.trim(), url);
    let response = browser().get(next.trim()).send().await.expect("sent");
    assert_eq!(response.status(), 303);

    // Each start makes its own.
    let other = spawn_app_with(&base_config()).await;
    assert_ne!(other.admin_login_url, app.admin_login_url);
}

#[tokio::test]
async fn with_a_token_there_is_no_login_url() {
    let app = app_with_token().await;
    assert_eq!(app.admin_login_url, None);
}

#[test]
fn an_admin_listener_beyond_loopback_without_a_token_refuses_to_start() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    let text = format!("{}\n[admin]\nlisten = \"0.0.0.0:0\"\n", base_config());
    std::fs::write(&config, &text).expect("config written");
    for command in ["serve", "check"] {
        let (ok, _, err) = run_cli(&config, &[command]);
        assert!(!ok, "{command} accepted it");
        assert!(
            err.contains("admin.listen")
                && err.contains("0.0.0.0:0 is reachable from other hosts")
                && err.contains("[admin] token"),
            "{command}: {err}"
        );
    }
    // With a token it may listen anywhere.
    let with_token = text.replace("[admin]\n", "[admin]\ntoken = \"${HERALD_ADMIN_TOKEN}\"\n");
    let config = herald::Config::from_toml(&with_token, &config, &test_env())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.restart.admin.listen.to_string(), "0.0.0.0:0");
}

#[tokio::test]
async fn the_webhook_listener_serves_no_admin_path() {
    let app = app_with_token().await;
    for path in ["/admin/dead-letters", "/api/dead-letters", "/login", "/"] {
        let response = app.send_as(Method::GET, app.url(path), ADMIN_TOKEN).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert_ne!(app.addr, app.admin_addr);
}

/// Waits for a line of `herald`'s log holding `needle`, and returns it.
async fn wait_log_line(herald: &crate::helpers::HeraldProcess, needle: &str) -> String {
    let lines = herald.log_until(needle).await;
    lines
        .into_iter()
        .find(|line| line.contains(needle))
        .expect("the line waited for")
}

#[tokio::test]
async fn the_binary_on_the_shipped_config_keeps_a_sign_in_link_out_of_the_log() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, crate::helpers::shipped_config_in(dir.path())).expect("config");
    let herald = crate::helpers::HeraldProcess::start(&config).await;

    let line = wait_log_line(&herald, "admin API and console on http://").await;
    let admin = line
        .split("console on http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address")
        .to_owned();
    assert_ne!(admin, herald.addr.to_string());
    let line = wait_log_line(&herald, "one-time sign-in link").await;
    let file = dir.path().join(".herald-login-url");
    assert!(line.contains(&file.display().to_string()), "{line}");
    let url = std::fs::read_to_string(&file).expect("the link's file");
    let url = url.trim().to_owned();
    assert!(
        url.starts_with(&format!("http://{admin}/login?code=")),
        "{url}"
    );
    let log = herald.log.lock().expect("log").join("\n");
    assert!(!log.contains("/login?"), "the link is in the log:\n{log}");

    let response = browser().get(&url).send().await.expect("sent");
    assert_eq!(response.status(), 303);
    let (cookie, _) = session_cookie(response.headers());
    let listed = reqwest::Client::new()
        .get(format!("http://{admin}/api/events"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(listed.status(), 200);

    herald.signal("-TERM");
    let exit = tokio::time::timeout(std::time::Duration::from_secs(30), herald.wait())
        .await
        .expect("herald exits within 30 s");
    assert_eq!(exit, Some(0), "both listeners stop on SIGTERM");
}
