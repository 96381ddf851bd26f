//! The admin listener against a guesser and a hostile page: sign-in attempts are
//! limited per address, the session cookie is `Secure` behind TLS, and every console
//! answer forbids framing, caching and scripts from elsewhere.

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, SET_COOKIE, X_FRAME_OPTIONS};
use reqwest::redirect::Policy;
use reqwest::Method;

use crate::helpers::{base_config, spawn_app_with, TestApp, ADMIN_TOKEN};

async fn app_with_admin(lines: &str) -> TestApp {
    spawn_app_with(&format!(
        "{}\n[admin]\ntoken = \"${{HERALD_ADMIN_TOKEN}}\"\n{lines}\n",
        base_config()
    ))
    .await
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn sign_in(app: &TestApp, token: &str, proto: Option<&str>) -> reqwest::Response {
    let mut request = browser()
        .post(app.admin_url("/login"))
        .form(&[("token", token)]);
    if let Some(proto) = proto {
        request = request.header("x-forwarded-proto", proto);
    }
    request.send().await.expect("sent")
}

#[tokio::test]
async fn ten_wrong_tokens_hold_an_address_off_even_with_the_right_one() {
    let app = app_with_admin("").await;
    for _ in 0..10 {
        assert_eq!(
            sign_in(&app, "not-the-token-at-all", None).await.status(),
            401
        );
    }
    let held = sign_in(&app, ADMIN_TOKEN, None).await;
    assert_eq!(held.status(), 429);
    assert!(held.headers().contains_key("retry-after"));
    assert!(held.headers().get(SET_COOKIE).is_none());
    // The API's bearer token is the same secret, limited the same way.
    let api = app
        .send_as(Method::GET, app.admin_url("/api/session"), ADMIN_TOKEN)
        .await;
    assert_eq!(api.status(), 429);
    let body: serde_json::Value = api.json().await.expect("json");
    assert_eq!(body["reason"], "too_many_attempts", "{body}");
}

#[tokio::test]
async fn wrong_bearer_tokens_count_against_the_address_too() {
    let app = app_with_admin("").await;
    for _ in 0..10 {
        let status = app
            .send_as(
                Method::GET,
                app.admin_url("/api/session"),
                "wrong-token-0123456789",
            )
            .await
            .status();
        assert_eq!(status, 401);
    }
    assert_eq!(sign_in(&app, ADMIN_TOKEN, None).await.status(), 429);
}

#[tokio::test]
async fn the_cookie_is_secure_behind_tls_and_when_configured() {
    let app = app_with_admin("").await;
    let cookie = |response: &reqwest::Response| {
        response
            .headers()
            .get(SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .expect("a cookie")
            .to_owned()
    };
    let plain = sign_in(&app, ADMIN_TOKEN, None).await;
    assert!(!cookie(&plain).contains("Secure"), "{}", cookie(&plain));
    // A proxy on this host (the test's loopback peer) says it took HTTPS.
    let proxied = sign_in(&app, ADMIN_TOKEN, Some("https")).await;
    assert!(
        cookie(&proxied).contains("; Secure"),
        "{}",
        cookie(&proxied)
    );

    let configured = app_with_admin("secure_cookie = true").await;
    let always = sign_in(&configured, ADMIN_TOKEN, None).await;
    assert!(cookie(&always).contains("; Secure"), "{}", cookie(&always));
}

#[tokio::test]
async fn every_console_answer_forbids_framing_caching_and_foreign_scripts() {
    let app = app_with_admin("").await;
    for path in [
        "/",
        "/dead-letters",
        "/orders",
        "/templates",
        "/api/templates",
        "/nope",
    ] {
        let response = app
            .send_as(Method::GET, app.admin_url(path), ADMIN_TOKEN)
            .await;
        let headers = response.headers();
        let header = |name: reqwest::header::HeaderName| {
            headers
                .get(&name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_owned()
        };
        assert_eq!(header(X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(header(CACHE_CONTROL), "no-store", "{path}");
        let csp = header(CONTENT_SECURITY_POLICY);
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

/// axum's own refusals (a body that is not JSON, an unknown field, a query value of the
/// wrong type) came as plain text, not the documented `{"error", "reason"}` shape.
#[tokio::test]
async fn axum_refusals_come_in_the_documented_json_shape() {
    let app = app_with_admin("").await;
    let post = |body: &'static str| {
        app.client
            .post(app.admin_url("/api/dead-letters/replay"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, status, reason) in [
        ("not json", 400, "bad_request"),
        (r#"{"filtre": {}}"#, 422, "invalid_body"),
    ] {
        let answer = post(body).await.expect("sent");
        assert_eq!(answer.status(), status, "{body}");
        assert_eq!(
            answer.headers()["content-type"],
            "application/json",
            "{body}"
        );
        let json: serde_json::Value = answer.json().await.expect("JSON");
        assert_eq!(json["reason"], reason, "{json}");
        assert!(
            json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{json}"
        );
    }
    let answer = app
        .send_as(
            Method::GET,
            app.admin_url("/api/dead-letters?limit=many"),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(answer.status(), 400);
    let json: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(json["reason"], "bad_request", "{json}");
    assert!(
        json["error"].as_str().expect("error").contains("limit"),
        "{json}"
    );
}
