//! Answers herald gives before a request reaches a handler: the connection cap,
//! an oversized or slow head, a request past its deadline. Same JSON body as
//! [`super::ApiError`], and each counted in `herald_http_refusals_total` by reason.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::metrics::Metrics;

/// The counter every refusal adds to, labelled `reason`.
pub const REFUSALS_METRIC: &str = "herald_http_refusals_total";

/// Why herald refused a connection or request on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every connection slot holds a request in flight.
    ConnectionLimit,
    /// The request head was larger than herald accepts.
    HeadersTooLarge,
    /// The request head did not arrive within `server.header_read_timeout_secs`.
    HeaderTimeout,
    /// The handler did not answer within `server.request_timeout_secs`.
    RequestTimeout,
}

impl Refusal {
    /// Every [`Refusal::reason`], so their series exist before the first refusal.
    pub const REASONS: [&'static str; 4] = [
        "connection_limit",
        "headers_too_large",
        "header_timeout",
        "request_timeout",
    ];

    /// The status code the client sees.
    pub fn status(self) -> StatusCode {
        match self {
            Self::ConnectionLimit | Self::RequestTimeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::HeaderTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// A short, stable label for metrics and the body's `reason`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::ConnectionLimit => "connection_limit",
            Self::HeadersTooLarge => "headers_too_large",
            Self::HeaderTimeout => "header_timeout",
            Self::RequestTimeout => "request_timeout",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::ConnectionLimit => "too many connections; retry later",
            Self::HeadersTooLarge => "request headers too large",
            Self::HeaderTimeout => "request headers not received in time",
            Self::RequestTimeout => "the request took too long; retry later",
        }
    }

    fn body(self) -> serde_json::Value {
        json!({ "error": self.message(), "reason": self.reason() })
    }

    /// Adds one to [`REFUSALS_METRIC`] for this reason.
    pub fn count(self, metrics: &Metrics) {
        metrics.refused(self.reason());
    }

    /// The whole HTTP/1.1 answer, for writing straight to a socket that hyper
    /// does not (or no longer) serve. It closes the connection.
    pub fn raw_response(self) -> Vec<u8> {
        let body = self.body().to_string();
        let status = self.status();
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_responses_carry_the_json_body() {
        let raw = String::from_utf8(Refusal::ConnectionLimit.raw_response()).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{head}"
        );
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["reason"], "connection_limit");
    }
}
