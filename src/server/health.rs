//! `/healthz`, `/readyz` and `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use std::time::Duration;

use serde_json::{json, Value};
use tracing::warn;

use super::AppState;
use crate::store::StoreError;

/// The process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// How long a readiness check may take. Orchestrators give a probe about a second;
/// a database that does not answer within this is as good as down, and the probe
/// must hear that rather than time out on a hang.
const READINESS_BUDGET: Duration = Duration::from_millis(500);

/// The process can do its job: the database answers, is still the file opened, and
/// takes writes.
///
/// While the last writes failed (a full disk answers reads), each check tries a
/// small write of its own, so readiness comes back once the database takes writes
/// again even when no traffic reaches a herald taken out of rotation. The whole
/// check is bounded by [`READINESS_BUDGET`].
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let verdict = match tokio::time::timeout(READINESS_BUDGET, check(&state)).await {
        Ok(verdict) => verdict,
        Err(_) => Err(json!({
            "status": "unavailable",
            "database": "unreachable",
            "reason": format!("no answer within {} ms", READINESS_BUDGET.as_millis()),
            "failing_writes": state.store.failing_writes(),
        })),
    };
    match verdict {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(body) => {
            warn!(verdict = %body, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}

/// The readiness verdict, or the body that explains it.
async fn check(state: &AppState) -> Result<(), Value> {
    if let Err(err) = state.store.ping().await {
        let database = match err {
            StoreError::NotDurable(_) => "not durable",
            _ => "unreachable",
        };
        return Err(json!({
            "status": "unavailable",
            "database": database,
            "reason": err.to_string(),
        }));
    }
    if state.store.failing_writes() > 0 {
        if let Err(err) = state.store.probe_write().await {
            return Err(json!({
                "status": "unavailable",
                "database": "writes failing",
                "failing_writes": state.store.failing_writes(),
                "reason": err.to_string(),
            }));
        }
    }
    Ok(())
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
