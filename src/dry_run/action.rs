//! One matched action, previewed: its plugin instance, idempotency key, and every
//! template it renders, rendered with the context delivery builds. A template that
//! fails shows its problems in place, each with its file:line.

use herald_plugin_api::{Context, Event, Job, RenderError, TemplatePart, Templates as _};
use serde::Serialize;

use crate::check::inline_message;
use crate::render::Source;
use crate::rules::Action;
use crate::Config;

/// Lines of a text part shown before the rest is counted.
const TEXT_LINES: usize = 6;

/// What one action would do.
#[derive(Debug, Clone, Serialize)]
pub struct ActionPreview {
    /// The action's index in its rule.
    pub index: usize,
    /// The plugin instance that would carry it out.
    pub plugin: String,
    /// The instance's kind (`email`, `webhook`, …); `None` when it is not configured.
    pub kind: Option<String>,
    /// The job's idempotency key.
    pub idempotency_key: String,
    /// What it renders, in order.
    pub lines: Vec<Line>,
    /// What takes the job, in order, if this one gives up on it: each previewed
    /// with the same event and idempotency key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<ActionPreview>,
}

/// One rendered value, or the problem rendering it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// What it is: `subject`, `text`, `to`, `body` …
    pub label: String,
    /// The rendered value; `None` when it failed.
    pub value: Option<String>,
    /// The template's problem, with its file:line, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Line {
    fn ok(label: &str, value: String) -> Self {
        Self {
            label: label.to_owned(),
            value: Some(value),
            error: None,
        }
    }

    fn failed(label: &str, error: String) -> Self {
        Self {
            label: label.to_owned(),
            value: None,
            error: Some(error),
        }
    }
}

/// Renders everything `action` would render for `event`.
///
/// With a plugin kind that previews ([`Instance::preview`](herald_plugin_api::Instance::preview)),
/// and every template rendering, the lines are the kind's: what it would send.
pub fn preview_action(
    config: &Config,
    rule: &str,
    (index, action): (usize, &Action),
    event: &Event,
    idempotency_key: String,
) -> ActionPreview {
    let instance = config
        .reloadable
        .plugins
        .iter()
        .find(|spec| spec.name() == action.plugin());
    let context = Context::new(event, &config.reloadable.shop, action.params());
    let document = context.get();
    let templates = &config.reloadable.templates;
    let mut lines = Vec::new();
    for (param, template) in &action.spec().inline {
        match templates.render_inline(template, document) {
            Ok(text) => lines.push(Line::ok(param, text.trim().to_owned())),
            Err(error) => {
                let found = templates.problems(Source::Inline(template), document);
                for RenderError(message) in first_or(found, error) {
                    lines.push(Line::failed(
                        param,
                        inline_message(config, action, param, &message),
                    ));
                }
            }
        }
    }
    for set in &action.spec().template_sets {
        for part in set.parts.iter().copied() {
            if !templates.has(&set.name, part) {
                continue;
            }
            let label = match part {
                TemplatePart::Subject => "subject",
                TemplatePart::Text => "text",
                TemplatePart::Html => "html",
            };
            match templates.render(&set.name, part, document) {
                Ok(text) => lines.push(Line::ok(label, shown(part, &text))),
                Err(error) => {
                    let found = templates.problems(Source::Set(&set.name, part), document);
                    for RenderError(message) in first_or(found, error) {
                        lines.push(Line::failed(label, message));
                    }
                }
            }
        }
    }
    if let (Some(instance), true) = (instance, lines.iter().all(|line| line.error.is_none())) {
        let job = Job {
            event,
            params: action.params(),
            context: &context,
            idempotency_key: &idempotency_key,
            attempt: 1,
            rule,
            raised: &herald_plugin_api::DISCARDED,
        };
        match instance.preview(&job, templates.as_ref()) {
            Some(Ok(preview)) => {
                lines = preview
                    .lines
                    .into_iter()
                    .map(|(label, value)| {
                        let value = if label == "text" {
                            first_lines(&value)
                        } else {
                            value
                        };
                        Line::ok(&label, value)
                    })
                    .collect();
            }
            Some(Err(reason)) => lines.push(Line::failed("delivery", reason)),
            None => {}
        }
    }
    let fallback = action
        .fallback()
        .iter()
        .map(|next| preview_action(config, rule, (index, next), event, idempotency_key.clone()))
        .collect();
    ActionPreview {
        index,
        plugin: action.plugin().to_owned(),
        kind: instance.map(|spec| spec.kind().to_owned()),
        idempotency_key,
        lines,
        fallback,
    }
}

/// The located problems, or the renderer's own error when none was located.
fn first_or(found: Vec<RenderError>, error: RenderError) -> Vec<RenderError> {
    if found.is_empty() {
        vec![error]
    } else {
        found
    }
}

/// A part as shown: the subject on one line, the first lines of the text, the
/// HTML's size (it is for a browser: `herald render --out`).
fn shown(part: TemplatePart, text: &str) -> String {
    match part {
        TemplatePart::Subject => text.trim().to_owned(),
        TemplatePart::Html => format!("{} bytes", text.len()),
        TemplatePart::Text => first_lines(text),
    }
}

/// The first [`TEXT_LINES`] lines of `text`, and how many more there are.
fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let mut shown = lines
        .iter()
        .take(TEXT_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    if lines.len() > TEXT_LINES {
        shown.push_str(&format!("\n… ({} more lines)", lines.len() - TEXT_LINES));
    }
    shown
}
