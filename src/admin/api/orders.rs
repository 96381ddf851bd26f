//! `/api/orders/{order_id}`: an order's status and the facts it was folded from.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_plugin_orders::ledger::OrderLedger;
use serde_json::json;

use super::{internal, not_found};
use crate::server::AppState;

/// `GET /api/orders/{order_id}`
pub async fn show(State(state): State<AppState>, Path(order_id): Path<String>) -> Response {
    match state.store.get(&order_id).await {
        Ok(Some((order, facts))) => Json(json!({ "order": order, "facts": facts })).into_response(),
        Ok(None) => not_found(format!("no order {order_id}")),
        Err(err) => internal(&err),
    }
}
