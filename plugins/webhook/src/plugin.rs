//! The webhook [`Plugin`]: built once at start-up by [`build`] (through
//! [`Instance::build`](herald_plugin_api::Instance::build)), then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery composes the request ([`crate::request`]), waits for a slot under the
//! instance's concurrency limit, signs the body when a secret is configured
//! ([`crate::signature`]), POSTs it, and classifies the answer ([`crate::classify`]).

use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{
    async_trait, BuildContext, ClientSettings, Job, Outcome, Plugin, PluginError, Templates,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Client, Url};

use crate::classify;
use crate::config::ValidatedWebhook;
use crate::request::{compose, ComposeError};
use herald_plugin_http::signature::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER};

/// The header carrying the job's idempotency key on every request.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The `User-Agent` of every request (a configured `User-Agent` header wins).
pub const USER_AGENT: &str = herald_plugin_api::USER_AGENT;

/// One `[plugins.webhook.<name>]` instance.
struct WebhookPlugin {
    name: String,
    url: Url,
    /// `scheme://host:port` of `url`, for reasons and logs (the path may hold event data).
    destination: String,
    secret: Option<Vec<u8>>,
    headers: HeaderMap,
    timeout: Duration,
    client: Client,
    templates: Arc<dyn Templates>,
}

/// Builds a plugin instance from its validated config.
///
/// Prepares one HTTP client (connection pool, TLS, timeout, no redirects) shared by every
/// delivery of the instance. Does not connect.
///
/// # Errors
/// When the HTTP client cannot be built (its TLS set-up failed).
pub(crate) fn build(
    config: ValidatedWebhook,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let client = cx.http_client(ClientSettings {
        timeout: config.timeout,
        max_idle: config.max_concurrency,
    })?;
    let destination = config.url.origin().ascii_serialization();
    Ok(Arc::new(WebhookPlugin {
        name: cx.name().to_owned(),
        destination,
        url: config.url,
        secret: config.secret,
        headers: config.headers,
        timeout: config.timeout,
        client,
        templates: cx.templates(),
    }))
}

impl WebhookPlugin {
    /// The request headers for one attempt; `Err` when the key cannot be a header value.
    fn headers(&self, job: &Job<'_>, body: &[u8]) -> Result<HeaderMap, Outcome> {
        let key = HeaderValue::from_str(job.idempotency_key).map_err(|_| {
            Outcome::failed("the idempotency key cannot be sent as an HTTP header value")
        })?;
        // The spec wants no `.` in `webhook-id` (it separates the signed parts); herald's
        // keys (`source:evt_…:rule:index`) have none as long as source names have none.
        let mut headers = self.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(HeaderName::from_static("idempotency-key"), key.clone());
        if let Some(secret) = &self.secret {
            // Taken after waiting for a slot, so the receiver's replay window starts now.
            let timestamp = herald_plugin_http::unix_now();
            let signature = sign(secret, job.idempotency_key, timestamp, body);
            headers.insert(HeaderName::from_static(WEBHOOK_ID_HEADER), key);
            headers.insert(
                HeaderName::from_static(TIMESTAMP_HEADER),
                HeaderValue::from(timestamp),
            );
            let signature = HeaderValue::from_str(&signature)
                .map_err(|_| Outcome::failed("the signature is not a valid header value"))?;
            headers.insert(HeaderName::from_static(SIGNATURE_HEADER), signature);
        }
        Ok(headers)
    }

    /// Sends one request and classifies the answer.
    async fn send(&self, url: Url, headers: HeaderMap, body: Vec<u8>) -> (Outcome, Option<u16>) {
        let request = self.client.post(url).headers(headers).body(body);
        match herald_plugin_http::send(request, &self.destination, self.timeout).await {
            Err(outcome) => (outcome, None),
            Ok(answer) => {
                let excerpt = if answer.status.is_success() {
                    String::new()
                } else {
                    classify::excerpt(&answer.body)
                };
                let outcome = classify::response(answer.status, &answer.headers, &excerpt);
                (outcome, Some(answer.status.as_u16()))
            }
        }
    }
}

#[async_trait]
impl Plugin for WebhookPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let request = match compose(job, &self.url, self.templates.as_ref()) {
            Ok(request) => request,
            Err(err) => {
                tracing::debug!(
                    plugin = %self.name, rule = job.rule, attempt = job.attempt,
                    error = %err, "webhook request could not be composed"
                );
                // A template that does not render waits for a fix; the rest is for good.
                return if matches!(err, ComposeError::Render { .. }) {
                    Outcome::held(err.to_string())
                } else {
                    Outcome::failed(err.to_string())
                };
            }
        };
        let headers = match self.headers(job, &request.body) {
            Ok(headers) => headers,
            Err(outcome) => return outcome,
        };
        let (outcome, status) = self.send(request.url, headers, request.body).await;
        // Identifiers only: the URL path, the body and the headers may hold customer data
        // or credentials, and stay out of logs.
        if let Some(status @ 300..=399) = status {
            tracing::warn!(
                plugin = %self.name, destination = %self.destination, status,
                "webhook destination redirected; redirects are not followed, update `url`"
            );
        }
        tracing::debug!(
            plugin = %self.name, rule = job.rule, attempt = job.attempt,
            destination = %self.destination, status, outcome = ?outcome,
            "webhook delivery attempted"
        );
        outcome
    }
}
