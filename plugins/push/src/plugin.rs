//! The push [`Plugin`]: built once at start-up by [`build`], then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery renders the notification ([`crate::request`]), POSTs it to ntfy or FCM
//! with the job's idempotency key, and classifies the answer ([`crate::classify`]).

use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{async_trait, Job, Outcome, Plugin, PluginError, Templates};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Url};

use crate::classify;
use crate::config::{PushSettings, ValidatedPush};
use crate::request;

/// The header carrying the job's idempotency key on every request.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("herald/", env!("CARGO_PKG_VERSION"));

/// One `[plugins.push.<name>]` instance.
struct PushPlugin {
    name: String,
    provider: PushSettings,
    /// `scheme://host:port` of the provider, for reasons and logs.
    destination: String,
    timeout: Duration,
    client: Client,
    templates: Arc<dyn Templates>,
}

/// Builds a plugin instance from its validated config.
///
/// Prepares one HTTP client (connection pool, TLS, timeout, no redirects) shared by
/// every delivery of the instance. Does not connect.
///
/// # Errors
/// When the HTTP client cannot be built (its TLS set-up failed).
pub async fn build(
    name: &str,
    config: ValidatedPush,
    templates: Arc<dyn Templates>,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let client = herald_plugin_http::client(USER_AGENT, config.timeout, config.max_concurrency)
        .map_err(|err| {
            PluginError(format!(
                "push `{name}`: cannot build the HTTP client: {err}"
            ))
        })?;
    let destination = match &config.provider {
        PushSettings::Ntfy(ntfy) => ntfy.url.origin().ascii_serialization(),
        PushSettings::Fcm(fcm) => fcm.api_base.origin().ascii_serialization(),
        PushSettings::Json(json) => json.url.origin().ascii_serialization(),
    };
    Ok(Arc::new(PushPlugin {
        name: name.to_owned(),
        provider: config.provider,
        destination,
        timeout: config.timeout,
        client,
        templates,
    }))
}

impl PushPlugin {
    /// The URL, headers and body of one job; `Err` is a permanent failure.
    fn compose(&self, job: &Job<'_>) -> Result<(Url, HeaderMap, Vec<u8>), String> {
        let notification = request::render(job, self.templates.as_ref())?;
        let (url, mut headers, body) = match &self.provider {
            PushSettings::Ntfy(ntfy) => request::ntfy(ntfy, &notification)?,
            PushSettings::Fcm(fcm) => request::fcm(fcm, &notification, job)?,
            PushSettings::Json(json) => request::json(json, &notification, job)?,
        };
        let key = HeaderValue::from_str(job.idempotency_key)
            .map_err(|_| "the idempotency key cannot be sent as an HTTP header value")?;
        headers.insert(HeaderName::from_static("idempotency-key"), key);
        Ok((url, headers, body))
    }

    /// Sends one request and classifies the answer.
    async fn send(&self, url: Url, headers: HeaderMap, body: Vec<u8>) -> (Outcome, Option<u16>) {
        let request = self.client.post(url).headers(headers).body(body);
        match herald_plugin_http::send(request, &self.destination, self.timeout).await {
            Err(outcome) => (outcome, None),
            Ok(answer) => {
                let text = if answer.status.is_success() {
                    String::new()
                } else {
                    classify::error_text(&answer.body)
                };
                let outcome = classify::response(answer.status, &answer.headers, &text);
                (outcome, Some(answer.status.as_u16()))
            }
        }
    }
}

#[async_trait]
impl Plugin for PushPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let (url, headers, body) = match self.compose(job) {
            Ok(parts) => parts,
            Err(reason) => {
                tracing::debug!(
                    plugin = %self.name, rule = job.rule, attempt = job.attempt,
                    "push notification could not be composed; nothing sent"
                );
                return Outcome::failed(reason);
            }
        };
        let (outcome, status) = self.send(url, headers, body).await;
        // Identifiers only: texts, tokens and topics stay out of logs.
        tracing::debug!(
            plugin = %self.name, rule = job.rule, attempt = job.attempt,
            destination = %self.destination, status, outcome = herald_plugin_http::outcome_kind(&outcome),
            "push delivery attempted"
        );
        outcome
    }
}
