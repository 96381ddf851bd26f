//! What a job sends, shown on its event's page: the action's rendering as `herald
//! route` previews it (recipient, subject, text…), with the templates and config in
//! force. herald keeps no copy of a message once it is handed over, so this is what
//! the same job sends now: the message itself when nothing changed since.

use std::fmt::Write as _;

use herald_plugin_api::Event;

use super::page::esc;
use crate::route::preview_action;
use crate::rules::idempotency_key;
use crate::store::EventJob;
use crate::Config;

/// A folded block under `job` with its message, or a line saying why there is none.
pub fn job_message(config: &Config, event: &Event, job: &EventJob) -> String {
    let index = usize::try_from(job.action_index).unwrap_or(usize::MAX);
    let action = config
        .reloadable
        .rules
        .iter()
        .find(|rule| rule.name() == job.rule)
        .and_then(|rule| rule.actions().get(index));
    let Some(action) = action else {
        return "<p class=\"note\">Its rule or action is no longer in the config: no message to show.</p>"
            .to_owned();
    };
    let key = idempotency_key(event, &job.rule, index);
    let preview = preview_action(config, &job.rule, (index, action), event, key);
    let mut lines = String::new();
    for line in &preview.lines {
        let value = match (&line.value, &line.error) {
            (Some(value), _) => format!("<pre>{}</pre>", esc(value)),
            (None, Some(error)) => format!("<p class=\"problem\">{}</p>", esc(error)),
            (None, None) => String::new(),
        };
        let _ = write!(lines, "<dt>{}</dt><dd>{value}</dd>", esc(&line.label));
    }
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "<details class=\"message\"><summary>Message ({plugin}), as the templates in force render it</summary>\
         <dl class=\"fields\">{lines}</dl></details>",
        plugin = esc(&preview.plugin)
    )
}
