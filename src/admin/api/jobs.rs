//! `/api/jobs/{id}`: one job with its attempts.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{internal, not_found};
use crate::server::AppState;

/// `GET /api/jobs/{id}`
pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let job = match state.store.job(id).await {
        Ok(Some(job)) => job,
        Ok(None) => return not_found(format!("no job {id}")),
        Err(err) => return internal(&err),
    };
    match state.store.attempts(id).await {
        Ok(attempts) => Json(json!({ "job": job, "attempts": attempts })).into_response(),
        Err(err) => internal(&err),
    }
}
