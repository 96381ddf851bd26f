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
    let health = app.get(app.url("/healthz")).await;
    assert_eq!(health.status(), 200);
}

/// Saves `parts` of `payment_succeeded` through the console.
async fn save(app: &crate::helpers::TestApp, parts: serde_json::Value) -> (u16, serde_json::Value) {
    send_json(
        app,
        reqwest::Method::PUT,
        "/api/templates/payment_succeeded",
        &json!({ "parts": parts }),
    )
    .await
}

/// The dotfiles a save leaves in `dir` (it should leave none).
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    herald_testkit::file_names(dir)
        .into_iter()
        .filter(|name| name.ends_with(".saving"))
        .collect()
}

#[tokio::test]
async fn a_link_planted_at_the_temporary_name_is_not_written_through() {
    let app = app().await;
    let dir = app.dir.path().join("templates");
    let victim = app.dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").expect("victim");
    // The name saves used to write to, planted by someone who can write the folder.
    let planted = dir.join(".payment_succeeded.subject.hbs.saving");
    std::os::unix::fs::symlink(&victim, &planted).expect("symlink");

    let (status, saved) = save(&app, json!({ "subject": "Thanks, {{customer.name}}" })).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep me");
    let file = dir.join("payment_succeeded.subject.hbs");
    let meta = std::fs::symlink_metadata(&file).expect("saved");
    assert!(meta.file_type().is_file(), "the template became a link");
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        "Thanks, {{customer.name}}"
    );
}

#[tokio::test]
async fn a_template_that_links_out_of_the_folder_is_neither_read_nor_saved_over() {
    let app = app().await;
    let dir = app.dir.path().join("templates");
    let secret = app.dir.path().join("secret.txt");
    std::fs::write(&secret, "db password").expect("secret");
    let text = dir.join("payment_succeeded.txt.hbs");
    std::fs::remove_file(&text).expect("rm");
    std::os::unix::fs::symlink(&secret, &text).expect("symlink");

    let (status, read) = crate::console::get_json(&app, "/api/templates/payment_succeeded").await;
    assert_eq!(status, 200, "{read}");
    assert!(read["parts"].get("text").is_none(), "{read}");
    assert!(!read.to_string().contains("db password"), "{read}");

    let (status, refused) = save(&app, json!({ "text": "Hello {{customer.name}}" })).await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["problems"][0]["message"].as_str().expect("message");
    assert!(
        message.contains("leads out of the templates folder"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        "db password"
    );
    // A link that stays inside the folder (as a ConfigMap mounts files) is fine.
    std::fs::remove_file(&text).expect("rm");
    std::fs::write(dir.join("real.txt"), "Hi").expect("real");
    std::os::unix::fs::symlink(dir.join("real.txt"), &text).expect("symlink");
    let (status, read) = crate::console::get_json(&app, "/api/templates/payment_succeeded").await;
    assert_eq!((status, read["parts"]["text"].as_str()), (200, Some("Hi")));
}

#[tokio::test]
async fn a_save_that_fails_part_way_writes_no_part_and_leaves_no_temporary_file() {
    let app = app().await;
    let dir = app.dir.path().join("templates");
    let subject = dir.join("payment_succeeded.subject.hbs");
    let before = std::fs::read_to_string(&subject).expect("subject");
    // The text part's file cannot be replaced: a folder stands in its place.
    let text = dir.join("payment_succeeded.txt.hbs");
    std::fs::remove_file(&text).expect("rm");
    std::fs::create_dir(&text).expect("a folder where the file was");

    let (status, answer) = save(
        &app,
        json!({ "subject": "New subject", "text": "New text {{customer.name}}" }),
    )
    .await;
    assert!(status == 422 || status == 500, "{status} {answer}");
    assert_eq!(std::fs::read_to_string(&subject).expect("subject"), before);
    assert!(!dir.join("payment_succeeded.subject.hbs.bak").exists());
    assert_eq!(leftovers(&dir), Vec::<String>::new());
}
