//! herald's client for Stripe's API: the calls that close what webhooks leave open
//! (`herald reconcile` lists the events herald missed).
//!
//! Every request carries the secret key as a bearer token (never logged) and a pinned
//! `Stripe-Version`, waits its turn in a request budget well under Stripe's read
//! limits, and is retried on 429 and 5xx, honouring `Retry-After`.

pub mod budget;
mod endpoints;
mod events;

use std::time::Duration;

use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub use self::budget::Budget;
pub use self::endpoints::Endpoint;
pub use self::events::{EventsPage, EventsQuery};

/// The API version herald's requests ask for, and its samples are shaped on.
pub const STRIPE_VERSION: &str = "2026-07-29.dahlia";

/// Stripe's API when `api_base` is not set.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// How many times one request is tried before its error is returned.
const ATTEMPTS: u32 = 5;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The longest herald waits before trying a throttled request again.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A request to Stripe that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Stripe refused it for good (400, 401, 403, 404): the message says why.
    #[error("Stripe answered {status}: {message}")]
    Refused { status: u16, message: String },
    /// Still failing after every attempt (429, 5xx, no answer).
    #[error("Stripe did not answer after {ATTEMPTS} attempts: {0}")]
    Unavailable(String),
    /// The answer was not the JSON Stripe sends.
    #[error("Stripe's answer could not be read: {0}")]
    Unreadable(String),
    /// The config has no key for the API.
    #[error(
        "no Stripe API key: set [sources.stripe] api_key = \"${{STRIPE_SECRET_KEY}}\" \
         (a restricted key with the permissions docs/stripe-api.md lists)"
    )]
    NoKey,
}

/// A Stripe API client for one account.
#[derive(Clone)]
pub struct StripeApi {
    client: reqwest::Client,
    base: Url,
    key: SecretString,
    budget: Budget,
    /// How long one request may take before it is tried again.
    timeout: Duration,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi")
            .field("base", &self.base.as_str())
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl StripeApi {
    /// The client `config`'s `[sources.stripe]` API settings describe.
    ///
    /// # Errors
    /// [`ApiError::NoKey`] without `api_key`; when the HTTP client cannot be built.
    pub fn configured(config: &crate::config::RestartOnly) -> Result<Self, ApiError> {
        let settings = config
            .stripe
            .as_ref()
            .and_then(|stripe| stripe.api.clone())
            .ok_or(ApiError::NoKey)?;
        Self::new(
            settings.base,
            settings.key,
            Budget::per_second(settings.per_second),
        )
    }

    /// A client for the account whose secret (or restricted) key is `key`, at `base`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: Url, key: SecretString, budget: Budget) -> Result<Self, ApiError> {
        let client = reqwest::Client::builder()
            .user_agent(herald_plugin_api::USER_AGENT)
            .build()
            .map_err(|err| ApiError::Unavailable(err.to_string()))?;
        Ok(Self {
            client,
            base,
            key,
            budget,
            timeout: TIMEOUT,
        })
    }

    /// The same client, giving up on one request after `timeout` (30 s by default)
    /// and trying it again.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `GET {base}{path}?{query}`, as JSON; throttled answers and server errors are
    /// tried again.
    ///
    /// # Errors
    /// [`ApiError`]: refused, still failing, or not JSON.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ApiError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|err| ApiError::Unreadable(format!("{path}: {err}")))?;
        url.query_pairs_mut().extend_pairs(query);
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            self.budget.take().await;
            let sent = self
                .client
                .get(url.clone())
                .timeout(self.timeout)
                .bearer_auth(self.key.expose_secret())
                .header("Stripe-Version", STRIPE_VERSION)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    last = err.without_url().to_string();
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response
                .text()
                .await
                .map_err(|err| ApiError::Unreadable(err.without_url().to_string()))?;
            if status.is_success() {
                return serde_json::from_str(&body)
                    .map_err(|err| ApiError::Unreadable(err.to_string()));
            }
            let message = error_message(&body);
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                tracing::warn!(%status, attempt, path, "Stripe's API asked herald to wait; trying again");
                last = format!("{status}: {message}");
                let wait = retry_after
                    .unwrap_or_else(|| backoff(attempt))
                    .min(MAX_WAIT);
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(ApiError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        Err(ApiError::Unavailable(last))
    }
}

/// 0.5 s, 1 s, 2 s, … before attempt `attempt + 1` when Stripe said nothing.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6).saturating_sub(1)))
}

/// Stripe's `error.message`, else the body's start.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|value| value.pointer("/error/message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}
