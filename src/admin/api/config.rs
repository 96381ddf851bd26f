//! `GET /api/config`: the config in force (what the last good reload put in force,
//! restart-only settings as started), every secret masked.
//!
//! Built field by field from the checked config rather than from the file: the
//! file may hold an edit that failed to load, and secrets in it are `${VAR}`
//! references while the checked config holds their values.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_plugin_api::{RetryConfig, MASKED};
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::rules::Condition;
use crate::server::AppState;

/// Keys whose values are masked wherever they appear in free-form tables (`[shop]`,
/// action parameters), in case a secret was written there.
const SECRET_WORDS: &[&str] = &["secret", "token", "password", "authorization", "key"];

/// `GET /api/config`
pub async fn show(State(state): State<AppState>) -> Response {
    Json(view(&state.live.get().config)).into_response()
}

/// The JSON shown for `config`.
fn view(config: &Config) -> Value {
    let server = &config.restart.server;
    let dispatch = &config.restart.dispatch;
    let rules: Vec<Value> = config
        .reloadable
        .rules
        .iter()
        .map(|rule| {
            let actions: Vec<Value> = rule
                .actions()
                .iter()
                .map(|action| {
                    let mut params = Value::Object(action.params().clone());
                    mask_secrets(&mut params);
                    json!({ "plugin": action.plugin(), "params": params })
                })
                .collect();
            json!({
                "name": rule.name(),
                "on": rule.on().iter().map(ToString::to_string).collect::<Vec<_>>(),
                "when": rule.when().map(Condition::source),
                "actions": actions,
                "retry": retry(config.reloadable.rules.retry_for(rule.name())),
            })
        })
        .collect();
    let plugins: Vec<Value> = config
        .reloadable
        .plugins
        .iter()
        .map(|plugin| {
            json!({
                "name": plugin.name(),
                "kind": plugin.kind(),
                "describe": plugin.describe(),
                "max_concurrency": plugin.max_concurrency(),
                "retry": retry(plugin.retry()),
            })
        })
        .collect();
    let mut shop = config.reloadable.shop.clone();
    mask_secrets(&mut shop);
    json!({
        "path": config.path.display().to_string(),
        "server": {
            "listen": server.listen.to_string(),
            "body_limit_bytes": server.body_limit_bytes,
            "request_timeout_secs": server.request_timeout.as_secs(),
            "header_read_timeout_secs": server.header_read_timeout.as_secs(),
            "body_read_timeout_secs": server.body_read_timeout.as_secs(),
            "idle_timeout_secs": server.idle_timeout.as_secs(),
            "max_connections": server.max_connections,
        },
        "admin": {
            "listen": config.restart.admin.listen.to_string(),
            "token": if config.restart.admin.token.is_some() { MASKED } else { "made at start" },
        },
        "database": { "url": config.restart.database.display },
        "dispatch": {
            "enabled": dispatch.enabled,
            "concurrency": dispatch.concurrency,
            "poll_interval_ms": u64::try_from(dispatch.poll_interval.as_millis()).unwrap_or(u64::MAX),
            "lease_secs": dispatch.lease.as_secs(),
            "retry": retry(dispatch.retry),
            "breaker_failures": dispatch.breaker_failures,
            "breaker_cooldown_secs": dispatch.breaker_cooldown.as_secs(),
            "retention_days": dispatch.retention.map(|r| r.as_secs() / 86_400),
        },
        "sources": {
            "stripe": config.restart.stripe.as_ref().map(|stripe| json!({
                "secret": MASKED,
                "tolerance_secs": stripe.tolerance.as_secs(),
            })),
        },
        "templates": { "dir": config.reloadable.templates_dir.display().to_string() },
        "shop": shop,
        "plugins": plugins,
        "rules": rules,
    })
}

fn retry(retry: RetryConfig) -> Value {
    json!({
        "max_attempts": retry.max_attempts,
        "max_age_secs": retry.max_age_secs,
        "backoff_base_secs": retry.backoff_base_secs,
        "backoff_max_secs": retry.backoff_max_secs,
    })
}

/// Masks, at any depth, the value of every key that names a secret.
fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => mask_map(map),
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

fn mask_map(map: &mut Map<String, Value>) {
    for (key, value) in map.iter_mut() {
        let key = key.to_ascii_lowercase();
        if SECRET_WORDS.iter().any(|word| key.contains(word)) && !value.is_null() {
            *value = Value::from(MASKED);
        } else {
            mask_secrets(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_keys_are_masked_at_any_depth() {
        let mut value = json!({
            "name": "Shop",
            "api_key": "k",
            "headers": [{ "Authorization": "Bearer x", "accept": "json" }],
            "nested": { "password": 1, "token": null },
        });
        mask_secrets(&mut value);
        assert_eq!(
            value,
            json!({
                "name": "Shop",
                "api_key": MASKED,
                "headers": [{ "Authorization": MASKED, "accept": "json" }],
                "nested": { "password": MASKED, "token": null },
            })
        );
    }
}
