//! Deliver stage, first half: turns one [`Job`] into the destination URL and body bytes.
//!
//! The URL is the instance's base URL with the action's `path` appended segment by
//! segment, each rendered segment percent-encoded (see [`crate::action`]). The body is the
//! action's `body` template rendered and checked to be JSON, or the built-in body. Every
//! error here is permanent: composing again would give the same result.

use herald_plugin_api::{Customer, Job, RenderError, Templates};
use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

use crate::action::{path_segments, WebhookAction};

/// Why a job could not be turned into a request. Always permanent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ComposeError {
    /// The action's parameters do not parse.
    #[error("invalid action parameters: {0}")]
    Params(String),
    /// A template failed to render.
    #[error("`{key}` template error: {source}")]
    Render {
        /// `path` or `body`.
        key: &'static str,
        /// The renderer's reason.
        source: RenderError,
    },
    /// A path segment rendered to something that would change the path's shape.
    #[error("`path` segment `{segment}` rendered to {what}, which would change the path")]
    Segment {
        /// The segment's template.
        segment: String,
        /// What it rendered to, described (the value itself is event data).
        what: &'static str,
    },
    /// The base URL cannot take path segments (not http or https; validation prevents it).
    #[error("the instance's url cannot take a path")]
    NotABase,
    /// The body template did not produce JSON.
    #[error("`body` did not render to valid JSON: {0}")]
    NotJson(serde_json::Error),
    /// The built-in body could not be serialized.
    #[error("could not serialize the body: {0}")]
    Serialize(serde_json::Error),
}

/// What to POST and where.
#[derive(Debug)]
pub(crate) struct Request {
    /// The full destination.
    pub(crate) url: Url,
    /// The exact bytes sent and signed.
    pub(crate) body: Vec<u8>,
}

/// Builds the request for one job.
pub(crate) fn compose(
    job: &Job<'_>,
    base: &Url,
    templates: &dyn Templates,
) -> Result<Request, ComposeError> {
    let action = WebhookAction::from_params(job.params)
        .map_err(|errors| ComposeError::Params(errors.join("; ")))?;
    let url = match action.path.as_deref() {
        Some(path) => destination(base, path, templates, job.context.get())?,
        None => base.clone(),
    };
    let body = match action.body.as_deref() {
        Some(template) => {
            let rendered = templates
                .render_inline(template, job.context.get())
                .map_err(|source| ComposeError::Render {
                    key: "body",
                    source,
                })?;
            // Sent as rendered (not re-serialized), so large numbers keep their digits.
            let rendered = rendered.trim();
            serde_json::from_str::<Value>(rendered).map_err(ComposeError::NotJson)?;
            rendered.as_bytes().to_vec()
        }
        None => serde_json::to_vec(&default_body(job, action.event_type.as_deref()))
            .map_err(ComposeError::Serialize)?,
    };
    Ok(Request { url, body })
}

/// `base` with the rendered, percent-encoded segments of `path` appended.
fn destination(
    base: &Url,
    path: &str,
    templates: &dyn Templates,
    context: &Value,
) -> Result<Url, ComposeError> {
    let segments = path_segments(path).map_err(ComposeError::Params)?;
    let mut url = base.clone();
    {
        let mut out = url
            .path_segments_mut()
            .map_err(|()| ComposeError::NotABase)?;
        // `https://host/hooks/` + `/x` is `https://host/hooks/x`, not `…/hooks//x`.
        out.pop_if_empty();
        for segment in segments {
            if !segment.contains("{{") {
                // Literal: validated at start-up; `push` encodes what needs encoding.
                out.push(segment);
                continue;
            }
            let rendered = templates
                .render_inline(segment, context)
                .map_err(|source| ComposeError::Render {
                    key: "path",
                    source,
                })?;
            // `push` percent-encodes `/`, `?`, `#` and `%`, but drops `.` and `..` (and an
            // empty segment would double a slash), so those are refused, not rewritten.
            let what = match rendered.as_str() {
                "" => Some("nothing"),
                "." | ".." => Some("`.` or `..`"),
                _ => None,
            };
            if let Some(what) = what {
                return Err(ComposeError::Segment {
                    segment: segment.to_owned(),
                    what,
                });
            }
            out.push(&rendered);
        }
    }
    Ok(url)
}

/// The built-in body: the normalized event plus the Stripe object's useful parts.
///
/// Serialized by serde rather than rendered from a template, so every value is
/// escaped correctly. It borrows from the event instead of building a JSON tree:
/// copying the object into a tree and dropping it again was a tenth of a delivery's
/// CPU. Fields are in alphabetical order, the order a `serde_json::Map` kept them in.
#[derive(Debug, Serialize)]
pub(crate) struct DefaultBody<'a> {
    amount: Option<i64>,
    created: i64,
    currency: Option<&'a str>,
    customer: &'a Customer,
    data: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_type: Option<&'a str>,
    id: &'a str,
    line_items: &'a Value,
    order_id: Option<&'a str>,
    shipping: &'a Value,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// What a missing part of the object serializes as.
static NULL: Value = Value::Null;

/// The built-in body of `job`, with `event_type` added when the action names one.
fn default_body<'a>(job: &Job<'a>, event_type: Option<&'a str>) -> DefaultBody<'a> {
    let event = job.event;
    // `raw` is the provider's payload; the context holds the same `data` member.
    let object = event
        .raw
        .pointer("/data/object")
        .or_else(|| job.context.get().pointer("/data/object"))
        .filter(|value| !value.is_null());
    let field = |pointer: &str| {
        object
            .and_then(|object| object.pointer(pointer))
            .filter(|value| !value.is_null())
    };
    // Checkout Sessions carry the address under `collected_information` (newer API
    // versions) or `shipping_details` (older); PaymentIntents and Charges under `shipping`.
    let shipping = field("/collected_information/shipping_details")
        .or_else(|| field("/shipping_details"))
        .or_else(|| field("/shipping"))
        .unwrap_or(&NULL);
    DefaultBody {
        amount: event.amount,
        created: event.created,
        currency: event.currency.as_deref(),
        customer: &event.customer,
        data: object.unwrap_or(&NULL),
        event_type,
        id: &event.id,
        // Present only when the sender expanded `line_items`.
        line_items: field("/line_items/data").unwrap_or(&NULL),
        order_id: event.order_id.as_deref(),
        shipping,
        kind: &event.kind,
    }
}

#[cfg(test)]
mod tests;
