//! Deliver stage, second half: how the provider's answer becomes an [`Outcome`].
//!
//! As in the webhook plugin: 2xx is delivered; 408, 429 and 5xx are temporary
//! (honouring `Retry-After`); every other status is permanent, 401 with its own reason
//! (the configured token is wrong or expired). Anything that kept an answer from arriving
//! (refused connection, timeout, reset) is temporary. FCM's error documents
//! (`{"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}`)
//! and ntfy's (`{"code": 40301, "error": "forbidden"}`) are quoted in short.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use herald_plugin_api::Outcome;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Deserialize;

/// The longest `Retry-After` honoured; a larger hint is capped, not ignored.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How much of an error's text goes into the attempt record.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// FCM's error document (other fields ignored).
#[derive(Deserialize)]
struct FcmEnvelope {
    error: FcmError,
}

#[derive(Deserialize)]
struct FcmError {
    message: Option<String>,
    status: Option<String>,
    #[serde(default)]
    details: Vec<FcmDetail>,
}

#[derive(Deserialize)]
struct FcmDetail {
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
}

/// ntfy's error document (other fields ignored).
#[derive(Deserialize)]
struct NtfyError {
    code: u64,
    error: String,
}

/// The error text of a response body: FCM's `errorCode (status): message`, ntfy's
/// `code: error`, otherwise the start of the body.
pub(crate) fn error_text(body: &[u8]) -> String {
    if let Ok(FcmEnvelope { error }) = serde_json::from_slice::<FcmEnvelope>(body) {
        let code = error
            .details
            .into_iter()
            .find_map(|detail| detail.error_code);
        let label = match (code, error.status) {
            (Some(code), Some(status)) if code != status => format!("{code} ({status})"),
            (Some(code), _) => code,
            (None, Some(status)) => status,
            (None, None) => "error".to_owned(),
        };
        let text = match error.message {
            Some(message) => format!("{label}: {message}"),
            None => label,
        };
        return excerpt(text.as_bytes());
    }
    if let Ok(NtfyError { code, error }) = serde_json::from_slice::<NtfyError>(body) {
        return excerpt(format!("ntfy error {code}: {error}").as_bytes());
    }
    excerpt(body)
}

/// The outcome of a response with `status`; `text` explains a failure (may be empty).
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, text: &str) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    let mut reason = format!("provider answered {status}");
    if status == StatusCode::UNAUTHORIZED {
        reason.push_str(" (access token rejected: check it is set and not expired)");
    }
    if !text.is_empty() {
        reason.push_str(": ");
        reason.push_str(text);
    }
    let temporary = status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    if temporary {
        Outcome::Retry {
            after: retry_after(headers, SystemTime::now()),
            reason: reason.into(),
        }
    } else {
        Outcome::failed(reason)
    }
}

/// The `Retry-After` hint (delay seconds or an HTTP-date), capped at [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            // A date in the past means "now".
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// The first [`EXCERPT_CHARS`] characters of `bytes`, on one line.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The outcome of a request that got no answer; `destination` is `scheme://host:port`.
pub(crate) fn transport_error(
    err: &reqwest::Error,
    destination: &str,
    timeout: Duration,
) -> Outcome {
    let what = if err.is_timeout() {
        format!("no answer from {destination} within {}s", timeout.as_secs())
    } else if err.is_connect() {
        format!("could not connect to {destination}")
    } else {
        format!("request to {destination} failed")
    };
    // reqwest's own message names the URL (which may hold a topic); its causes do not.
    let mut parts: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        return Outcome::retry(what);
    }
    Outcome::retry(format!("{what}: {}", parts.join(": ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(retry_after).expect("value"),
        );
        headers
    }

    #[test]
    fn statuses_are_classified() {
        let none = HeaderMap::new();
        for code in [200, 201, 202] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(response(status, &none, ""), Outcome::Delivered, "{code}");
        }
        for code in [408, 429, 500, 503] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(response(status, &none, ""), Outcome::Retry { .. }),
                "{code}"
            );
        }
        for code in [301, 400, 401, 403, 404, 422] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(response(status, &none, ""), Outcome::Failed { .. }),
                "{code}"
            );
        }
    }

    #[test]
    fn provider_errors_are_quoted_in_short() {
        let fcm = br#"{"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}"#;
        assert_eq!(
            error_text(fcm),
            "UNREGISTERED (NOT_FOUND): Requested entity was not found."
        );
        let invalid =
            br#"{"error": {"code": 400, "message": "bad token", "status": "INVALID_ARGUMENT"}}"#;
        assert_eq!(error_text(invalid), "INVALID_ARGUMENT: bad token");
        let ntfy = br#"{"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"}"#;
        assert_eq!(error_text(ntfy), "ntfy error 40301: forbidden");
        assert_eq!(error_text(b"  bad\r\nrequest "), "bad  request");
    }

    #[test]
    fn unauthorized_says_the_token_was_rejected() {
        let outcome = response(StatusCode::UNAUTHORIZED, &HeaderMap::new(), "");
        assert!(
            matches!(outcome, Outcome::Failed { reason } if reason.contains("access token rejected"))
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("999999999"), now),
            Some(MAX_RETRY_AFTER)
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
