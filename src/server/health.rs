//! `/healthz`, `/readyz` and `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use tracing::warn;

use super::AppState;

/// The process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The process can do its job: the database answers, and takes writes.
///
/// While the last writes failed (a full disk answers reads), each check tries a
/// small write of its own, so readiness comes back once the database takes writes
/// again even when no traffic reaches a herald taken out of rotation.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(err) = state.store.ping().await {
        warn!(error = %err, "readiness check failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "unreachable" })),
        );
    }
    if state.store.failing_writes() > 0 {
        if let Err(err) = state.store.probe_write().await {
            let failing = state.store.failing_writes();
            warn!(error = %err, failing, "readiness check: writes fail");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "database": "writes failing",
                    "failing_writes": failing,
                })),
            );
        }
    }
    (StatusCode::OK, Json(json!({ "status": "ready" })))
}

/// Every series in the Prometheus text format, the queue gauges read just now.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.metrics.refresh_queue(&state.store).await;
    (
        [(
            header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        state.metrics.render(),
    )
}
