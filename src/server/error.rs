//! One error type for every HTTP answer that is not a success.
//!
//! 4xx answers explain themselves; 5xx answers say nothing of internals and are
//! logged with their cause instead.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::source::SourceError;
use crate::store::StoreError;

/// Why a webhook was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No source of that name is configured.
    #[error("unknown webhook source `{0}`")]
    UnknownSource(String),
    /// The body exceeded `server.body_limit_bytes`.
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The body could not be read.
    #[error("could not read the request body")]
    BadBody,
    /// The body did not arrive within `server.body_read_timeout_secs` of the head.
    #[error("the request body did not arrive within {secs} s")]
    BodyTimeout { secs: u64 },
    /// The source refused it: not authentic, or not an event herald understands.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The event could not be stored; the sender should retry.
    #[error("could not store the event")]
    Store(#[from] StoreError),
}

impl ApiError {
    /// Every [`ApiError::reason`] a configured source can see (`unknown_source`
    /// is the unknown sources'), so their series exist before the first refusal.
    pub fn reasons() -> Vec<&'static str> {
        let mut reasons = vec!["too_large", "bad_body", "body_timeout"];
        reasons.extend(SourceError::REASONS);
        reasons.push("store_error");
        reasons
    }

    /// The status code the sender sees.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownSource(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadBody => StatusCode::BAD_REQUEST,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Source(err) if err.is_unauthorized() => StatusCode::UNAUTHORIZED,
            Self::Source(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short, stable label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownSource(_) => "unknown_source",
            Self::PayloadTooLarge { .. } => "too_large",
            Self::BadBody => "bad_body",
            Self::BodyTimeout { .. } => "body_timeout",
            Self::Source(err) => err.reason(),
            Self::Store(_) => "store_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            "temporarily unable to accept the event; retry later".to_owned()
        } else {
            self.to_string()
        };
        (
            status,
            Json(json!({ "error": message, "reason": self.reason() })),
        )
            .into_response()
    }
}
