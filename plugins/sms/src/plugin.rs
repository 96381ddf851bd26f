//! The sms [`Plugin`]: built once at start-up by [`build`] (through
//! [`Instance::build`](herald_plugin_api::Instance::build)), then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery renders the message text and the recipient, checks the recipient is an
//! E.164 number (a bad one is permanent: nothing is sent), renders the `StatusCallback`
//! URL when the instance has one, POSTs the form to Twilio with the API key or the Auth
//! Token, and
//! classifies the answer with Twilio's wording ([`crate::classify`]).

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, BuildContext, Job, Outcome, Plugin, PluginError, TemplatePart, Templates,
};
use herald_plugin_http::provider::{idempotency_headers, Provider};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{RequestBuilder, Url};

use crate::action::SmsAction;
use crate::classify::TwilioWording;
use crate::config::{ProviderSettings, TwilioSender, TwilioSettings, ValidatedSms};
use crate::phone::normalize_e164;

/// The header carrying the job's idempotency key on every request.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Twilio's own idempotency header, sent as well to Twilio.
pub const TWILIO_IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = herald_plugin_api::USER_AGENT;

/// One `[plugins.sms.<name>]` instance.
struct SmsPlugin {
    twilio: TwilioSettings,
    provider: Provider,
    templates: Arc<dyn Templates>,
}

/// Builds a plugin instance from its validated config: one pooled HTTP client from the
/// context, shared by every delivery of the instance. Does not connect.
///
/// # Errors
/// When the HTTP client cannot be built (its TLS set-up failed).
pub(crate) fn build(
    config: ValidatedSms,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let ProviderSettings::Twilio(twilio) = config.provider;
    let provider = Provider::new(cx, &twilio.api_base, config.timeout, config.max_concurrency)?;
    Ok(Arc::new(SmsPlugin {
        twilio,
        provider,
        templates: cx.templates(),
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

/// What one job sends: the text, the E.164 recipient and the `StatusCallback` URL, as
/// delivery sends them and `herald route` previews them.
pub(crate) struct Composed {
    pub(crate) body: String,
    pub(crate) to: String,
    pub(crate) status_callback: Option<Url>,
}

/// Composes one job. `Err` is why not: a template that does not render holds the
/// job for a fix ([`Outcome::Held`]); anything else fails it for good.
pub(crate) fn compose(
    job: &Job<'_>,
    twilio: &TwilioSettings,
    templates: &dyn Templates,
) -> Result<Composed, Outcome> {
    let failed = |reason: String| Outcome::failed(reason);
    let held = |key: &'static str| {
        move |err: herald_plugin_api::RenderError| {
            Outcome::held(format!("`{key}` template error: {err}"))
        }
    };
    let action = SmsAction::from_params(job.params)
        .map_err(|errors| failed(format!("invalid action parameters: {}", errors.join("; "))))?;
    let body = templates
        .render(&action.template, TemplatePart::Text, job.context.get())
        .map_err(held("template"))?;
    let body = body.trim().to_owned();
    if body.is_empty() {
        return Err(failed(format!(
            "template `{}` rendered an empty message; nothing to send",
            action.template
        )));
    }
    let to = templates
        .render_inline(action.to_template(), job.context.get())
        .map_err(held("to"))?;
    let to = normalize_e164(&to).map_err(|err| failed(err.to_string()))?;
    let status_callback = match &twilio.status_callback {
        Some(template) => {
            let raw = templates
                .render_inline(template, job.context.get())
                .map_err(held("status_callback"))?;
            let url = Url::parse(raw.trim())
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
                .ok_or_else(|| {
                    failed(format!(
                        "`status_callback` rendered to `{}`, not an http(s) URL",
                        raw.trim()
                    ))
                })?;
            Some(url)
        }
        None => None,
    };
    Ok(Composed {
        body,
        to,
        status_callback,
    })
}

impl SmsPlugin {
    /// Twilio's request for one job, idempotency headers included: the form fields of
    /// Twilio's "Create a Message resource" (`To`, `From` or `MessagingServiceSid`,
    /// `Body`, `StatusCallback`).
    fn request(&self, job: &Job<'_>) -> Result<RequestBuilder, Outcome> {
        let twilio = &self.twilio;
        let composed = compose(job, twilio, self.templates.as_ref())?;
        let sender = match &twilio.sender {
            TwilioSender::From(from) => ("From", from.as_str()),
            TwilioSender::MessagingService(sid) => ("MessagingServiceSid", sid.as_str()),
        };
        let mut fields = vec![
            ("To", composed.to.as_str()),
            sender,
            ("Body", &composed.body),
        ];
        if let Some(url) = &composed.status_callback {
            fields.push(("StatusCallback", url.as_str()));
        }
        let form = serde_urlencoded::to_string(fields)
            .map_err(|err| Outcome::failed(format!("cannot encode the form: {err}")))?;
        let headers = idempotency_headers(job.idempotency_key, Some("i-twilio-idempotency-token"))?;
        Ok(self
            .provider
            .post(twilio_url(twilio)?)
            .basic_auth(
                twilio.auth.user(&twilio.account_sid),
                Some(twilio.auth.password()),
            )
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .headers(headers)
            .body(form))
    }
}

#[async_trait]
impl Plugin for SmsPlugin {
    fn name(&self) -> &str {
        &self.provider.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let prepared = self.request(job);
        self.provider
            .deliver("sms", job, prepared, &TwilioWording)
            .await
    }
}
