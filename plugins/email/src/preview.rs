//! The email kind's preview for `herald route`: the parts [`render`] gives delivery,
//! shown without assembling or sending the message.

use herald_plugin_api::{Job, Preview, Templates};

use crate::config::ValidatedEmail;
use crate::message::{message_token, render, Sender};

/// From, to, reply-to, subject, the text part, the HTML part's size and the
/// Message-ID, exactly as delivery would render them for `job`.
pub(crate) fn preview(
    validated: &ValidatedEmail,
    job: &Job<'_>,
    templates: &dyn Templates,
) -> Result<Preview, String> {
    let sender = Sender {
        from: validated.from.clone(),
        reply_to: validated.reply_to.clone(),
    };
    let rendered = render(job, &sender, templates).map_err(|err| err.to_string())?;
    let mut preview = Preview::new()
        .line("from", sender.from.to_string())
        .line("to", rendered.to.to_string());
    if let Some(reply_to) = &rendered.reply_to {
        preview = preview.line("reply-to", reply_to.to_string());
    }
    preview = preview.line("subject", rendered.subject);
    if let Some(text) = rendered.text {
        preview = preview.line("text", text.trim_end());
    }
    if let Some(html) = rendered.html {
        preview = preview.line("html", format!("{} bytes", html.len()));
    }
    let token = message_token(job.idempotency_key);
    Ok(preview.line(
        "message-id",
        format!("<{token}@{}>", sender.from.email.domain()),
    ))
}
