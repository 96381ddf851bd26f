//! `/api/dead-letters`: list, replay and purge jobs that gave up.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tracing::info;

use super::{bad_request, internal};
use crate::replay;
use crate::server::AppState;
use crate::store::JobFilter;

/// Most dead letters one listing returns unless asked for fewer.
const DEFAULT_LIST_LIMIT: usize = 100;

/// Query of `GET /api/dead-letters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    event_id: Option<String>,
    rule: Option<String>,
    plugin: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    limit: Option<usize>,
}

/// `GET /api/dead-letters`
pub async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Response {
    let filter = JobFilter {
        event_id: query.event_id,
        rule: query.rule,
        plugin: query.plugin,
        since_ms: query.since_ms,
        until_ms: query.until_ms,
        ..JobFilter::default()
    };
    match state
        .store
        .dead_letters(&filter, query.limit.unwrap_or(DEFAULT_LIST_LIMIT))
        .await
    {
        Ok(jobs) => Json(json!({ "dead_letters": jobs })).into_response(),
        Err(err) => internal(&err),
    }
}

/// Body of `POST /api/dead-letters/replay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    #[serde(default)]
    filter: JobFilter,
    #[serde(default)]
    dry_run: bool,
}

/// `POST /api/dead-letters/replay`: queue matching dead letters again.
pub async fn replay(State(state): State<AppState>, Json(request): Json<ReplayRequest>) -> Response {
    match replay::replay_dead_letters(
        &state.store,
        &request.filter,
        request.dry_run,
        &mut |_, _| {},
    )
    .await
    {
        Ok(report) => {
            if !report.dry_run {
                info!(
                    replayed = report.replayed,
                    "dead letters replayed through the admin API"
                );
                state.wake_dispatcher.notify_one();
            }
            Json(report).into_response()
        }
        Err(err) => internal(&err),
    }
}

/// Body of `POST /api/dead-letters/purge`: a filter's fields, and `all` to mean
/// every dead letter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PurgeRequest {
    job_ids: Option<Vec<i64>>,
    event_id: Option<String>,
    rule: Option<String>,
    plugin: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    /// Confirms an empty filter, as the command line's `--all` does.
    all: bool,
}

impl PurgeRequest {
    /// The filter, or `None` when it is empty and `all` does not confirm it.
    fn into_filter(self) -> Option<JobFilter> {
        let filter = JobFilter {
            job_ids: self.job_ids,
            event_id: self.event_id,
            rule: self.rule,
            plugin: self.plugin,
            since_ms: self.since_ms,
            until_ms: self.until_ms,
        };
        (self.all || filter != JobFilter::default()).then_some(filter)
    }
}

/// `POST /api/dead-letters/purge`: delete matching dead letters for good.
///
/// An empty filter would delete every dead letter, so it needs `"all": true`.
pub async fn purge(State(state): State<AppState>, Json(request): Json<PurgeRequest>) -> Response {
    let Some(filter) = request.into_filter() else {
        return bad_request(
            "name what to purge (job_ids, event_id, rule, plugin, since_ms, until_ms), \
             or send \"all\": true to purge every dead letter"
                .to_owned(),
        );
    };
    match replay::purge_dead_letters(&state.store, &filter).await {
        Ok(purged) => {
            info!(purged, "dead letters purged through the admin API");
            Json(json!({ "purged": purged })).into_response()
        }
        Err(err) => internal(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_purge_filter_needs_all() {
        assert!(PurgeRequest::default().into_filter().is_none());
        let all = PurgeRequest {
            all: true,
            ..PurgeRequest::default()
        };
        assert_eq!(all.into_filter(), Some(JobFilter::default()));
        let rule = PurgeRequest {
            rule: Some("old".to_owned()),
            ..PurgeRequest::default()
        };
        assert!(rule.into_filter().is_some());
    }
}
