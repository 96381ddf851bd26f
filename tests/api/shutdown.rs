//! The real binary: starts on the shipped config, serves, stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{repo, shipped_config_in, SECRET};

#[tokio::test]
async fn sigterm_stops_the_binary_with_exit_code_0() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, shipped_config_in(dir.path())).expect("write config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("STRIPE_WEBHOOK_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("herald starts");
    let stderr = child.stderr.take().expect("stderr");
    // Read the log until the listening line tells us the port.
    let addr = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let addr = lines.by_ref().map_while(Result::ok).find_map(|line| {
            let rest = line.split("listening on http://").nth(1)?;
            rest.split_whitespace().next().map(str::to_owned)
        });
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        addr
    })
    .await
    .expect("reader")
    .expect("herald logged its address");

    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("herald exits within 30 s")
    .expect("join")
    .expect("wait");
    assert_eq!(exit.code(), Some(0));
}
