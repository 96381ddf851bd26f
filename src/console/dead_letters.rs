//! The dead letters page: the jobs that gave up, with their reasons; select some
//! and replay or purge them (the script asks for a confirmation first).

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::events::unavailable;
use super::page::{esc, page, time_ms, url};
use super::shell::Shell;
use crate::server::AppState;
use crate::store::JobFilter;

/// Dead letters one page lists.
const LIMIT: usize = 500;

/// `GET /dead-letters`
pub async fn list(State(state): State<AppState>, shell: Shell) -> Response {
    let jobs = match state.store.dead_letters(&JobFilter::default(), LIMIT).await {
        Ok(jobs) => jobs,
        Err(err) => return unavailable(&err),
    };
    let mut rows = String::new();
    for job in &jobs {
        let _ = write!(
            rows,
            "<tr data-job=\"{id}\"><td><input type=\"checkbox\" name=\"job\" value=\"{id}\" aria-label=\"Select job {id}\"></td>\
             <td data-label=\"Job\">{id}</td><td data-label=\"Event\"><a href=\"/events/stripe/{href}\">{event}</a><br><small>{kind}</small></td>\
             <td data-label=\"Rule\"><code>{rule}</code></td><td data-label=\"Plugin\"><code>{plugin}</code></td>\
             <td data-label=\"Attempts\">{attempts}</td><td data-label=\"Dead since (UTC)\">{dead}</td><td data-label=\"Reason\" class=\"reason\">{reason}</td></tr>",
            id = job.id,
            href = url(&job.event_id),
            event = esc(&job.event_id),
            kind = esc(&job.event_type),
            rule = esc(&job.rule),
            plugin = esc(&job.plugin),
            attempts = job.attempts,
            dead = job.dead_at_ms.map(time_ms).unwrap_or_default(),
            reason = esc(job.last_error.as_deref().unwrap_or("—")),
        );
    }
    if jobs.is_empty() {
        rows.push_str("<tr><td colspan=\"8\">No dead letters: every job was delivered or is still being tried.</td></tr>");
    }
    let body = format!(
        r#"<p>Jobs that failed for good, or ran out of attempts. Replay queues them again now; purge deletes them.</p>
<div class="actions" role="toolbar" aria-label="Dead letter actions">
<button type="button" data-action="replay-selected">Replay selected</button>
<button type="button" data-action="purge-selected" class="danger">Purge selected</button>
<p class="result" role="status" aria-live="polite"></p>
</div>
<table class="dead-letters" data-live="dead-letters">
<caption>{count} dead letter{s}</caption>
<thead><tr><th scope="col"><input type="checkbox" data-select-all aria-label="Select all"></th><th scope="col">Job</th><th scope="col">Event</th><th scope="col">Rule</th><th scope="col">Plugin</th><th scope="col">Attempts</th><th scope="col">Dead since (UTC)</th><th scope="col">Reason</th></tr></thead>
<tbody>{rows}</tbody>
</table>"#,
        count = jobs.len(),
        s = if jobs.len() == 1 { "" } else { "s" },
    );
    page("Dead letters", "/dead-letters", &shell, &body).into_response()
}
