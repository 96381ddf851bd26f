//! `POST /webhooks/{source}`: verify, normalize, route, store, then acknowledge.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use herald_plugin_api::Payload;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::time::Instant;
use tracing::{info, warn};

use super::error::ApiError;
use super::AppState;
use crate::clock::now_ms;
use crate::source::stripe;
use crate::store::{IngestOutcome, NewJob};

/// The body of a 200 answer.
#[derive(Debug, Serialize)]
pub struct Ack {
    received: bool,
    duplicate: bool,
    jobs: usize,
}

/// Receives one webhook. Answers 200 only once the event and its jobs are committed.
pub async fn receive(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Ack>, ApiError> {
    let started = Instant::now();
    let result = receive_inner(&state, &source, &headers, body).await;
    match &result {
        Ok(_) => state.metrics.webhook_answered(&source, started.elapsed()),
        Err(err) => {
            let source = if matches!(err, ApiError::UnknownSource(_)) {
                "unknown"
            } else {
                source.as_str()
            };
            if err.status().is_server_error() {
                warn!(source, error = %err, cause = ?std::error::Error::source(err), "webhook not stored");
            } else {
                warn!(source, reason = err.reason(), error = %err, "webhook refused");
            }
            state.metrics.webhook_rejected(source, err.reason());
            if source != "unknown" {
                state.metrics.webhook_answered(source, started.elapsed());
            }
        }
    }
    result.map(Json)
}

async fn receive_inner(
    state: &AppState,
    source: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Ack, ApiError> {
    let ("stripe", Some(stripe_settings)) = (source, &state.stripe) else {
        return Err(ApiError::UnknownSource(source.to_owned()));
    };
    let body = body.map_err(|rejection| match rejection {
        BytesRejection::FailedToBufferBody(_)
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::PayloadTooLarge {
                limit: state.body_limit,
            }
        }
        _ => ApiError::BadBody,
    })?;
    let header = headers
        .get(stripe::SIGNATURE_HEADER)
        .map(|value| value.to_str().unwrap_or(""));
    let received_at_ms = now_ms();
    let verified = stripe::verify(
        header,
        &body,
        stripe_settings.secret.expose_secret().as_bytes(),
        stripe_settings.tolerance.as_secs(),
        received_at_ms.div_euclid(1000),
    )?;
    // The payload stays text: stored as received, parsed again only if a rule's
    // `when` reads `data.…` or `raw.…`.
    let mut event = stripe::normalize_fields(verified)?;
    event.raw = Payload::from_body(&body);
    let jobs = state
        .live
        .get()
        .rules
        .plan(&event)
        .iter()
        .map(NewJob::from)
        .collect();
    let outcome = state.store.ingest(&event, jobs, received_at_ms).await?;
    let ack = match outcome {
        IngestOutcome::Stored { jobs } => {
            state.metrics.webhook_received(source, &event.kind, false);
            info!(source, event_id = %event.id, kind = %event.kind, jobs, "event stored");
            if jobs > 0 {
                state.wake_dispatcher.notify_one();
            }
            Ack {
                received: true,
                duplicate: false,
                jobs,
            }
        }
        IngestOutcome::Duplicate => {
            state.metrics.webhook_received(source, &event.kind, true);
            info!(source, event_id = %event.id, kind = %event.kind, "duplicate event acknowledged");
            Ack {
                received: true,
                duplicate: true,
                jobs: 0,
            }
        }
    };
    Ok(ack)
}
