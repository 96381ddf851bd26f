//! `/api/inventory`: stock levels, as `herald inventory --json` shows them.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_plugin_inventory::ledger::StockLedger;
use serde_json::{json, Value};

use super::internal;
use crate::server::AppState;

/// `GET /api/inventory`: every SKU's level.
pub async fn list(State(state): State<AppState>) -> Response {
    levels(&state, None).await
}

/// `GET /api/inventory/{sku}`: one SKU's level; an empty list when none is recorded.
pub async fn show(State(state): State<AppState>, Path(sku): Path<String>) -> Response {
    levels(&state, Some(&sku)).await
}

async fn levels(state: &AppState, sku: Option<&str>) -> Response {
    match state.store.levels(sku).await {
        Ok(levels) => {
            let levels: Vec<Value> = levels
                .iter()
                .map(|(sku, quantity)| json!({ "sku": sku, "quantity": quantity }))
                .collect();
            Json(json!({ "levels": levels })).into_response()
        }
        Err(err) => internal(&err),
    }
}
