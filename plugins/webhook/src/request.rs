//! Deliver stage, first half: turns one [`Job`] into the destination URL and body bytes.
//!
//! The URL is the instance's base URL with the action's `path` appended segment by
//! segment, each rendered segment percent-encoded (see [`crate::action`]). The body is the
//! action's `body` template rendered and checked to be JSON, or the built-in body. Every
//! error here is permanent: composing again would give the same result.

use herald_plugin_api::{Job, RenderError, Templates};
use reqwest::Url;
use serde_json::Value;

use crate::action::{path_segments, WebhookAction};
use crate::default_body::default_body;

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
        None => default_body(job, action.event_type.as_deref()).map_err(ComposeError::Serialize)?,
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

#[cfg(test)]
mod tests;
