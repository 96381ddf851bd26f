//! The sms [`Plugin`]: built once at start-up by [`build`], then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery renders the message text and the recipient, checks the recipient is an
//! E.164 number (a bad one is permanent: nothing is sent), POSTs to the provider and
//! classifies the answer ([`crate::classify`]).

use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{async_trait, Job, Outcome, Plugin, PluginError, TemplatePart, Templates};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Client, RequestBuilder, Url};
use serde_json::json;

use crate::action::SmsAction;
use crate::classify;
use crate::config::{JsonSettings, ProviderSettings, TwilioSender, TwilioSettings, ValidatedSms};
use crate::phone::normalize_e164;

/// The header carrying the job's idempotency key on every request.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Twilio's own idempotency header, sent as well to Twilio.
pub const TWILIO_IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("herald/", env!("CARGO_PKG_VERSION"));

/// One `[plugins.sms.<name>]` instance.
struct SmsPlugin {
    name: String,
    provider: ProviderSettings,
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
    config: ValidatedSms,
    templates: Arc<dyn Templates>,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let client = herald_plugin_http::client(USER_AGENT, config.timeout, config.max_concurrency)
        .map_err(|err| PluginError(format!("sms `{name}`: cannot build the HTTP client: {err}")))?;
    let destination = match &config.provider {
        ProviderSettings::Twilio(twilio) => twilio.api_base.origin().ascii_serialization(),
        ProviderSettings::Json(json) => json.url.origin().ascii_serialization(),
    };
    Ok(Arc::new(SmsPlugin {
        name: name.to_owned(),
        provider: config.provider,
        destination,
        timeout: config.timeout,
        client,
        templates,
    }))
}

/// `{api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`.
fn twilio_url(twilio: &TwilioSettings) -> Result<Url, Outcome> {
    let mut url = twilio.api_base.clone();
    url.path_segments_mut()
        .map_err(|()| Outcome::failed("the Twilio api_base cannot take a path"))?
        .pop_if_empty()
        .extend([
            "2010-04-01",
            "Accounts",
            &twilio.account_sid,
            "Messages.json",
        ]);
    Ok(url)
}

impl SmsPlugin {
    /// The text and the E.164 recipient of one job; `Err` is a permanent failure.
    fn compose(&self, job: &Job<'_>) -> Result<(String, String), Outcome> {
        let action = SmsAction::from_params(job.params).map_err(|errors| {
            Outcome::failed(format!("invalid action parameters: {}", errors.join("; ")))
        })?;
        let body = self
            .templates
            .render(&action.template, TemplatePart::Text, job.context.get())
            .map_err(|err| Outcome::failed(format!("`template` error: {err}")))?;
        let body = body.trim().to_owned();
        if body.is_empty() {
            return Err(Outcome::failed(format!(
                "template `{}` rendered an empty message; nothing to send",
                action.template
            )));
        }
        let to = self
            .templates
            .render_inline(action.to_template(), job.context.get())
            .map_err(|err| Outcome::failed(format!("`to` template error: {err}")))?;
        let to = normalize_e164(&to).map_err(|err| Outcome::failed(err.to_string()))?;
        Ok((body, to))
    }

    /// The provider's request for one message, without the idempotency headers.
    fn request(&self, to: &str, body: &str, key: &str) -> Result<RequestBuilder, Outcome> {
        match &self.provider {
            ProviderSettings::Twilio(twilio) => {
                let sender = match &twilio.sender {
                    TwilioSender::From(from) => ("From", from.as_str()),
                    TwilioSender::MessagingService(sid) => ("MessagingServiceSid", sid.as_str()),
                };
                let form = serde_urlencoded::to_string([("To", to), sender, ("Body", body)])
                    .map_err(|err| Outcome::failed(format!("cannot encode the form: {err}")))?;
                Ok(self
                    .client
                    .post(twilio_url(twilio)?)
                    .basic_auth(&twilio.account_sid, Some(&twilio.auth_token))
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    )
                    .body(form))
            }
            ProviderSettings::Json(JsonSettings { url, headers, from }) => {
                let mut document = json!({ "to": to, "body": body, "idempotency_key": key });
                if let (Some(from), Some(map)) = (from, document.as_object_mut()) {
                    map.insert("from".to_owned(), from.clone().into());
                }
                Ok(self
                    .client
                    .post(url.clone())
                    .headers(headers.clone())
                    .json(&document))
            }
        }
    }

    /// The idempotency headers of one job.
    fn idempotency_headers(&self, key: &str) -> Result<HeaderMap, Outcome> {
        let value = HeaderValue::from_str(key).map_err(|_| {
            Outcome::failed("the idempotency key cannot be sent as an HTTP header value")
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("idempotency-key"), value.clone());
        if matches!(self.provider, ProviderSettings::Twilio(_)) {
            headers.insert(HeaderName::from_static("i-twilio-idempotency-token"), value);
        }
        Ok(headers)
    }

    /// Sends one request and classifies the answer.
    async fn send(&self, request: RequestBuilder) -> (Outcome, Option<u16>) {
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
impl Plugin for SmsPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let prepared = self.compose(job).and_then(|(body, to)| {
            let headers = self.idempotency_headers(job.idempotency_key)?;
            Ok(self
                .request(&to, &body, job.idempotency_key)?
                .headers(headers))
        });
        let request = match prepared {
            Ok(request) => request,
            Err(outcome) => {
                tracing::debug!(
                    plugin = %self.name, rule = job.rule, attempt = job.attempt,
                    "sms could not be composed; nothing sent"
                );
                return outcome;
            }
        };
        let (outcome, status) = self.send(request).await;
        // Identifiers only: the number, the text and the credentials stay out of logs.
        tracing::debug!(
            plugin = %self.name, rule = job.rule, attempt = job.attempt,
            destination = %self.destination, status, outcome = herald_plugin_http::outcome_kind(&outcome),
            "sms delivery attempted"
        );
        outcome
    }
}
