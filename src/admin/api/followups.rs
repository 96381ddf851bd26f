//! `/api/followups`: the follow-ups waiting for their deadline.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::internal;
use crate::server::AppState;

/// `GET /api/followups`: soonest first, at most 500.
pub async fn list(State(state): State<AppState>) -> Response {
    let live = state.live.get();
    let names = live.rules().followup_names();
    let limit = crate::cli::followups::LIST_LIMIT;
    match state.store.pending_followups(&names, limit).await {
        Ok(waiting) => Json(json!({ "followups": waiting })).into_response(),
        Err(err) => internal(&err),
    }
}
