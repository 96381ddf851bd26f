//! The dead letters page: the jobs that gave up, with their reasons; select some
//! and replay or purge them (the script asks for a confirmation first).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::page::{page, plural, time_ms, url};
use super::shell::Shell;
use crate::admin::error::PageError;
use crate::server::AppState;
use crate::store::JobFilter;

/// Dead letters one page lists.
const LIMIT: usize = 500;

/// `GET /dead-letters`
pub async fn list(State(state): State<AppState>, shell: Shell) -> Result<Response, PageError> {
    let jobs = state
        .store
        .dead_letters(&JobFilter::default(), LIMIT)
        .await?;
    let body = html! {
        p { "Jobs that failed for good, or ran out of attempts. Replay queues them again now; purge deletes them." }
        div.actions role="toolbar" aria-label="Dead letter actions" {
            button type="button" data-action="replay-selected" { "Replay selected" }
            " "
            button.danger type="button" data-action="purge-selected" { "Purge selected" }
            p.result role="status" aria-live="polite" {}
        }
        table.dead-letters data-live="dead-letters" {
            caption { (plural(jobs.len(), "dead letter")) }
            thead { tr {
                th scope="col" { input type="checkbox" data-select-all aria-label="Select all"; }
                @for heading in ["Job", "Event", "Rule", "Plugin", "Attempts", "Dead since (UTC)", "Reason"] {
                    th scope="col" { (heading) }
                }
            } }
            tbody {
                @for job in &jobs {
                    tr data-job=(job.id) {
                        td { input type="checkbox" name="job" value=(job.id) aria-label={ "Select job " (job.id) }; }
                        td data-label="Job" { (job.id) }
                        td data-label="Event" {
                            a href={ "/events/" (url(&job.source)) "/" (url(&job.event_id)) } { (job.event_id) }
                            br; small { (job.event_type) }
                        }
                        td data-label="Rule" { code { (job.rule) } }
                        td data-label="Plugin" { code { (job.plugin) } }
                        td data-label="Attempts" { (job.attempts) }
                        td data-label="Dead since (UTC)" { (job.dead_at_ms.map(time_ms).unwrap_or_default()) }
                        td.reason data-label="Reason" { (job.last_error.as_deref().unwrap_or("—")) }
                    }
                }
                @if jobs.is_empty() {
                    tr { td colspan="8" { "No dead letters: every job was delivered or is still being tried." } }
                }
            }
        }
    };
    Ok(page("Dead letters", "/dead-letters", &shell, &body).into_response())
}
