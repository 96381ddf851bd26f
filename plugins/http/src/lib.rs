//! Deliver stage, shared by the plugins that speak HTTP (webhook, sms, push): how
//! an answer, or its absence, becomes an [`Outcome`].
//!
//! 2xx is delivered; 408, 429 and 5xx are temporary, honouring `Retry-After`; every
//! other status is permanent. Anything that kept an answer from arriving (refused
//! connection, timeout, reset) is temporary. Each plugin words its own reasons
//! (provider error documents, hints); the rules stay the same everywhere.
#![forbid(unsafe_code)]

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use herald_plugin_api::Outcome;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// The longest `Retry-After` honoured; a larger hint is capped, not ignored.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How much of an error response's text goes into the attempt record.
pub const EXCERPT_CHARS: usize = 200;

/// Whether a status means "try again later".
pub fn is_temporary(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// The outcome of a response with `status`; `reason` is what the attempt record
/// says when it is not a success.
pub fn outcome(status: StatusCode, headers: &HeaderMap, reason: String) -> Outcome {
    if status.is_success() {
        Outcome::Delivered
    } else if is_temporary(status) {
        Outcome::Retry {
            after: retry_after(headers, SystemTime::now()),
            reason: reason.into(),
        }
    } else {
        Outcome::failed(reason)
    }
}

/// `"{who} answered {status}: {text}"`, the usual failure reason.
pub fn answered(who: &str, status: StatusCode, text: &str) -> String {
    if text.is_empty() {
        format!("{who} answered {status}")
    } else {
        format!("{who} answered {status}: {text}")
    }
}

/// The `Retry-After` hint (delay seconds or an HTTP-date), capped at [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
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
pub fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The outcome of a request that got no answer; `destination` is `scheme://host:port`.
pub fn transport_error(err: &reqwest::Error, destination: &str, timeout: Duration) -> Outcome {
    let what = if err.is_timeout() {
        format!("no answer from {destination} within {}s", timeout.as_secs())
    } else if err.is_connect() {
        format!("could not connect to {destination}")
    } else {
        format!("request to {destination} failed")
    };
    Outcome::retry(format!("{what}: {}", error_chain(err)))
}

/// An error's causes, `: `-separated. Not reqwest's own message: it names the URL,
/// which may hold event data or an account id; the causes (hyper, io) do not.
fn error_chain(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(kind(err).to_owned());
    }
    parts.join(": ")
}

/// A short name for a reqwest error that has no cause to quote.
fn kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() {
        "body error"
    } else if err.is_request() {
        "request error"
    } else {
        "transport error"
    }
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
    fn statuses_are_classified_as_the_standard_webhooks_spec_suggests() {
        let none = HeaderMap::new();
        let classify = |code| {
            outcome(
                StatusCode::from_u16(code).expect("status"),
                &none,
                String::new(),
            )
        };
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(classify(code), Outcome::Delivered, "{code}");
        }
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(classify(code), Outcome::Retry { after: None, .. }),
                "{code}"
            );
        }
        for code in [301, 302, 304, 400, 401, 403, 404, 410, 422] {
            assert!(matches!(classify(code), Outcome::Failed { .. }), "{code}");
        }
    }

    #[test]
    fn a_temporary_status_carries_the_hint() {
        let reason = answered("destination", StatusCode::TOO_MANY_REQUESTS, "slow down");
        assert_eq!(
            outcome(StatusCode::TOO_MANY_REQUESTS, &headers("7"), reason),
            Outcome::Retry {
                after: Some(Duration::from_secs(7)),
                reason: "destination answered 429 Too Many Requests: slow down".into(),
            }
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&headers(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers("999999999"), now),
            Some(MAX_RETRY_AFTER)
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(90))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&headers(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&headers("-5"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"  line one\r\nline two\n"), "line one  line two");
        assert_eq!(
            excerpt("é".repeat(500).as_bytes()).chars().count(),
            EXCERPT_CHARS
        );
        assert_eq!(excerpt(&[0xff, b'o', b'k']), "\u{fffd}ok");
    }
}
