//! `/api/customers/{source}/{customer_id}`: what the customer directory knows.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{internal, not_found};
use crate::cli::customers::as_json;
use crate::server::AppState;

/// `GET /api/customers/{source}/{customer_id}`
pub async fn show(
    State(state): State<AppState>,
    Path((source, customer_id)): Path<(String, String)>,
) -> Response {
    match state.store.customer(&source, &customer_id).await {
        Ok(Some(customer)) => Json(json!({ "customer": as_json(&customer) })).into_response(),
        Ok(None) => not_found(format!("no customer {customer_id}")),
        Err(err) => internal(&err),
    }
}
