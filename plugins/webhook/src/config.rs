//! One webhook plugin instance's configuration: a `[plugins.webhook.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes a [`WebhookConfig`],
//! checks it with [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate)
//! (pure, so `herald check` can report every problem in one go) and hands the resulting
//! [`ValidatedWebhook`] to [`Instance::build`](herald_plugin_api::Instance::build).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use herald_plugin_api::{expand_env, Env, Issues, PluginConfig, ValidateContext};
use herald_plugin_http::config_headers;
use herald_plugin_http::signature::decode_secret;
use reqwest::header::HeaderMap;
use reqwest::Url;
use serde::Deserialize;

/// Seconds one request may take, connecting included, when `timeout_secs` is not set.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Requests in flight to one destination when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// Headers herald sets itself (or HTTP owns); a configured value would clash with them.
const RESERVED_HEADERS: [&str; 10] = [
    "connection",
    "content-length",
    "content-type",
    "host",
    "idempotency-key",
    "te",
    "transfer-encoding",
    "webhook-id",
    "webhook-signature",
    "webhook-timestamp",
];

/// The raw `[plugins.webhook.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Base URL, e.g. `"https://shipping.example.com/hooks"`; an action's `path` is
    /// appended to it. Scheme and host always come from here, never from event data.
    pub url: String,
    /// Standard Webhooks signing secret, best as a `"${VAR}"` reference: `"whsec_<base64>"`
    /// (the part after `whsec_` is decoded) or any other text, used as is. Unsigned when absent.
    pub secret: Option<String>,
    /// Extra headers; values may hold `${VAR}`, e.g. `Authorization = "Bearer ${SHIP_TOKEN}"`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Seconds one request may take, connecting included. Default 10.
    pub timeout_secs: Option<u64>,
    /// Most requests in flight to this destination at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
}

/// A checked configuration: every value resolved, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
///
/// `Debug` hides the secret, and header values are marked sensitive, so it can be logged.
#[derive(Clone)]
pub struct ValidatedWebhook {
    /// The base URL (http or https, no fragment).
    pub url: Url,
    /// The decoded HMAC key, when requests are signed.
    pub secret: Option<Vec<u8>>,
    /// The configured extra headers, `${VAR}` references expanded.
    pub headers: HeaderMap,
    /// How long one request may take, connecting included.
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
}

impl fmt::Debug for ValidatedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedWebhook")
            .field("url", &self.url.as_str())
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

impl PluginConfig for WebhookConfig {
    const KIND: &'static str = "webhook";
    type Instance = ValidatedWebhook;

    /// Checks the table and resolves it. Messages never quote a secret or a header value.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedWebhook, Issues> {
        let env = cx.env;
        let mut issues = cx.issues();
        let url = parse_url(&self.url)
            .map_err(|message| issues.push("url", message))
            .ok();
        let secret = self.secret(env, &mut issues);
        let (headers, problems) = config_headers(&self.headers, &RESERVED_HEADERS, env);
        for (field, message) in problems {
            issues.push(&field, message);
        }
        if self.timeout_secs == Some(0) {
            issues.push("timeout_secs", "must be at least 1");
        }
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        issues.finish(|| {
            Some(ValidatedWebhook {
                url: url?,
                secret: secret?,
                headers,
                timeout: Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)),
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
            })
        })
    }
}

impl WebhookConfig {
    /// The decoded key: `Some(None)` for unsigned, `None` when there was an issue.
    fn secret(&self, env: &dyn Env, issues: &mut Issues) -> Option<Option<Vec<u8>>> {
        let Some(raw) = self.secret.as_deref() else {
            return Some(None);
        };
        let expanded = expand_env(raw, env)
            .map_err(|err| issues.push("secret", err.to_string()))
            .ok()?;
        match decode_secret(expanded.trim()) {
            Ok(key) => Some(Some(key)),
            Err(err) => {
                issues.push(
                    "secret",
                    format!("{err} (after expanding `${{...}}` references)"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// The base URL, checked; the example suits a shipping system.
fn parse_url(raw: &str) -> Result<Url, String> {
    herald_plugin_http::parse_url(raw, "https://shipping.example.com/hooks")
}
