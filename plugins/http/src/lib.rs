//! Deliver stage, shared by the plugins that speak HTTP (webhook, sms, push, orders'
//! callback): how an answer, or its absence, becomes an [`Outcome`]; [`provider`]
//! holds what the provider plugins (sms, push) share besides.
//!
//! 2xx is delivered; 408, 429 and 5xx are temporary, honouring `Retry-After`; every
//! other status is permanent. Anything that kept an answer from arriving (refused
//! connection, timeout, reset) is temporary. Each plugin words its own reasons
//! (provider error documents, hints); the rules stay the same everywhere.
#![forbid(unsafe_code)]

pub mod callback;
mod client;
pub mod provider;
pub mod signature;

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use std::collections::BTreeMap;

pub use client::{outcome_kind, send, unix_now, Answer, BODY_READ_LIMIT};

use herald_plugin_api::{expand_env, Env, Outcome};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};

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

/// Parses a configured destination: absolute, http or https, with a host and no
/// fragment. `example` shows the operator a URL that would do.
///
/// # Errors
/// What is wrong, quoting `raw`.
pub fn parse_url(raw: &str, example: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim())
        .map_err(|err| format!("`{raw}` is not a valid URL ({err}); write e.g. \"{example}\""))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{raw}` uses the `{}` scheme; only http and https are supported",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err(format!("`{raw}` has no host"));
    }
    if url.fragment().is_some() {
        return Err(format!(
            "`{raw}` has a `#` fragment, which is never sent; remove it"
        ));
    }
    Ok(url)
}

/// Configured extra headers, `${VAR}` references expanded, values marked sensitive
/// (they often hold tokens). A header in `reserved` (lower case) is one the plugin
/// sets itself. Bad entries are left out and reported as `(field, message)`, the
/// field being `headers.<Name>`.
pub fn config_headers(
    raw: &BTreeMap<String, String>,
    reserved: &[&str],
    env: &dyn Env,
) -> (HeaderMap, Vec<(String, String)>) {
    let mut map = HeaderMap::new();
    let mut issues = Vec::new();
    for (name, value) in raw {
        let field = format!("headers.{name}");
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            let message = format!("`{name}` is not a valid header name (letters, digits and `-`)");
            issues.push((field, message));
            continue;
        };
        if reserved.contains(&header.as_str()) {
            issues.push((field, format!("`{name}` is set by herald; remove it")));
            continue;
        }
        let value = match expand_env(value, env) {
            Ok(value) => value,
            Err(err) => {
                issues.push((field, err.to_string()));
                continue;
            }
        };
        match HeaderValue::from_str(&value) {
            Ok(mut value) => {
                value.set_sensitive(true);
                map.append(header, value);
            }
            Err(_) => issues.push((
                field,
                "the value (after expanding `${...}` references) holds a line break or another \
                 character a header cannot carry"
                    .to_owned(),
            )),
        }
    }
    (map, issues)
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
    fn urls_must_be_absolute_http_without_fragment() {
        assert!(parse_url("https://x.example.com/a", "").is_ok());
        for bad in [
            "ftp://x.example.com",
            "not a url",
            "https://x.example.com/#frag",
            "/relative",
        ] {
            assert!(parse_url(bad, "https://e.example").is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_expand_secrets_and_refuse_reserved_or_bad_ones() {
        let env = std::collections::HashMap::from([("TOKEN".to_owned(), "s3cret".to_owned())]);
        let raw = BTreeMap::from([
            ("Authorization".to_owned(), "Bearer ${TOKEN}".to_owned()),
            ("Content-Type".to_owned(), "text/plain".to_owned()),
            ("Bad Name".to_owned(), "x".to_owned()),
            ("X-Missing".to_owned(), "${NOPE}".to_owned()),
        ]);
        let (map, issues) = config_headers(&raw, &["content-type"], &env);
        assert_eq!(
            map.get("authorization")
                .map(reqwest::header::HeaderValue::as_bytes),
            Some(&b"Bearer s3cret"[..])
        );
        assert!(map
            .get("authorization")
            .is_some_and(HeaderValue::is_sensitive));
        let fields: Vec<&str> = issues.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "headers.Bad Name",
                "headers.Content-Type",
                "headers.X-Missing"
            ]
        );
        assert!(issues[2].1.contains("NOPE"));
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
