//! `POST /webhooks/{source}`: verify, normalize, route, store, then acknowledge.

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use std::time::Instant;
use tracing::{info, warn};

use super::error::ApiError;
use super::listener::BodyTimedOut;
use super::AppState;
use crate::clock::now_ms;
use crate::source::stripe::{Incoming, ThinEvent};
use crate::store::{IngestOutcome, Planned};

/// The body of a 200 answer.
#[derive(Debug, Serialize)]
pub struct Ack {
    received: bool,
    duplicate: bool,
    jobs: usize,
}

/// Receives one webhook. Answers 200 only once the event and its jobs are committed.
///
/// What the head alone condemns (an unknown source, a declared length over the limit,
/// a missing or malformed signature header, a timestamp outside the tolerance) is
/// refused before the body is read, so such a request never holds its connection
/// while a body trickles in.
pub async fn receive(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
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
            if err.status() == axum::http::StatusCode::UNAUTHORIZED {
                state.metrics.signals.signature_failed(source);
            }
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
    body: Body,
) -> Result<Ack, ApiError> {
    let Some(receiver) = state.sources.get(source) else {
        return Err(ApiError::UnknownSource(source.to_owned()));
    };
    let too_large = ApiError::PayloadTooLarge {
        limit: state.body_limit,
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(state.body_limit).unwrap_or(u64::MAX)) {
        return Err(too_large);
    }
    let received_at_ms = now_ms();
    let head = receiver.check_head(headers, received_at_ms.div_euclid(1000))?;
    let body = read_body(body, state.body_limit).await?;
    let event = match head.verify(&body)? {
        Incoming::Snapshot(event) => event,
        Incoming::Thin(thin) => {
            return keep_thin(state, source, &thin, &body, received_at_ms).await
        }
    };
    let planned = Planned::of(state.live.get().rules(), &event);
    let outcome = state
        .store
        .ingest_planned(&event, planned, received_at_ms)
        .await?;
    let ack = match outcome {
        IngestOutcome::Stored { jobs } => {
            state.metrics.webhook_received(source, &event.kind, false);
            info!(source, event_id = %event.id, kind = %event.kind, api_version = event.api_version.as_deref(), jobs, "event stored");
            crate::source::stripe::note_api_version(&event);
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

/// The whole body, at most `limit` bytes. A body cut off at its deadline (see
/// [`BodyTimedOut`]) is a 408; one that grows past the limit, a 413.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|err| {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
            while let Some(error) = cause {
                if let Some(timed_out) = error.downcast_ref::<BodyTimedOut>() {
                    return ApiError::BodyTimeout {
                        secs: timed_out.0.as_secs(),
                    };
                }
                cause = error.source();
            }
            ApiError::BadBody
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len().saturating_add(data.len()) > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(bytes))
}

/// Keeps a thin event until its object is fetched (by [`crate::thin`]), and
/// acknowledges it: it is routed once it is whole.
async fn keep_thin(
    state: &AppState,
    source: &str,
    thin: &ThinEvent,
    body: &[u8],
    received_at_ms: i64,
) -> Result<Ack, ApiError> {
    let text = String::from_utf8_lossy(body);
    let kept = state
        .store
        .keep_thin(source, &thin.id, &text, received_at_ms)
        .await?;
    state
        .metrics
        .webhook_received(source, thin.snapshot_type(), !kept);
    if kept {
        info!(source, event_id = %thin.id, kind = %thin.kind, object = %thin.object_id, "thin event kept; its object is fetched next");
        state.wake_thin.notify_one();
    } else {
        info!(source, event_id = %thin.id, kind = %thin.kind, "duplicate thin event acknowledged");
    }
    Ok(Ack {
        received: true,
        duplicate: !kept,
        jobs: 0,
    })
}
