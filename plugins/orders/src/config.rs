//! One orders plugin instance's configuration: a `[plugins.orders.<name>]` table.
//!
//! Checked at start-up, before the deliver stage runs: herald deserializes an
//! [`OrdersConfig`], checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) and hands the
//! resulting [`ValidatedOrders`] to
//! [`Instance::build`](herald_plugin_api::Instance::build).

use std::time::Duration;

use herald_plugin_api::{expand_env, Env, Issues, PluginConfig, ValidateContext};
use herald_plugin_http::signature::decode_secret;
use reqwest::Url;
use serde::Deserialize;

/// Seconds a storefront callback may take when `timeout_secs` is not set.
pub const DEFAULT_CALLBACK_TIMEOUT_SECS: u64 = 10;

/// Jobs of one instance at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// The raw `[plugins.orders.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// Most jobs at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
    /// Tell the storefront each order's status after every change, by a signed POST.
    pub callback: Option<CallbackConfig>,
}

/// `callback = { url = "…", secret = "${…}" }`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackConfig {
    /// Where the status is POSTed.
    pub url: String,
    /// Standard Webhooks signing secret (`whsec_<base64>`), as a `${VAR}` reference.
    pub secret: Option<String>,
    /// Seconds one call may take, connecting included. Default 10.
    pub timeout_secs: Option<u64>,
}

/// A checked storefront callback.
#[derive(Clone, PartialEq)]
pub struct Callback {
    pub url: Url,
    /// The HMAC key; unsigned calls when `None`.
    pub secret: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("url", &self.url.as_str())
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A checked configuration, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedOrders {
    /// Most jobs at once.
    pub max_concurrency: usize,
    /// The storefront callback, if configured.
    pub callback: Option<Callback>,
}

impl PluginConfig for OrdersConfig {
    const KIND: &'static str = "orders";
    type Instance = ValidatedOrders;

    /// Checks the table.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedOrders, Issues> {
        let mut issues = cx.issues();
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        let callback = match &self.callback {
            None => Some(None),
            Some(callback) => callback.validate(cx.env, &mut issues).map(Some),
        };
        issues.finish(|| {
            Some(ValidatedOrders {
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
                callback: callback?,
            })
        })
    }
}

impl CallbackConfig {
    fn validate(&self, env: &dyn Env, issues: &mut Issues) -> Option<Callback> {
        let mut report = |field: &str, message: String| {
            issues.push(&format!("callback.{field}"), message);
        };
        let url = herald_plugin_http::parse_url(&self.url, "https://shop.example.com/hooks/orders")
            .map_err(|message| report("url", message))
            .ok();
        let secret = match self.secret.as_deref() {
            None => Some(None),
            Some(raw) => match expand_env(raw, env) {
                Err(err) => {
                    report("secret", err.to_string());
                    None
                }
                Ok(expanded) => match decode_secret(expanded.trim()) {
                    Ok(key) => Some(Some(key)),
                    Err(err) => {
                        report(
                            "secret",
                            format!("{err} (after expanding `${{...}}` references)"),
                        );
                        None
                    }
                },
            },
        };
        if self.timeout_secs == Some(0) {
            report("timeout_secs", "must be at least 1".to_owned());
        }
        Some(Callback {
            url: url?,
            secret: secret?,
            timeout: Duration::from_secs(
                self.timeout_secs.unwrap_or(DEFAULT_CALLBACK_TIMEOUT_SECS),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use herald_testkit::validate_table;
    use serde_json::json;

    use super::*;

    const KEY: &str = "plugins.orders.shop";

    #[test]
    fn an_empty_table_takes_defaults() {
        assert_eq!(
            validate_table::<OrdersConfig>(KEY, json!({})),
            Ok(ValidatedOrders {
                max_concurrency: DEFAULT_MAX_CONCURRENCY,
                callback: None,
            })
        );
    }

    #[test]
    fn values_pass_through() {
        let config = validate_table::<OrdersConfig>(KEY, json!({ "max_concurrency": 2 })).unwrap();
        assert_eq!(config.max_concurrency, 2);
    }

    #[test]
    fn zero_concurrency_is_an_issue_at_its_key() {
        assert_eq!(
            validate_table::<OrdersConfig>(KEY, json!({ "max_concurrency": 0 })),
            Err(vec![format!("{KEY}.max_concurrency")])
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = serde_json::from_value::<OrdersConfig>(json!({ "ledger": "x" })).unwrap_err();
        assert!(err.to_string().contains("ledger"), "{err}");
    }
}
