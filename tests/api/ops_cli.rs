//! Operator commands as an operator runs them: the real binary, on a config whose
//! webhook secret and plugin credentials are not in the environment, since
//! commands that only act on the database need neither.

use std::path::Path;

use herald::store::{JobFilter, JobStatus};
use herald_testkit::HttpSink;

use crate::helpers::{base_config, fixture_with_id, notify_sink, spawn_app_with, TestApp};

/// Runs `herald --config CONFIG ARGS…` with an empty environment: no
/// `STRIPE_WEBHOOK_SECRET`, no plugin secrets, no `HERALD_CONFIG`.
async fn bare_cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    // tokio's process: a blocking wait would freeze the herald this test runs.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .env_clear()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .await
        .expect("herald runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A herald whose one rule posts to `sink`; the file on disk also configures a
/// mailer whose password is a `${VAR}` nobody set.
async fn app(sink: &HttpSink) -> TestApp {
    let text = format!(
        "{}\n{}",
        base_config(),
        notify_sink(
            &sink.url(),
            r#"["payment_intent.succeeded"]"#,
            r#", path = "/events""#
        )
    );
    let app = spawn_app_with(&text).await;
    let with_secret = format!(
        "{text}\n[plugins.email.mailer]\nfrom = \"shop@example.com\"\ntransport = \"smtp\"\nhost = \"smtp.example.com\"\n\
         username = \"shop\"\npassword = \"${{SMTP_PASSWORD}}\"\n"
    );
    std::fs::write(app.config_path(), with_secret).expect("config rewritten");
    app
}

fn utc(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
}

#[tokio::test]
async fn database_commands_need_no_secrets_and_a_dry_replay_lists_its_jobs() {
    let sink = HttpSink::start().await;
    sink.set_status(404);
    let app = app(&sink).await;
    let body = fixture_with_id("payment_intent.succeeded", "evt_ops_cli");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let jobs = app.settle("evt_ops_cli").await;
    assert_eq!(jobs[0].status, JobStatus::Dead, "a 404 is permanent");
    let dead = app
        .store
        .dead_letters(&JobFilter::default(), 10)
        .await
        .expect("dead letters");
    let job = &dead[0];
    let header = format!(
        "{:>8}  {:<19}  {:<28}  {:<20}  {:<14}  {:>8}  last error",
        "job", "dead at (UTC)", "event", "rule", "plugin", "attempts"
    );
    let row = format!(
        "{:>8}  {:<19}  {:<28}  {:<20}  {:<14}  {:>8}  {}",
        job.id,
        utc(job.dead_at_ms),
        "evt_ops_cli",
        "notify",
        "sink",
        1,
        job.last_error.as_deref().expect("a last error")
    );
    let config = app.config_path();

    let (ok, out, err) = bare_cli(&config, &["dead-letters"]).await;
    assert!(ok, "{err}");
    assert_eq!(out, format!("{header}\n{row}\n1 dead letter\n"));
    assert_eq!(err, "", "no progress bar or warning off a terminal");

    let (ok, out, err) = bare_cli(&config, &["replay", "--all", "--dry-run"]).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!("{header}\n{row}\ndry run: 1 dead letters would be replayed\n")
    );
    assert_eq!(err, "");

    for args in [
        &["events"][..],
        &["event", "evt_ops_cli"],
        &["job", &job.id.to_string()],
        &["prune"],
        &["inventory"],
    ] {
        let (ok, _, err) = bare_cli(&config, args).await;
        assert!(ok, "herald {args:?}: {err}");
        assert_eq!(err, "", "herald {args:?}");
    }

    let (ok, out, err) = bare_cli(&config, &["replay", "--all"]).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "replayed 1 of 1 matching dead letters (sink: 1)\n\
         a running `herald serve` delivers them within dispatch.poll_interval_ms\n"
    );
    assert_eq!(err, "", "the bar stays off when stderr is not a terminal");
    assert_eq!(app.jobs("evt_ops_cli").await[0].status, JobStatus::Pending);
}

#[tokio::test]
async fn check_and_serve_still_demand_every_secret() {
    let sink = HttpSink::start().await;
    let app = app(&sink).await;
    let (ok, _, err) = bare_cli(&app.config_path(), &["check"]).await;
    assert!(!ok);
    assert!(err.contains("STRIPE_WEBHOOK_SECRET"), "{err}");
    assert!(err.contains("SMTP_PASSWORD"), "{err}");
}

#[test]
fn a_taken_port_is_reported_once_not_twice() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    let text = base_config().replace("127.0.0.1:0", &addr.to_string());
    std::fs::write(&config, text).expect("config written");
    let (ok, _, err) = crate::helpers::run_cli(&config, &["serve"]);
    assert!(!ok, "serve started on a taken port");
    // EADDRINUSE on Linux, whose text the OS gives.
    let in_use = std::io::Error::from_raw_os_error(98);
    let line = err
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in {err}"));
    assert_eq!(
        line,
        format!("error: cannot start herald: cannot listen on {addr}: {in_use}")
    );
}
