//! A storefront callback: a signed POST herald sends after a ledger change (an
//! order's status, a subscription's access), configured the same way by every plugin
//! that keeps one: `callback = { url = "…", secret = "${…}", timeout_secs = 10 }`.
//!
//! Signed the Standard Webhooks way when a secret is set, carrying the job's
//! idempotency key, so the storefront can trust it and drop repeats.

use std::time::Duration;

use herald_plugin_api::{
    expand_env, BuildContext, ClientSettings, Env, Issues, Job, Outcome, PluginError,
};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Client, Url};
use serde::Deserialize;

use crate::signature::{
    decode_secret, sign, SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER,
};
use crate::{answered, excerpt, outcome};

/// Seconds a storefront callback may take when `timeout_secs` is not set.
pub const DEFAULT_CALLBACK_TIMEOUT_SECS: u64 = 10;

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

impl CallbackConfig {
    /// Checks the table, reporting each problem under `callback.<field>`; `example`
    /// is a URL the message about a bad `url` shows.
    pub fn validate(&self, env: &dyn Env, issues: &mut Issues, example: &str) -> Option<Callback> {
        let mut report = |field: &str, message: String| {
            issues.push(&format!("callback.{field}"), message);
        };
        let url = crate::parse_url(&self.url, example)
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

/// `callback` with the client it is sent with, made from `cx` for an instance of at
/// most `max_in_flight` jobs at once; `None` without a callback.
///
/// # Errors
/// When the client cannot be built.
pub fn with_client(
    callback: Option<Callback>,
    cx: &BuildContext,
    max_in_flight: usize,
) -> Result<Option<(Callback, Client)>, PluginError> {
    callback
        .map(|callback| {
            let client = cx.http_client(ClientSettings {
                timeout: callback.timeout,
                max_idle: max_in_flight,
            })?;
            Ok((callback, client))
        })
        .transpose()
}

/// POSTs `body` (JSON) to the storefront for `job`; the job's idempotency key names
/// the call.
pub async fn notify(client: &Client, callback: &Callback, job: &Job<'_>, body: String) -> Outcome {
    let mut request = client
        .post(callback.url.clone())
        .timeout(callback.timeout)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("idempotency-key", job.idempotency_key);
    if let Some(secret) = &callback.secret {
        let timestamp = crate::unix_now();
        request = request
            .header(WEBHOOK_ID_HEADER, job.idempotency_key)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                sign(secret, job.idempotency_key, timestamp, body.as_bytes()),
            );
    }
    let destination = callback.url.origin().ascii_serialization();
    match crate::send(request.body(body), &destination, callback.timeout).await {
        Err(outcome) => outcome,
        Ok(answer) => {
            let text = if answer.status.is_success() {
                String::new()
            } else {
                excerpt(&answer.body)
            };
            outcome(
                answer.status,
                &answer.headers,
                answered("storefront", answer.status, &text),
            )
        }
    }
}
