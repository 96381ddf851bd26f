//! The sms kind's preview for `herald route`: the text and recipient delivery would
//! send, the sender, how the text is split into segments, and the status callback.

use herald_plugin_api::{Job, Outcome, Preview, Templates};

use crate::config::{ProviderSettings, TwilioSender, ValidatedSms};
use crate::plugin::compose;
use crate::segments::segments;

/// From (or the Messaging Service), to, the text, and its segments and encoding.
pub(crate) fn preview(
    validated: &ValidatedSms,
    job: &Job<'_>,
    templates: &dyn Templates,
) -> Result<Preview, String> {
    let ProviderSettings::Twilio(twilio) = &validated.provider;
    let composed = compose(job, twilio, templates).map_err(|outcome| match outcome {
        Outcome::Retry { reason, .. }
        | Outcome::Failed { reason }
        | Outcome::Held { reason }
        | Outcome::Skipped { reason } => reason.into_owned(),
        Outcome::Delivered => String::new(),
    })?;
    let preview = match &twilio.sender {
        TwilioSender::From(from) => Preview::new().line("from", from.as_str()),
        TwilioSender::MessagingService(sid) => {
            Preview::new().line("messaging service", sid.as_str())
        }
    };
    let (encoding, count) = segments(&composed.body);
    let preview = preview
        .line("to", composed.to)
        .line("text", composed.body)
        .line("segments", format!("{count} ({})", encoding.as_str()));
    Ok(match composed.status_callback {
        Some(url) => preview.line("status callback", url.to_string()),
        None => preview,
    })
}
