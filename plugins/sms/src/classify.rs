//! Deliver stage, second half: how the provider's answer becomes an [`Outcome`].
//!
//! As in the webhook plugin: 2xx is delivered; 408, 429 and 5xx are temporary
//! (honouring `Retry-After`); every other status is permanent. Anything that kept an
//! answer from arriving (refused connection, timeout, reset) is temporary. Twilio's
//! JSON error bodies (`{"code": 21211, "message": "…"}`) are quoted as code and message.

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

/// Twilio's error document (other fields ignored).
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u64>,
    message: Option<String>,
}

/// The error text of a response body: Twilio's `code: message` when it is one,
/// otherwise the start of the body.
pub(crate) fn error_text(body: &[u8]) -> String {
    if let Ok(TwilioError {
        code,
        message: Some(message),
    }) = serde_json::from_slice::<TwilioError>(body)
    {
        let text = match code {
            Some(code) => format!("Twilio error {code}: {message}"),
            None => message,
        };
        return excerpt(text.as_bytes());
    }
    excerpt(body)
}

/// The outcome of a response with `status`; `text` explains a failure (may be empty).
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, text: &str) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    let mut reason = format!("provider answered {status}");
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
    // reqwest's own message names the URL (which holds the account SID); its causes do not.
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
    fn twilio_errors_are_quoted_as_code_and_message() {
        let body = br#"{"code": 21211, "message": "The 'To' number +1555 is not valid.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
        assert_eq!(
            error_text(body),
            "Twilio error 21211: The 'To' number +1555 is not valid."
        );
        assert_eq!(error_text(b"  bad\r\nrequest "), "bad  request");
        assert_eq!(error_text(&[b'x'; 500]).len(), EXCERPT_CHARS);
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
