//! Deliver stage, first half: turns one [`Job`] into a complete email.
//!
//! Renders the action's templates against the job's context and builds the lettre
//! [`Message`]. Its Message-ID and the outbox file name derive from the job's
//! idempotency key, so every attempt at the same job produces the same identity and a
//! redelivery can be recognised downstream. Everything that goes wrong here is
//! permanent: rendering again would give the same result.

use herald_plugin_api::{Job, RenderError, TemplatePart, Templates};
use lettre::address::AddressError;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sha2::{Digest, Sha256};

use crate::action::{check_template_set, EmailAction};
use crate::header_limits::{cap, idempotency_header_value, MAX_NAME_BYTES, MAX_SUBJECT_BYTES};

/// The header carrying the job's idempotency key, for receivers that deduplicate.
pub const IDEMPOTENCY_HEADER: &str = "X-Herald-Idempotency-Key";

/// Why a job could not be turned into an email. Permanent for this job, except a
/// template problem ([`ComposeError::is_template_problem`]), which a fix can mend.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The action's parameters do not parse.
    #[error("invalid action parameters: {0}")]
    Params(String),
    /// The template set is missing a part.
    #[error("{0}")]
    TemplateSet(String),
    /// A template failed to render.
    #[error("template error: {0}")]
    Render(#[from] RenderError),
    /// An address template rendered to nothing.
    #[error("`{key}` rendered to an empty address (template `{template}`)")]
    EmptyAddress {
        /// `to` or `reply_to`.
        key: &'static str,
        /// The inline template as configured.
        template: String,
    },
    /// An address template rendered to something that is not an address (quoted
    /// in the reason up to 200 bytes: the reason is stored with the dead letter).
    #[error(
        "`{key}` rendered to `{}`, which is not a valid email address ({source})",
        cap(value, 200)
    )]
    BadAddress {
        /// `to` or `reply_to`.
        key: &'static str,
        /// The rendered value.
        value: String,
        /// lettre's reason.
        source: AddressError,
    },
    /// The files the action names are not in the event as files.
    #[error("{0}")]
    Attachment(String),
    /// lettre refused to assemble the message.
    #[error("could not build the message: {0}")]
    Build(#[from] lettre::error::Error),
}

/// The sender side of every message of one plugin instance.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) from: Mailbox,
    pub(crate) reply_to: Option<Mailbox>,
}

/// A built message plus the token that names it.
pub(crate) struct Composed {
    pub(crate) message: Message,
    /// [`message_token`] of the job's idempotency key.
    pub(crate) token: String,
    /// The template set, for logs.
    pub(crate) template: String,
}

/// The first 32 hex characters of SHA-256 of the idempotency key.
///
/// Used as the Message-ID's local part and the outbox file name: stable across
/// attempts, and free of the key's `:` and other characters unfit for either.
pub fn message_token(idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    let mut token = hex::encode(digest);
    token.truncate(32);
    token
}

impl ComposeError {
    /// A template that does not render or a set that lacks a part: herald's side,
    /// mended by fixing the templates (the job is held), not by the event.
    pub fn is_template_problem(&self) -> bool {
        matches!(self, Self::Render(_) | Self::TemplateSet(_))
    }
}

/// Everything of one email that is rendered from the job, before it is assembled.
pub(crate) struct Rendered {
    pub(crate) to: Mailbox,
    pub(crate) reply_to: Option<Mailbox>,
    pub(crate) subject: String,
    pub(crate) text: Option<String>,
    pub(crate) html: Option<String>,
    pub(crate) template: String,
    /// The files attached, when the action names some.
    pub(crate) attachments: Vec<SinglePart>,
}

