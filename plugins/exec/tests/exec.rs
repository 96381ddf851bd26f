//! The exec plugin end to end: config → build → deliver, against small shell scripts
//! written into a tempdir, and the shipped example script.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use herald_plugin_api::{Env, Outcome, PluginConfig, ValidateContext};

use serde_json::{json, Map, Value};

use support::{config, deliver, deliver_event, env, event, params, plugin, reason, script, KEY};

#[tokio::test]
async fn runs_the_command_with_stdin_args_and_a_clean_environment() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(
        dir.path(),
        "capture.sh",
        // Relative paths: the working directory is the script's folder.
        "cat > stdin.json\nprintf '%s\\n' \"$@\" > args.txt\nenv > env.txt",
    )
    .await;
    let mut table = config(&command);
    table.args = vec!["--shop".into(), "${SHOP}".into()];
    table.env = BTreeMap::from([("ERP_TOKEN".into(), "${ERP_TOKEN}".into())]);
    let plugin = plugin(&table).await;
    let params = params(json!({
        "args": ["{{order_id}}", "{{customer.email}}", "a b; echo pwned"]
    }));

    let outcome = deliver(plugin.as_ref(), &params).await;

    assert_eq!(outcome, Outcome::Delivered);
    let stdin: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stdin.json")).unwrap()).unwrap();
    assert_eq!(stdin, event("ord_1").context());
    let args = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "--shop",
            "example",
            "ord_1",
            "ada@example.com",
            "a b; echo pwned"
        ]
    );
    let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
    let vars: Vec<&str> = env.lines().collect();
    for expected in [
        "ERP_TOKEN=tok_secret",
        "HERALD_IDEMPOTENCY_KEY=stripe:evt_1:erp_paid:0",
        "HERALD_EVENT_ID=evt_1",
        "HERALD_EVENT_TYPE=checkout.session.completed",
        "HERALD_RULE=erp_paid",
        "HERALD_ATTEMPT=2",
    ] {
        assert!(vars.contains(&expected), "{expected} missing from {vars:?}");
    }
    // Anything else of the test process's environment (cargo sets plenty) stays out; the
    // shell itself sets `PWD`, `SHLVL` and `_`.
    let leaked: Vec<String> = std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| {
            !matches!(
                name.as_str(),
                "PATH" | "HOME" | "LANG" | "PWD" | "SHLVL" | "_"
            )
        })
        .filter(|name| vars.iter().any(|var| var.starts_with(&format!("{name}="))))
        .collect();
    assert!(leaked.is_empty(), "leaked parent variables: {leaked:?}");
}

#[tokio::test]
async fn exit_75_is_retried_with_stderr_in_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "tempfail.sh", "echo 'erp is down' >&2\nexit 75").await;
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    assert!(
        matches!(outcome, Outcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    assert!(reason(&outcome).contains("75"), "{outcome:?}");
    assert!(reason(&outcome).contains("erp is down"), "{outcome:?}");
}

#[tokio::test]
async fn other_exit_codes_fail_with_stderr_or_stdout_in_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "fail.sh", "echo 'unknown order' >&2\nexit 3").await;
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(reason(&outcome), "exited with 3: unknown order");

    let command = script(dir.path(), "stdout.sh", "echo 'said on stdout'\nexit 1").await;
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    assert_eq!(reason(&outcome), "exited with 1: said on stdout");
}

