//! The changes the pages' buttons ask for: redeliver an event, replay or purge
//! dead letters. JSON in and out; the admin auth in front checks the CSRF token.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tracing::info;

use crate::admin::error::AdminError;
use crate::replay;
use crate::server::AppState;
use crate::store::{JobFilter, StoreError};

/// Which dead letters: jobs by id, or every one of an event.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Selection {
    job_ids: Option<Vec<i64>>,
    event_id: Option<String>,
}

impl Selection {
    /// The filter; `None` for an empty selection, which must not mean "all".
    fn filter(self) -> Option<JobFilter> {
        let filter = JobFilter {
            job_ids: self.job_ids,
            event_id: self.event_id,
            ..JobFilter::default()
        };
        (filter != JobFilter::default()).then_some(filter)
    }
}

fn failed(err: &StoreError) -> Response {
    AdminError::unavailable(err).into_response()
}

fn nothing_selected() -> Response {
    AdminError::BadRequest("select at least one dead letter".to_owned()).into_response()
}

/// `POST /dead-letters/replay`
pub async fn replay(State(state): State<AppState>, Json(selection): Json<Selection>) -> Response {
    let Some(filter) = selection.filter() else {
        return nothing_selected();
    };
    match replay::replay_dead_letters(&state.store, &filter, false, &mut |_, _| {}).await {
        Ok(report) => {
            info!(
                replayed = report.replayed,
                "dead letters replayed from the console"
            );
            state.wake_dispatcher.notify_one();
            Json(json!({ "replayed": report.replayed })).into_response()
        }
        Err(err) => failed(&err),
    }
}

/// `POST /dead-letters/purge`
pub async fn purge(State(state): State<AppState>, Json(selection): Json<Selection>) -> Response {
    let Some(filter) = selection.filter() else {
        return nothing_selected();
    };
    match replay::purge_dead_letters(&state.store, &filter).await {
        Ok(purged) => {
            info!(purged, "dead letters purged from the console");
            Json(json!({ "purged": purged })).into_response()
        }
        Err(err) => failed(&err),
    }
}

/// `POST /events/{source}/{id}/redeliver`
pub async fn redeliver(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
) -> Response {
    let rules = state.live.get().rules().clone();
    match replay::redeliver_event(&state.store, &rules, &source, &id).await {
        Ok(Some(done)) => {
            state.wake_dispatcher.notify_one();
            Json(done).into_response()
        }
        Ok(None) => AdminError::NotFound(format!("no stored event {source}/{id}")).into_response(),
        Err(err) => failed(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_selection_selects_nothing_rather_than_everything() {
        assert!(Selection::default().filter().is_none());
        let one = Selection {
            job_ids: Some(vec![3]),
            event_id: None,
        };
        assert!(one.filter().is_some());
    }
}
