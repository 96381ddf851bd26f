//! The email [`Plugin`]: built once at start-up by [`build`] (through
//! [`Instance::build`](herald_plugin_api::Instance::build)), then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery composes the message ([`crate::message`]) and hands it to the instance's
//! transport: the outbox folder ([`crate::outbox`]) or an SMTP server ([`crate::smtp`]).

use std::sync::Arc;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError, Templates};

use crate::config::{TransportSettings, ValidatedEmail};
use crate::message::{compose, Sender};
use crate::outbox::Outbox;
use crate::smtp::SmtpSender;

/// Where one instance's messages go.
enum Transport {
    File(Outbox),
    // Boxed only to keep the enum small; it is built once per instance.
    Smtp(Box<SmtpSender>),
}

/// One `[plugins.email.<name>]` instance.
struct EmailPlugin {
    name: String,
    sender: Sender,
    templates: Arc<dyn Templates>,
    transport: Transport,
}

/// Builds a plugin instance from its validated config.
///
/// Does the start-up I/O: creates the outbox folder, or prepares the pooled SMTP
/// transport (without connecting, so start-up does not depend on the server being up;
/// `herald check --connect` runs the healthcheck for that). Must run inside a tokio runtime.
///
/// # Errors
/// When the outbox folder cannot be created or the SMTP host is unfit for TLS.
pub(crate) async fn build(
    config: ValidatedEmail,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let transport = match config.transport {
        TransportSettings::File { outbox } => Transport::File(
            Outbox::create(outbox)
                .await
                .map_err(|err| PluginError(err.to_string()))?,
        ),
        TransportSettings::Smtp(settings) => Transport::Smtp(Box::new(SmtpSender::new(&settings)?)),
    };
    Ok(Arc::new(EmailPlugin {
        name: cx.name().to_owned(),
        sender: Sender {
            from: config.from,
            reply_to: config.reply_to,
        },
        templates: cx.templates(),
        transport,
    }))
}

#[async_trait]
impl Plugin for EmailPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let composed = match compose(job, &self.sender, self.templates.as_ref()) {
            Ok(composed) => composed,
            Err(err) => {
                tracing::debug!(
                    plugin = %self.name, rule = job.rule, attempt = job.attempt,
                    error = %err, "email could not be composed"
                );
                return if err.is_template_problem() {
                    Outcome::held(err.to_string())
                } else {
                    Outcome::failed(err.to_string())
                };
            }
        };
        let token = composed.token;
        let outcome = match &self.transport {
            Transport::File(outbox) => {
                match outbox.write(&token, &composed.message.formatted()).await {
                    Ok(_path) => Outcome::Delivered,
                    Err(err) => Outcome::retry(err.to_string()),
                }
            }
            Transport::Smtp(smtp) => smtp.send(composed.message).await,
        };
        // Identifiers only: recipients and bodies are customer data and stay out of logs.
        tracing::debug!(
            plugin = %self.name, rule = job.rule, attempt = job.attempt,
            template = %composed.template, message = %token, outcome = ?outcome,
            "email delivery attempted"
        );
        outcome
    }

    async fn healthcheck(&self) -> Result<(), PluginError> {
        match &self.transport {
            Transport::File(outbox) => outbox
                .check()
                .await
                .map_err(|err| PluginError(err.to_string())),
            Transport::Smtp(smtp) => smtp.check().await,
        }
    }
}