#[tokio::test]
async fn a_signal_fails_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "suicide.sh", "kill -9 $$").await;
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert!(
        reason(&outcome).starts_with("killed by signal 9"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_timeout_kills_the_process_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    // `exec` keeps the pid, so the pid file names the process that must be gone.
    let command = script(dir.path(), "slow.sh", "echo $$ > pid\nexec sleep 30").await;
    let mut table = config(&command);
    table.timeout_secs = Some(1);
    let plugin = plugin(&table).await;

    let started = Instant::now();
    let outcome = deliver(plugin.as_ref(), &Map::new()).await;

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
    assert!(
        reason(&outcome).starts_with("timed out after 1s"),
        "{outcome:?}"
    );
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let alive = support::run_std(Command::new("kill").args(["-0", pid.trim()])).await;
    assert!(!alive.success(), "process {} still exists", pid.trim());
}

#[tokio::test]
async fn a_background_process_holding_the_pipes_does_not_hang_the_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(
        dir.path(),
        "daemon.sh",
        "sleep 30 &\necho $! > bgpid\nexit 0",
    )
    .await;
    let started = Instant::now();
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    let elapsed = started.elapsed();
    let pid = std::fs::read_to_string(dir.path().join("bgpid")).unwrap();
    support::run_std(Command::new("kill").arg(pid.trim())).await;
    assert_eq!(outcome, Outcome::Delivered);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn a_script_that_ignores_a_large_stdin_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "ignore.sh", "exit 0").await;
    // Far more than a pipe holds, so writing it hits the closed pipe.
    let mut event = event("ord_1");
    let mut raw = event.raw.value().clone();
    raw["padding"] = Value::String("x".repeat(1 << 20));
    event.raw = raw.into();
    let outcome = deliver_event(
        plugin(&config(&command)).await.as_ref(),
        &Map::new(),
        &event,
        KEY,
    )
    .await;
    assert_eq!(outcome, Outcome::Delivered);
}

#[tokio::test]
async fn lots_of_output_neither_blocks_nor_bloats_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "chatty.sh", "head -c 1048576 /dev/zero").await;
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    assert_eq!(outcome, Outcome::Delivered);

    let command = script(
        dir.path(),
        "chatty_fail.sh",
        "yes 'noise' | head -c 1048576 >&2\necho 'the real reason' >&2\nexit 2",
    )
    .await;
    let outcome = deliver(plugin(&config(&command)).await.as_ref(), &Map::new()).await;
    let reason = reason(&outcome);
    assert!(reason.starts_with("exited with 2: "), "{reason}");
    assert!(reason.ends_with("the real reason"), "{reason}");
    assert!(
        reason.chars().count() <= 520,
        "{} chars",
        reason.chars().count()
    );
}

#[tokio::test]
async fn template_errors_hold_and_param_errors_fail_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "touch.sh", "touch ran").await;
    let plugin = plugin(&config(&command)).await;

    // A template that does not render holds the job for a fix; a bad parameter fails it.
    let missing = params(json!({ "args": ["{{no_such_field}}"] }));
    let outcome = deliver(plugin.as_ref(), &missing).await;
    herald_testkit::assert_held(&outcome, "args[0]");
    let unknown = params(json!({ "path": "/x" }));
    let outcome = deliver(plugin.as_ref(), &unknown).await;
    herald_testkit::assert_failed(&outcome, "unknown key `path`");
    assert!(!dir.path().join("ran").exists());
}

#[tokio::test]
async fn a_command_removed_after_start_up_fails_and_fails_the_healthcheck() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(dir.path(), "gone.sh", "exit 0").await;
    let plugin = plugin(&config(&command)).await;
    assert!(plugin.healthcheck().await.is_ok());
    std::fs::remove_file(&command).unwrap();
    let outcome = deliver(plugin.as_ref(), &Map::new()).await;
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert!(reason(&outcome).contains("cannot start"), "{outcome:?}");
    assert!(plugin.healthcheck().await.is_err());
}

