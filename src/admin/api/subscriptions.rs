//! `/api/subscriptions`: the subscriptions plugin's ledger.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_plugin_subscriptions::ledger::{SubscriptionFilter, SubscriptionLedger};
use serde::Deserialize;
use serde_json::json;

use super::{bad_request, internal, not_found};
use crate::server::AppState;

/// The listing's filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    customer: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/subscriptions`
pub async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Response {
    let status = match query.status.as_deref().map(str::parse).transpose() {
        Ok(status) => status,
        Err(message) => return bad_request(message),
    };
    let filter = SubscriptionFilter {
        status,
        customer: query.customer,
        limit: query.limit.unwrap_or(50).min(500),
    };
    match state.store.list(&filter).await {
        Ok(states) => Json(json!({ "subscriptions": states })).into_response(),
        Err(err) => internal(&err),
    }
}

/// `GET /api/subscriptions/{id}`
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.store.get(&id).await {
        Ok(Some((subscription, facts))) => {
            let entitlements = match &subscription.customer {
                Some(customer) => match state.store.entitlements(customer).await {
                    Ok(features) => features,
                    Err(err) => return internal(&err),
                },
                None => Vec::new(),
            };
            let body = json!({ "subscription": subscription, "entitlements": entitlements, "facts": facts });
            Json(body).into_response()
        }
        Ok(None) => not_found(format!("no subscription {id}")),
        Err(err) => internal(&err),
    }
}
