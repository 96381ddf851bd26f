//! The real binary: starts on the shipped config, serves, stops cleanly on SIGTERM.

use std::time::Duration;

use crate::helpers::{shipped_config_in, HeraldProcess};

#[tokio::test]
async fn sigterm_stops_the_binary_with_exit_code_0() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, shipped_config_in(dir.path())).expect("write config");
    let herald = HeraldProcess::start(&config).await;

    let health = reqwest::get(format!("http://{}/healthz", herald.addr))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    herald.signal("-TERM");
    let exit = tokio::time::timeout(Duration::from_secs(30), herald.wait())
        .await
        .expect("herald exits within 30 s");
    assert_eq!(exit, Some(0));
}

#[tokio::test]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, shipped_config_in(dir.path())).expect("write config");
    let herald = HeraldProcess::start(&config).await;
    // journald, docker and log files show escape codes as litter.
    let line = herald.listening_line.clone();
    assert!(!line.contains('\u{1b}'), "{line:?}");
    herald.signal("-TERM");
    let exit = tokio::time::timeout(Duration::from_secs(30), herald.wait()).await;
    assert_eq!(exit.expect("herald exits within 30 s"), Some(0));
}
