//! What a job sends, shown on its event's page: the action's rendering as `herald
//! route` previews it (recipient, subject, text…), with the templates and config in
//! force. herald keeps no copy of a message once it is handed over, so this is what
//! the same job sends now: the message itself when nothing changed since.

use herald_plugin_api::Event;
use maud::{html, Markup};

use crate::dry_run::preview_action;
use crate::store::EventJob;
use crate::Config;

/// A folded block under `job` with its message, or a line saying why there is none.
pub fn job_message(config: &Config, event: &Event, job: &EventJob) -> Markup {
    let index = usize::try_from(job.action_index).unwrap_or(usize::MAX);
    let rule = config
        .reloadable
        .rules
        .iter()
        .find(|rule| rule.name() == job.rule);
    let Some((rule, action)) = rule.and_then(|rule| Some((rule, rule.actions().get(index)?)))
    else {
        return html! { p.note { "Its rule or action is no longer in the config: no message to show." } };
    };
    let key = rule.idempotency_key(event, index);
    let preview = preview_action(config, &job.rule, (index, action), event, key);
    html! {
        @if !preview.lines.is_empty() {
            details.message {
                summary { "Message (" (preview.plugin) "), as the templates in force render it" }
                dl.fields {
                    @for line in &preview.lines {
                        dt { (line.label) }
                        dd {
                            @match (&line.value, &line.error) {
                                (Some(value), _) => pre { (value) },
                                (None, Some(error)) => p.problem { (error) },
                                (None, None) => {},
                            }
                        }
                    }
                }
            }
        }
    }
}
