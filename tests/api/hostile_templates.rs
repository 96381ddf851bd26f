//! Templates written to hurt: a partial that calls itself, nesting deep enough to
//! overflow a worker's stack. Each was a process abort before the shape check; now
//! each is a template problem with its file and line, wherever the template enters.

use serde_json::json;

use crate::console::{app, send_json};
use crate::helpers::{base_config, repo, run_cli};

const LOOPING: &str = "Hi\n{{#*inline \"row\"}}{{> row}}{{/inline}}{{> row}}";

#[test]
fn check_names_a_looping_partial_instead_of_aborting() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(templates.join("partials")).expect("mkdir");
    std::fs::write(templates.join("partials/a.hbs"), "{{> b}}").expect("a");
    std::fs::write(templates.join("partials/b.hbs"), "\n\n{{> a}}").expect("b");
    std::fs::write(templates.join("hello.txt.hbs"), "{{> a}}").expect("set");
    let config = dir.path().join("config.toml");
    let shipped = repo().join("templates").display().to_string();
    let text = base_config().replace(&shipped, &templates.display().to_string());
    std::fs::write(&config, text).expect("config");
    let (ok, out, err) = run_cli(&config, &["check"]);
    assert!(!ok, "{out}");
    assert!(err.contains("calls itself"), "{err}");
    assert!(err.contains("partials/"), "{err}");
}

#[tokio::test]
async fn the_console_refuses_a_looping_or_bottomless_draft_and_stays_up() {
    let app = app().await;
    let deep = format!("{}x{}", "{{#if a}}".repeat(1000), "{{/if}}".repeat(1000));
    for text in [LOOPING, deep.as_str()] {
        let (status, preview) = send_json(
            &app,
            reqwest::Method::POST,
            "/api/templates/payment_succeeded/render",
            &json!({ "parts": { "text": text } }),
        )
        .await;
        assert_eq!(status, 200, "{preview}");
        let error = &preview["errors"][0];
        assert_eq!(error["part"], "text", "{preview}");
        assert!(error["line"].is_u64(), "{preview}");

        let (status, refused) = send_json(
            &app,
            reqwest::Method::PUT,
            "/api/templates/payment_succeeded",
            &json!({ "parts": { "text": text } }),
        )
        .await;
        assert_eq!(status, 422, "{refused}");
    }
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("up");
    assert_eq!(health.status(), 200);
}
