//! `/admin`: dead letters, replay and re-delivery over HTTP, behind a bearer token.
//!
//! Mounted only when `[admin] token` is configured; every request must carry
//! `Authorization: Bearer <token>` (the scheme in any case).

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tracing::{error, info};

use super::AppState;
use crate::replay;
use crate::store::{JobFilter, StoreError};

/// Most dead letters one listing returns unless asked for fewer.
const DEFAULT_LIST_LIMIT: usize = 100;

/// Refuses requests without the right bearer token.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.admin_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_token)
        .unwrap_or("");
    // Comparing digests keeps the comparison's timing independent of the token.
    let matches =
        Sha256::digest(given.as_bytes()) == Sha256::digest(expected.expose_secret().as_bytes());
    if !matches {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "missing or wrong admin token" })),
        )
            .into_response();
    }
    next.run(request).await
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is matched in any
/// case, as RFC 7235 says, and may be followed by more than one space.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}

fn internal(err: &StoreError) -> Response {
    error!(error = %err, "admin request failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": "database unavailable" })),
    )
        .into_response()
}

/// Query of `GET /admin/dead-letters`.
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

/// `GET /admin/dead-letters`
pub async fn dead_letters(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Response {
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

/// Body of `POST /admin/replay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    #[serde(default)]
    filter: JobFilter,
    #[serde(default)]
    dry_run: bool,
}

/// `POST /admin/replay`: queue matching dead letters again.
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

/// Body of `POST /admin/purge`: a filter's fields, and `all` to mean every dead letter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PurgeRequest {
    job_ids: Vec<i64>,
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

/// `POST /admin/purge`: delete matching dead letters for good.
///
/// An empty filter would delete every dead letter, so it needs `"all": true`.
pub async fn purge(State(state): State<AppState>, Json(request): Json<PurgeRequest>) -> Response {
    let Some(filter) = request.into_filter() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "name what to purge (job_ids, event_id, rule, plugin, since_ms, \
                          until_ms), or send \"all\": true to purge every dead letter"
            })),
        )
            .into_response();
    };
    match replay::purge_dead_letters(&state.store, &filter).await {
        Ok(purged) => {
            info!(purged, "dead letters purged through the admin API");
            Json(json!({ "purged": purged })).into_response()
        }
        Err(err) => internal(&err),
    }
}

/// `POST /admin/events/{source}/{event_id}/redeliver`
pub async fn redeliver(
    State(state): State<AppState>,
    Path((source, event_id)): Path<(String, String)>,
) -> Response {
    match replay::redeliver_event(&state.store, &state.live.get().rules, &source, &event_id).await {
        Ok(Some(done)) => {
            state.wake_dispatcher.notify_one();
            Json(done).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no stored event {source}/{event_id}") })),
        )
            .into_response(),
        Err(err) => internal(&err),
    }
}

/// `GET /admin/jobs/{id}`: a job with its attempts.
pub async fn job(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let job = match state.store.job(id).await {
        Ok(Some(job)) => job,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({ "error": format!("no job {id}") })),
            )
                .into_response()
        }
        Err(err) => return internal(&err),
    };
    match state.store.attempts(id).await {
        Ok(attempts) => Json(json!({ "job": job, "attempts": attempts })).into_response(),
        Err(err) => internal(&err),
    }
}

/// `GET /admin/orders/{order_id}`: an order's status and the facts it was folded from.
pub async fn order(State(state): State<AppState>, Path(order_id): Path<String>) -> Response {
    use herald_plugin_orders::ledger::OrderLedger;

    match state.store.get(&order_id).await {
        Ok(Some((order, facts))) => Json(json!({ "order": order, "facts": facts })).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no order {order_id}") })),
        )
            .into_response(),
        Err(err) => {
            error!(error = %err, "admin request failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "database unavailable" })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR   t0k"] {
            assert_eq!(bearer_token(value), Some("t0k"), "{value}");
        }
        for value in ["Basic t0k", "Bearert0k", "t0k", "Bearer"] {
            assert_eq!(bearer_token(value), None, "{value}");
        }
    }

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
