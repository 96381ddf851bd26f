//! The template editor's logic, apart from HTTP: a set's parts as the browser
//! sends them, rendered against an event exactly as delivery renders them, and
//! checked and written when saved (`save`).

mod files;
mod problem;
mod save;

use std::path::Path;

use herald_plugin_api::{Context, TemplatePart, Templates as _};
use serde::{Deserialize, Serialize};
use serde_json::Map;

pub use self::problem::Problem;
pub use self::save::{save, SaveError};
use crate::check::{params_for, SampleEvent};
use crate::config::Config;
use crate::render::{Renderer, Source};

/// The parts of a set, in the order the editor shows them.
pub const PARTS: [TemplatePart; 3] = [
    TemplatePart::Subject,
    TemplatePart::Html,
    TemplatePart::Text,
];

/// The name a part goes by in the JSON and the page: `subject`, `html`, `text`.
pub fn key(part: TemplatePart) -> &'static str {
    match part {
        TemplatePart::Subject => "subject",
        TemplatePart::Html => "html",
        TemplatePart::Text => "text",
    }
}

/// A set's parts as text; a part left out is the file as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Parts {
    /// The text given for `part`.
    pub fn get(&self, part: TemplatePart) -> Option<&str> {
        match part {
            TemplatePart::Subject => self.subject.as_deref(),
            TemplatePart::Html => self.html.as_deref(),
            TemplatePart::Text => self.text.as_deref(),
        }
    }

    /// The parts given, as drafts.
    pub fn drafts(&self) -> Vec<(TemplatePart, &str)> {
        PARTS
            .into_iter()
            .filter_map(|part| self.get(part).map(|text| (part, text)))
            .collect()
    }

    /// The files of set `name` in `dir`; `None` when it has none.
    pub fn read(dir: &Path, name: &str) -> Option<Parts> {
        let read = |part: TemplatePart| files::read(dir, &format!("{name}.{}.hbs", part.as_str()));
        let parts = Parts {
            subject: read(TemplatePart::Subject),
            html: read(TemplatePart::Html),
            text: read(TemplatePart::Text),
        };
        (parts != Parts::default()).then_some(parts)
    }
}

/// What a set renders to for one event, and what stops it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
    /// The text part as an SMS: segments and encoding.
    pub sms: Option<Sms>,
    /// Every problem, each with its part and line where known; empty when it renders.
    pub errors: Vec<Problem>,
    /// The event rendered against, as the editor names it.
    pub event: String,
    /// Whose action parameters the context holds.
    pub params: String,
}

/// How the text part would go out as an SMS.
#[derive(Debug, Clone, Serialize)]
pub struct Sms {
    pub segments: usize,
    pub encoding: &'static str,
}

/// Set `name` with `parts` put in, rendered against `sample` with the context
/// delivery would build (the shop, and the parameters of the rule that renders it).
pub fn preview(config: &Config, name: &str, parts: &Parts, sample: &SampleEvent) -> Preview {
    let mut preview = Preview {
        event: sample.name.clone(),
        ..Preview::default()
    };
    // A part that does not parse is reported and left out; the others still render,
    // so one unclosed `{{#if}}` does not blank every preview.
    let mut good = Vec::new();
    let mut broken = Vec::new();
    for draft in parts.drafts() {
        match config.reloadable.templates.with_drafts(name, &[draft]) {
            Ok(_) => good.push(draft),
            Err(err) => {
                preview.errors.push(Problem::from_load(name, &err));
                broken.push(draft.0);
            }
        }
    }
    let templates: Renderer = match config.reloadable.templates.with_drafts(name, &good) {
        Ok(templates) => templates,
        Err(err) => {
            preview.errors.push(Problem::from_load(name, &err));
            return preview;
        }
    };
    let empty = Map::new();
    let params = match params_for(config, name, &sample.event) {
        Some((rule, index, params)) => {
            preview.params = format!("parameters of rule `{rule}`, action {index}");
            params
        }
        None => {
            preview.params = "no rule renders this set: no parameters".to_owned();
            &empty
        }
    };
    let context = Context::new(&sample.event, &config.reloadable.shop, params);
    let renders = |part: &TemplatePart| templates.has(name, *part) && !broken.contains(part);
    for part in PARTS.into_iter().filter(renders) {
        match templates.render(name, part, context.get()) {
            Ok(text) => {
                if part == TemplatePart::Text {
                    let (encoding, segments) = herald_plugin_sms::segments::segments(&text);
                    preview.sms = Some(Sms {
                        segments,
                        encoding: encoding.as_str(),
                    });
                }
                *slot(&mut preview, part) = Some(text);
            }
            Err(_) => {
                let found = templates.problems(Source::Set(name, part), context.get());
                preview.errors.extend(
                    found
                        .iter()
                        .map(|e| Problem::from_render(templates.dir(), name, part, &e.0)),
                );
            }
        }
    }
    preview
}

fn slot(preview: &mut Preview, part: TemplatePart) -> &mut Option<String> {
    match part {
        TemplatePart::Subject => &mut preview.subject,
        TemplatePart::Html => &mut preview.html,
        TemplatePart::Text => &mut preview.text,
    }
}

/// The built-in sample to show a set with first: one that a rule rendering it matches.
pub fn default_sample(config: &Config, name: &str, samples: &[SampleEvent]) -> Option<usize> {
    let renders = |sample: &SampleEvent| {
        config
            .reloadable
            .rules
            .matching(&sample.event)
            .iter()
            .any(|rule| {
                rule.actions()
                    .iter()
                    .any(|a| a.spec().template_sets.iter().any(|set| set.name == name))
            })
    };
    samples.iter().position(renders)
}
