//! The real binary: starts on the shipped config, serves, stops cleanly on SIGTERM.

use std::path::Path;
use std::time::Duration;

use crate::helpers::{shipped_config_in, HeraldProcess};

/// The binary on the shipped config, in `dir`.
async fn start_shipped(dir: &Path) -> HeraldProcess {
    let config = dir.join("config.toml");
    std::fs::write(&config, shipped_config_in(dir)).expect("write config");
    HeraldProcess::start(&config).await
}

/// Sends SIGTERM and expects exit code 0 within 30 s.
async fn assert_stops_cleanly(herald: HeraldProcess) {
    herald.signal("-TERM");
    let exit = tokio::time::timeout(Duration::from_secs(30), herald.wait())
        .await
        .expect("herald exits within 30 s");
    assert_eq!(exit, Some(0));
}

#[tokio::test]
async fn sigterm_stops_the_binary_with_exit_code_0() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let herald = start_shipped(dir.path()).await;

    let health = reqwest::get(format!("http://{}/healthz", herald.addr))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert_stops_cleanly(herald).await;
}

#[tokio::test]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let herald = start_shipped(dir.path()).await;
    // journald, docker and log files show escape codes as litter.
    let line = herald.listening_line.clone();
    assert!(!line.contains('\u{1b}'), "{line:?}");
    assert_stops_cleanly(herald).await;
}

#[tokio::test]
async fn sigterm_as_soon_as_it_says_listening_still_stops_cleanly() {
    // A supervisor may stop a service the moment it is up; before the fix the
    // SIGTERM handler came after the listening line, and such a SIGTERM killed
    // the process outright. Eight at once, on cores they share, to meet the window.
    let mut stops = tokio::task::JoinSet::new();
    for _ in 0..8 {
        stops.spawn(async {
            let dir = tempfile::TempDir::new().expect("temp dir");
            let herald = start_shipped(dir.path()).await;
            assert_stops_cleanly(herald).await;
        });
    }
    while let Some(stopped) = stops.join_next().await {
        stopped.expect("stopped cleanly");
    }
}

/// A test that ends without stopping its herald (a failed assertion, or none to make)
/// left the server running after the suite: dropping it stops it.
#[tokio::test]
async fn a_herald_a_test_drops_is_stopped_with_it() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let herald = start_shipped(dir.path()).await;
    let pid = herald.child.id().to_string();
    drop(herald);
    let alive = std::process::Command::new("kill")
        .args(["-0", &pid])
        .status()
        .expect("kill runs");
    assert!(!alive.success(), "herald {pid} still runs");
}
