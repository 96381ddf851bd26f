//! `server.request_timeout_secs`: a request not answered in time gets a 503 with
//! the usual JSON body, counted in `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::warn;

use super::refusal::Refusal;
use crate::metrics::Metrics;

/// What the middleware needs: the deadline and where to count.
#[derive(Clone)]
pub struct Deadline {
    pub limit: Duration,
    pub metrics: Arc<Metrics>,
}

/// Runs the rest of the stack, or answers 503 when it takes longer than the limit.
pub async fn request_timeout(
    State(deadline): State<Deadline>,
    request: Request,
    next: Next,
) -> Response {
    // A refcount, not a copy: the path is only logged when the deadline passes.
    let uri = request.uri().clone();
    match tokio::time::timeout(deadline.limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            warn!(path = uri.path(), limit = ?deadline.limit, "request timed out");
            Refusal::RequestTimeout.count(&deadline.metrics);
            Refusal::RequestTimeout.into_response()
        }
    }
}