/// Renders the parts of the email for `job`: what [`compose`] assembles and
/// `herald route` previews.
pub(crate) fn render(
    job: &Job<'_>,
    sender: &Sender,
    templates: &dyn Templates,
) -> Result<Rendered, ComposeError> {
    let action = EmailAction::from_params(job.params)
        .map_err(|errors| ComposeError::Params(errors.join("; ")))?;
    check_template_set(templates, &action.template).map_err(ComposeError::TemplateSet)?;

    let to = render_address(templates, "to", &action.to, job)?;
    let reply_to = match &action.reply_to {
        Some(template) => Some(render_address(templates, "reply_to", template, job)?),
        None => sender.reply_to.clone(),
    };
    let subject = cap(
        &one_line(&templates.render(&action.template, TemplatePart::Subject, job.context.get())?),
        MAX_SUBJECT_BYTES,
    );
    let render_body = |part| -> Result<Option<String>, RenderError> {
        if templates.has(&action.template, part) {
            templates
                .render(&action.template, part, job.context.get())
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let text = render_body(TemplatePart::Text)?;
    let html = render_body(TemplatePart::Html)?;
    let attachments = match &action.attachments {
        Some(path) => {
            crate::attachments::parts(job.context.get(), path).map_err(ComposeError::Attachment)?
        }
        None => Vec::new(),
    };
    Ok(Rendered {
        attachments,
        to,
        reply_to,
        subject,
        text,
        html,
        template: action.template,
    })
}

/// Renders and builds the email for `job`.
pub(crate) fn compose(
    job: &Job<'_>,
    sender: &Sender,
    templates: &dyn Templates,
) -> Result<Composed, ComposeError> {
    let rendered = render(job, sender, templates)?;
    let token = message_token(job.idempotency_key);
    let mut builder = Message::builder()
        .from(sender.from.clone())
        .to(rendered.to)
        .subject(rendered.subject)
        .date_now()
        .message_id(Some(format!("<{token}@{}>", sender.from.email.domain())))
        .header(IdempotencyKey(idempotency_header_value(
            job.idempotency_key,
        )));
    if let Some(reply_to) = rendered.reply_to {
        builder = builder.reply_to(reply_to);
    }
    let body = match (rendered.text, rendered.html) {
        (Some(text), Some(html)) => Body::Multi(MultiPart::alternative_plain_html(text, html)),
        (Some(text), None) => Body::Single(SinglePart::plain(text)),
        (None, Some(html)) => Body::Single(SinglePart::html(html)),
        // check_template_set guarantees a body; reaching this means the set changed
        // between the check and the render, which is as permanent as a missing file.
        (None, None) => {
            return Err(ComposeError::TemplateSet(format!(
                "template `{}` has no body",
                rendered.template
            )))
        }
    };
    let message = match (body, rendered.attachments.is_empty()) {
        (Body::Multi(body), true) => builder.multipart(body),
        (Body::Single(body), true) => builder.singlepart(body),
        (body, false) => {
            let mixed = match body {
                Body::Multi(body) => MultiPart::mixed().multipart(body),
                Body::Single(body) => MultiPart::mixed().singlepart(body),
            };
            let mixed = rendered
                .attachments
                .into_iter()
                .fold(mixed, MultiPart::singlepart);
            builder.multipart(mixed)
        }
    }?;
    Ok(Composed {
        message,
        token,
        template: rendered.template,
    })
}

/// A mail's body before any attachment: one part or the text/HTML pair.
enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

/// Renders an inline address template and parses the result as one mailbox.
fn render_address(
    templates: &dyn Templates,
    key: &'static str,
    template: &str,
    job: &Job<'_>,
) -> Result<Mailbox, ComposeError> {
    let rendered = templates.render_inline(template, job.context.get())?;
    let value = rendered.trim();
    if value.is_empty() {
        return Err(ComposeError::EmptyAddress {
            key,
            template: template.to_owned(),
        });
    }
    let mut mailbox: Mailbox = value.parse().map_err(|source| ComposeError::BadAddress {
        key,
        value: value.to_owned(),
        source,
    })?;
    // lettre bounds the address itself (64-byte local part, valid domain); only the
    // display name can run long.
    mailbox.name = mailbox.name.map(|name| cap(&name, MAX_NAME_BYTES));
    Ok(mailbox)
}

/// A subject is one header line: newlines (and the blanks around them) become one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `X-Herald-Idempotency-Key`, as a typed lettre header.
#[derive(Debug, Clone)]
struct IdempotencyKey(String);

impl Header for IdempotencyKey {
    fn name() -> HeaderName {
        // A const, so lettre's validity assertions run at compile time, never at delivery.
        const NAME: HeaderName = HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER);
        NAME
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests;
