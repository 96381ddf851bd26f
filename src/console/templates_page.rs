//! The template editor page: pick a set and an event, edit the parts, watch the
//! preview. The page is the form; `assets/editor.js` previews and saves through
//! `/api/templates/…`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use herald_plugin_api::TemplatePart;
use maud::html;
use serde::Deserialize;

use super::editor::{self, key, Parts, PARTS};
use super::page::{money, page};
use super::shell::Shell;
use crate::admin::error::PageError;
use crate::check;
use crate::samples;
use crate::server::AppState;
use crate::store::{EventFilter, EventListing};

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
) -> Result<Response, PageError> {
    let config = state.live.get().config.clone();
    let names = config.reloadable.templates.names();
    let Some(name) = names
        .iter()
        .find(|n| **n == open.name)
        .or_else(|| names.first())
        .cloned()
    else {
        let dir = config.reloadable.templates_dir.display().to_string();
        let body = html! { p { "No templates in " code { (dir) } "." } };
        return Ok(page("Templates", "/templates", &shell, &body).into_response());
    };
    let recent = state
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
        .await?;
    let builtin = check::builtin();
    let default = editor::default_sample(&config, &name, &builtin)
        .and_then(|i| builtin.get(i))
        .map(|s| s.event.kind.clone())
        .unwrap_or_default();
    let files = Parts::read(&config.reloadable.templates_dir, &name).unwrap_or_default();
    // A set of a text part alone is an SMS (or a plain notice): its email parts are
    // offered folded away instead of shown as two empty, broken-looking panes.
    let text_only = files.subject.is_none() && files.html.is_none();
    let part_editor = |part: TemplatePart| {
        let k = key(part);
        let text = files.get(part);
        html! {
            div.part data-part=(k) {
                label for={ "part-" (k) } {
                    (label(part)) " " code { (name) "." (part.as_str()) ".hbs" }
                    @if text.is_none() { " " small { "(no such file; leave empty to keep it so)" } }
                }
                textarea id={ "part-" (k) } name=(k) rows=(if part == TemplatePart::Subject { 2 } else { 14 })
                    spellcheck="false" data-present=(text.is_some()) aria-describedby={ "errors-" (k) } {
                    (text.unwrap_or_default())
                }
                ul.errors id={ "errors-" (k) } data-errors=(k) aria-live="polite" {}
            }
        }
    };
    let body = html! {
        form #editor .editor data-name=(name) autocomplete="off" {
            div.pickers {
                label { "Template "
                    select #template name="template" {
                        @for n in &names { option value=(n) selected[*n == name] { (n) } }
                    }
                }
                label { "Preview with "
                    select #event name="event" {
                        optgroup label="Samples (herald trigger)" {
                            @for kind in samples::types() {
                                option value={ "sample:" (kind) } selected[kind == default] { (kind) }
                            }
                        }
                        optgroup label="Stored events, newest first" {
                            @for e in &recent {
                                option value={ "event:" (e.source) "/" (e.event_id) } { (event_label(e)) " (" (e.event_id) ")" }
                            }
                        }
                    }
                }
            }
            div.panes {
                section.edit aria-label="Edit" {
                    @if text_only {
                        (part_editor(TemplatePart::Text))
                        details.email-parts {
                            summary { "A text-only set, as an SMS sends it. Add a subject and an HTML part to send it as an email too" }
                            @for part in PARTS { @if part != TemplatePart::Text { (part_editor(part)) } }
                        }
                    } @else {
                        @for part in PARTS { (part_editor(part)) }
                    }
                    div.actions {
                        button type="submit" #save { "Save" }
                        p.result #save-result role="status" aria-live="polite" {}
                    }
                    ul.errors #save-problems aria-live="polite" {}
                }
                section.preview aria-label="Preview" {
                    h2 { "Preview " small #preview-state role="status" {} }
                    p.meta #preview-event {}
                    p #preview-subject-row hidden[text_only] { strong { "Subject:" } " " span #preview-subject {} }
                    iframe #preview-html sandbox="" title="HTML part preview" hidden[text_only] {}
                    h3 { "Text part " small #preview-sms {} }
                    pre #preview-text {}
                    ul.errors data-errors="other" aria-live="polite" {}
                }
            }
        }
        script src="/assets/editor.js" defer {}
    };
    Ok(page("Templates", "/templates", &shell, &body).into_response())
}

/// What a marketer recognises a stored event by: its type, order, customer and amount.
fn event_label(e: &EventListing) -> String {
    let mut label = e.kind.clone();
    for part in [e.order_id.as_deref(), e.summary.customer.as_deref()]
        .into_iter()
        .flatten()
    {
        label.push_str(" · ");
        label.push_str(part);
    }
    if e.summary.amount.is_some() {
        label.push_str(" · ");
        label.push_str(&money(e.summary.amount, e.summary.currency.as_deref()));
    }
    label
}
