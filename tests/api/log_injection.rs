//! Log injection: a signed event whose id holds a newline and terminal escapes must
//! not forge a log line or reach the reader's terminal, in either log format.

use crate::helpers::{admin_on_port_zero, base_config, HeraldProcess};

/// What a forger would want to appear as a line of its own.
const FORGED: &str = "2026-01-01T00:00:00.000000Z  INFO herald: admin token rotated";

/// Starts herald in `format`, posts the hostile event, and returns every log line up to
/// the one that stored it.
async fn lines_after_a_hostile_event(format: &str) -> Vec<String> {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let text = format!(
        "{}\n[database]\nurl = \"sqlite://{}\"\n",
        admin_on_port_zero(&base_config()),
        dir.path().join("herald.db").display()
    );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("config written");
    let herald = HeraldProcess::start_with(&path, &["--log-format", format]).await;
    let id = format!("evt_1\n{FORGED}\u{1b}[2J\u{9b}31m\r");
    let body = serde_json::to_vec(&serde_json::json!({
        "id": id, "type": "charge.refunded", "created": 1_700_000_000,
        "data": { "object": { "id": "ch_1", "object": "charge" } }
    }))
    .expect("json");
    herald.post_signed(body).await;
    let lines = herald.log_until("event stored").await;
    herald.signal("-TERM");
    herald.wait().await;
    lines
}

fn assert_no_forgery(lines: &[String]) {
    for line in lines {
        assert!(!line.starts_with(FORGED), "a forged line: {lines:#?}");
        assert!(
            !line.chars().any(char::is_control),
            "a control character reached the log: {line:?}"
        );
    }
}

#[tokio::test]
async fn an_event_id_cannot_forge_a_text_log_line() {
    let lines = lines_after_a_hostile_event("text").await;
    assert_no_forgery(&lines);
    let stored = lines
        .iter()
        .find(|l| l.contains("event stored"))
        .expect("stored");
    assert!(stored.contains("event_id=evt_1\\n2026-01-01"), "{stored}");
    assert!(stored.contains("\\u{1b}[2J\\u{9b}31m\\r"), "{stored}");
}

#[tokio::test]
async fn an_event_id_cannot_forge_a_json_log_line() {
    let lines = lines_after_a_hostile_event("json").await;
    assert_no_forgery(&lines);
    let stored = lines
        .iter()
        .find(|l| l.contains("event stored"))
        .expect("stored");
    let object: serde_json::Value = serde_json::from_str(stored).expect("one JSON object");
    let id = object["event_id"].as_str().expect("event_id");
    assert!(
        id.starts_with("evt_1\n2026-01-01") && id.ends_with("\u{9b}31m\r"),
        "{id:?}"
    );
}
