//! Helpers for the exec plugin's integration tests: scripts in a tempdir, an event, and
//! one-call config → build → deliver.
#![allow(dead_code)]

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use herald_plugin_api::{
    BuildContext, Event, Instance, Outcome, Plugin, PluginConfig, ValidateContext,
};
use herald_plugin_exec::{ExecConfig, ValidatedExec};
pub use herald_testkit::{params, reason};
use herald_testkit::{Attempt, FakeTemplates};
use serde_json::{json, Map, Value};
use tokio::sync::RwLock;

pub const KEY: &str = "stripe:evt_1:erp_paid:0";

/// Writing a script while another test thread forks can leak the write descriptor into
/// that child for an instant, and running the script then fails with ETXTBSY ("text file
/// busy"). Writers take this lock exclusively, runs take it shared.
static FORK: RwLock<()> = RwLock::const_new(());

/// Writes `#!/bin/sh` + `body` to `dir/name`, mode 0755.
pub async fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let _guard = FORK.write().await;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Runs a std command (e.g. `kill -0`) without racing script writes.
pub async fn run_std(command: &mut std::process::Command) -> std::process::ExitStatus {
    let _guard = FORK.read().await;
    command.status().expect("run command")
}

/// An `[plugins.exec.test]` table for `command` with a 10 s timeout.
pub fn config(command: &Path) -> ExecConfig {
    ExecConfig {
        command: command.display().to_string(),
        args: Vec::new(),
        env: Default::default(),
        timeout_secs: Some(10),
        max_concurrency: None,
    }
}

/// The environment `${VAR}` references resolve against.
pub fn env() -> HashMap<String, String> {
    HashMap::from([
        ("SHOP".to_owned(), "example".to_owned()),
        ("ERP_TOKEN".to_owned(), "tok_secret".to_owned()),
    ])
}

/// Validates `config` (relative paths from `base_dir`) and builds the instance.
pub async fn plugin_in(config: &ExecConfig, base_dir: &Path) -> Arc<dyn Plugin> {
    let env = env();
    let cx = ValidateContext::new("plugins.exec.test", &env).with_base_dir(base_dir);
    let validated: ValidatedExec = config.clone().validate(&cx).expect("valid config");
    validated
        .build(&BuildContext::new(Arc::new(FakeTemplates)).for_instance("test"))
        .await
        .expect("build")
}

/// Validates and builds with absolute paths.
pub async fn plugin(config: &ExecConfig) -> Arc<dyn Plugin> {
    plugin_in(config, Path::new("/")).await
}

pub fn event(order_id: &str) -> Event {
    let object = json!({ "id": "cs_1", "metadata": { "order_id": order_id } });
    Event {
        order_id: Some(order_id.into()),
        ..herald_testkit::event("checkout.session.completed", object)
    }
}

/// Delivers one job (attempt 2, rule `erp_paid`) for `event` with key `key`.
pub async fn deliver_event(
    plugin: &dyn Plugin,
    params: &Map<String, Value>,
    event: &Event,
    key: &str,
) -> Outcome {
    let attempt = Attempt::first("erp_paid", key).number(2);
    let _guard = FORK.read().await;
    herald_testkit::deliver(plugin, event, params, attempt).await
}

/// Delivers one job for order `ord_1` with [`KEY`].
pub async fn deliver(plugin: &dyn Plugin, params: &Map<String, Value>) -> Outcome {
    deliver_event(plugin, params, &event("ord_1"), KEY).await
}
