//! The push [`Plugin`]: built once at start-up by [`build`] (through
//! [`Push::build`](crate::Push)), then called by the dispatcher's workers in the
//! deliver stage.
//!
//! A delivery renders the notification ([`crate::request`]), POSTs it to ntfy or FCM
//! with the job's idempotency key, and classifies the answer with the provider's
//! wording ([`crate::classify`]).

use std::sync::Arc;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError, Templates};
use herald_plugin_http::provider::{idempotency_headers, Provider};
use reqwest::RequestBuilder;

use crate::classify::PushWording;
use crate::config::{PushSettings, ValidatedPush};
use crate::request;

/// The header carrying the job's idempotency key on every request.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = herald_plugin_api::USER_AGENT;

/// One `[plugins.push.<name>]` instance.
struct PushPlugin {
    settings: PushSettings,
    provider: Provider,
    templates: Arc<dyn Templates>,
}

/// Builds a plugin instance from its validated config: one pooled HTTP client from the
/// context, shared by every delivery of the instance. Does not connect.
///
/// # Errors
/// When the HTTP client cannot be built (its TLS set-up failed).
pub(crate) fn build(
    config: ValidatedPush,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let base = match &config.provider {
        PushSettings::Ntfy(ntfy) => &ntfy.url,
        PushSettings::Fcm(fcm) => &fcm.api_base,
    };
    let provider = Provider::new(cx, base, config.timeout, config.max_concurrency)?;
    Ok(Arc::new(PushPlugin {
        settings: config.provider,
        provider,
        templates: cx.templates(),
    }))
}

impl PushPlugin {
    /// The request of one job; `Err` is a permanent failure.
    fn request(&self, job: &Job<'_>) -> Result<RequestBuilder, Outcome> {
        let notification =
            request::render(job, self.templates.as_ref()).map_err(Outcome::failed)?;
        let (url, headers, body) = match &self.settings {
            PushSettings::Ntfy(ntfy) => request::ntfy(ntfy, &notification),
            PushSettings::Fcm(fcm) => request::fcm(fcm, &notification, job),
        }
        .map_err(Outcome::failed)?;
        let key = idempotency_headers(job.idempotency_key, None)?;
        Ok(self
            .provider
            .post(url)
            .headers(headers)
            .headers(key)
            .body(body))
    }
}

#[async_trait]
impl Plugin for PushPlugin {
    fn name(&self) -> &str {
        &self.provider.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let prepared = self.request(job);
        self.provider
            .deliver("push", job, prepared, &PushWording)
            .await
    }
}
