//! The template editor page: pick a set and an event, edit the parts, watch the
//! preview. The page is the form; `assets/editor.js` previews and saves through
//! `/api/templates/…`.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use herald_plugin_api::TemplatePart;
use serde::Deserialize;

use super::editor::{self, key, Parts, PARTS};
use super::events::unavailable;
use super::page::{esc, money, page};
use super::shell::Shell;
use crate::check;
use crate::samples;
use crate::server::AppState;
use crate::store::EventFilter;

/// Stored events offered as preview data.
const RECENT_EVENTS: usize = 20;

/// Which set to open.
#[derive(Debug, Default, Deserialize)]
pub struct Open {
    #[serde(default)]
    name: String,
}

fn label(part: TemplatePart) -> &'static str {
    match part {
        TemplatePart::Subject => "Subject",
        TemplatePart::Html => "HTML part",
        TemplatePart::Text => "Text part",
    }
}

/// `GET /templates`
pub async fn editor_page(
    State(state): State<AppState>,
    shell: Shell,
    Query(open): Query<Open>,
) -> Response {
    let config = state.live.get().config.clone();
    let names = config.reloadable.templates.names();
    let Some(name) = names
        .iter()
        .find(|n| **n == open.name)
        .or_else(|| names.first())
        .cloned()
    else {
        let body = format!(
            "<p>No templates in <code>{}</code>.</p>",
            esc(&config.reloadable.templates_dir.display().to_string())
        );
        return page("Templates", "/templates", &shell, &body).into_response();
    };
    let recent = match state
        .store
        .events(&EventFilter {
            kind: None,
            order_id: None,
            status: None,
            since_ms: None,
            until_ms: None,
            after: None,
            limit: RECENT_EVENTS,
        })
        .await
    {
        Ok(recent) => recent,
        Err(err) => return unavailable(&err),
    };
    let builtin = check::builtin();
    let default = editor::default_sample(&config, &name, &builtin)
        .and_then(|i| builtin.get(i))
        .map(|s| s.event.kind.clone())
        .unwrap_or_default();
    let mut set_options = String::new();
    for n in &names {
        let selected = if *n == name { " selected" } else { "" };
        let _ = write!(
            set_options,
            "<option value=\"{n}\"{selected}>{n}</option>",
            n = esc(n)
        );
    }
    let mut event_options = String::from("<optgroup label=\"Samples (herald trigger)\">");
    for kind in samples::types() {
        let selected = if kind == default { " selected" } else { "" };
        let _ = write!(
            event_options,
            "<option value=\"sample:{k}\"{selected}>{k}</option>",
            k = esc(kind)
        );
    }
    event_options.push_str("</optgroup><optgroup label=\"Stored events, newest first\">");
    for e in &recent {
        // What a marketer recognises an event by: its type, order, customer and amount.
        let mut label = e.kind.clone();
        for part in [e.order_id.as_deref(), e.summary.customer.as_deref()]
            .into_iter()
            .flatten()
        {
            let _ = write!(label, " · {part}");
        }
        if e.summary.amount.is_some() {
            let amount = money(e.summary.amount, e.summary.currency.as_deref());
            let _ = write!(label, " · {amount}");
        }
        let _ = write!(
            event_options,
            "<option value=\"event:{source}/{id}\">{label} ({id})</option>",
            source = esc(&e.source),
            id = esc(&e.event_id),
            label = esc(&label)
        );
    }
    event_options.push_str("</optgroup>");
    let files = Parts::read(&config.reloadable.templates_dir, &name).unwrap_or_default();
    // A set of a text part alone is an SMS (or a plain notice): its email parts are
    // offered folded away instead of shown as two empty, broken-looking panes.
    let text_only = files.subject.is_none() && files.html.is_none();
    let mut editors = String::new();
    let mut email_parts = String::new();
    for part in PARTS {
        let k = key(part);
        let rows = if part == TemplatePart::Subject { 2 } else { 14 };
        let text = files.get(part);
        let note = if text.is_none() {
            " <small>(no such file; leave empty to keep it so)</small>"
        } else {
            ""
        };
        let into = if text_only && part != TemplatePart::Text {
            &mut email_parts
        } else {
            &mut editors
        };
        let _ = write!(
            into,
            r#"<div class="part" data-part="{k}">
<label for="part-{k}">{label} <code>{file}</code>{note}</label>
<textarea id="part-{k}" name="{k}" rows="{rows}" spellcheck="false" data-present="{present}" aria-describedby="errors-{k}">{text}</textarea>
<ul class="errors" id="errors-{k}" data-errors="{k}" aria-live="polite"></ul>
</div>"#,
            label = label(part),
            file = esc(&format!("{name}.{}.hbs", part.as_str())),
            present = text.is_some(),
            text = esc(text.unwrap_or_default()),
        );
    }
    if text_only {
        let _ = write!(
            editors,
            "<details class=\"email-parts\"><summary>A text-only set, as an SMS sends it. \
             Add a subject and an HTML part to send it as an email too</summary>{email_parts}</details>"
        );
    }
    let hidden = if text_only { " hidden" } else { "" };
    let body = format!(
        r#"<form id="editor" class="editor" data-name="{name}" autocomplete="off">
<div class="pickers">
<label>Template <select id="template" name="template">{set_options}</select></label>
<label>Preview with <select id="event" name="event">{event_options}</select></label>
</div>
<div class="panes">
<section class="edit" aria-label="Edit">
{editors}
<div class="actions"><button type="submit" id="save">Save</button>
<p class="result" id="save-result" role="status" aria-live="polite"></p></div>
<ul class="errors" id="save-problems" aria-live="polite"></ul>
</section>
<section class="preview" aria-label="Preview">
<h2>Preview <small id="preview-state" role="status"></small></h2>
<p class="meta" id="preview-event"></p>
<p id="preview-subject-row"{hidden}><strong>Subject:</strong> <span id="preview-subject"></span></p>
<iframe id="preview-html" sandbox="" title="HTML part preview"{hidden}></iframe>
<h3>Text part <small id="preview-sms"></small></h3>
<pre id="preview-text"></pre>
<ul class="errors" data-errors="other" aria-live="polite"></ul>
</section>
</div>
</form>
<script src="/assets/editor.js" defer></script>"#,
        name = esc(&name),
    );
    page("Templates", "/templates", &shell, &body).into_response()
}