#[tokio::test]
async fn validation_collects_every_issue() {
    let dir = tempfile::tempdir().unwrap();
    let mut table = config(Path::new("missing.sh"));
    table.args = vec!["${NOPE_ARG}".into()];
    table.env = BTreeMap::from([
        ("TOKEN".into(), "${NOPE_ENV}".into()),
        ("HERALD_RULE".into(), "x".into()),
    ]);
    table.timeout_secs = Some(0);
    table.max_concurrency = Some(0);

    let issues = table
        .validate(&erp_context(&env(), dir.path()))
        .unwrap_err()
        .into_iter()
        .collect::<Vec<_>>();

    let keys: Vec<&str> = issues.iter().map(|issue| issue.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "plugins.exec.erp.command",
            "plugins.exec.erp.args[0]",
            "plugins.exec.erp.env.HERALD_RULE",
            "plugins.exec.erp.env.TOKEN",
            "plugins.exec.erp.timeout_secs",
            "plugins.exec.erp.max_concurrency",
        ]
    );
    assert!(issues[0].message.contains("missing.sh"), "{issues:?}");
    assert!(issues[1].message.contains("NOPE_ARG"), "{issues:?}");
    assert!(issues[3].message.contains("NOPE_ENV"), "{issues:?}");
}

fn erp_context<'a>(env: &'a dyn Env, dir: &'a Path) -> ValidateContext<'a> {
    ValidateContext::new("plugins.exec.erp", env).with_base_dir(dir)
}

#[tokio::test]
async fn validation_rejects_a_file_that_is_not_executable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plain.sh"), "#!/bin/sh\n").unwrap();
    let issues = (config(Path::new("plain.sh")))
        .validate(&erp_context(&env(), dir.path()))
        .unwrap_err()
        .into_iter()
        .collect::<Vec<_>>();
    assert_eq!(issues.len(), 1);
    assert!(issues[0].message.contains("not executable"), "{issues:?}");
}

#[tokio::test]
async fn validated_config_resolves_paths_and_hides_env_values() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "erp.sh", "exit 0").await;
    let mut table = config(Path::new("erp.sh"));
    table.timeout_secs = None;
    table.env = BTreeMap::from([("ERP_TOKEN".into(), "${ERP_TOKEN}".into())]);
    let validated = table.validate(&erp_context(&env(), dir.path())).unwrap();
    assert_eq!(validated.command, dir.path().join("erp.sh"));
    assert_eq!(validated.env, [("ERP_TOKEN".into(), "tok_secret".into())]);
    assert_eq!(validated.timeout, Duration::from_secs(30));
    assert_eq!(validated.max_concurrency, 4);
    let debug = format!("{validated:?}");
    assert!(debug.contains("ERP_TOKEN"), "{debug}");
    assert!(!debug.contains("tok_secret"), "{debug}");
}

#[tokio::test]
async fn the_example_script_logs_each_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("orders.log");
    // Just as a shop's config.toml at the workspace root would name it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut table = config(Path::new("plugins/exec/examples/log-order.sh"));
    table.env = BTreeMap::from([("ORDER_LOG".into(), log.display().to_string())]);
    let plugin = support::plugin_in(&table, &root).await;
    let params = params(json!({ "args": ["{{order_id}}"] }));

    for _ in 0..2 {
        assert_eq!(deliver(plugin.as_ref(), &params).await, Outcome::Delivered);
    }
    // A key that extends the first one is a different job.
    let longer = format!("{KEY}0");
    let outcome = deliver_event(plugin.as_ref(), &params, &event("ord_2"), &longer).await;
    assert_eq!(outcome, Outcome::Delivered);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with(&format!(
            " checkout.session.completed evt_1 order=ord_1 key={KEY}"
        )),
        "{text}"
    );
    assert!(
        lines[1].ends_with(&format!("order=ord_2 key={longer}")),
        "{text}"
    );
}

#[tokio::test]
async fn the_example_script_asks_for_a_retry_when_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut table = config(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/log-order.sh"));
    let log = dir.path().join("no/such/folder/orders.log");
    table.env = BTreeMap::from([("ORDER_LOG".into(), log.display().to_string())]);
    let outcome = deliver(plugin(&table).await.as_ref(), &Map::new()).await;
    assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
    assert!(reason(&outcome).contains("cannot append"), "{outcome:?}");
}
