//! `/api/events`: what was received, and re-delivering it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{internal, not_found};
use crate::replay;
use crate::server::AppState;

/// `POST /api/events/{source}/{event_id}/redeliver`: plans the event again under
/// today's rules, re-queueing its jobs.
pub async fn redeliver(
    State(state): State<AppState>,
    Path((source, event_id)): Path<(String, String)>,
) -> Response {
    match replay::redeliver_event(&state.store, &state.live.get().rules, &source, &event_id).await {
        Ok(Some(done)) => {
            state.wake_dispatcher.notify_one();
            Json(done).into_response()
        }
        Ok(None) => not_found(format!("no stored event {source}/{event_id}")),
        Err(err) => internal(&err),
    }
}
