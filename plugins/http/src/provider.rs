//! What the plugins that speak to one provider's API (sms, push) share: the config
//! checks every provider table has, and [`Provider`], which sends one request,
//! classifies the answer with the provider's own error wording and logs the attempt.

use std::time::Duration;

use herald_plugin_api::{
    expand_env, BuildContext, ClientSettings, Env, Issues, Job, Outcome, PluginError,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, RequestBuilder, StatusCode, Url};

use crate::{outcome, outcome_kind, send};

/// Seconds one request may take, connecting included, when `timeout_secs` is not set.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Requests in flight at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// Why `provider = "json"` is refused: the webhook plugin's `body` template makes the
/// same call, so there is one generic JSON sender to learn, sign and secure.
pub fn removed_json_provider(kind: &str) -> String {
    format!(
        "provider = \"json\" was removed from {kind}: send the JSON call with a \
         [plugins.webhook.<name>] instance (its `url` and `headers`) and a `body` template \
         on the rule's action"
    )
}

/// `timeout_secs` and `max_concurrency`, checked, with their defaults applied.
pub fn limits(
    timeout_secs: Option<u64>,
    max_concurrency: Option<usize>,
    issues: &mut Issues,
) -> (Duration, usize) {
    if timeout_secs == Some(0) {
        issues.push("timeout_secs", "must be at least 1");
    }
    if max_concurrency == Some(0) {
        issues.push("max_concurrency", "must be at least 1");
    }
    (
        Duration::from_secs(timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
    )
}

/// Reports every key set that `provider` does not use.
pub fn unused(issues: &mut Issues, provider: &str, keys: &[(&str, bool)]) {
    for (name, set) in keys {
        if *set {
            issues.push(
                name,
                format!("does not apply to provider = \"{provider}\"; remove it"),
            );
        }
    }
}

/// A secret: only accepted as a `${VAR}` reference, so it never sits in `config.toml`
/// (which is often committed). Sent in a header, so a control character is refused.
/// Messages never quote the value.
pub fn secret(raw: &str, field: &str, env: &dyn Env, issues: &mut Issues) -> Option<String> {
    if !raw.contains("${") {
        issues.push(
            field,
            format!(
                "must be a `${{VAR}}` reference (e.g. \"${{{}}}\"), not the secret itself",
                field.to_uppercase()
            ),
        );
        return None;
    }
    let value = expand_env(raw, env)
        .map_err(|err| issues.push(field, err.to_string()))
        .ok()?;
    let value = value.trim();
    if value.is_empty() || value.chars().any(char::is_control) {
        issues.push(
            field,
            "is empty or holds control characters after expanding `${...}` references",
        );
        return None;
    }
    Some(value.to_owned())
}

/// The job's idempotency key as `Idempotency-Key`, and under `also` (a provider's own
/// header) when given.
///
/// # Errors
/// A permanent failure when the key cannot be a header value.
pub fn idempotency_headers(key: &str, also: Option<&'static str>) -> Result<HeaderMap, Outcome> {
    let value = HeaderValue::from_str(key).map_err(|_| {
        Outcome::failed("the idempotency key cannot be sent as an HTTP header value")
    })?;
    let mut headers = HeaderMap::new();
    if let Some(name) = also {
        headers.insert(HeaderName::from_static(name), value.clone());
    }
    headers.insert(HeaderName::from_static("idempotency-key"), value);
    Ok(headers)
}

/// How one provider words its answers: the error text of a body, and the reason
/// of a failed status.
pub trait Wording: Send + Sync {
    /// The provider's error document, in short (e.g. `Twilio error 21211: …`).
    fn error_text(&self, body: &[u8]) -> String;

    /// The reason recorded for a non-2xx `status`; `text` may be empty.
    fn reason(&self, status: StatusCode, text: &str) -> String {
        crate::answered("provider", status, text)
    }
}

/// One instance's connection to its provider.
pub struct Provider {
    /// The instance's name, for logs.
    pub name: String,
    /// `scheme://host:port` of the provider, for reasons and logs (never the path).
    pub destination: String,
    timeout: Duration,
    client: Client,
}

impl Provider {
    /// Prepares one pooled client for the instance; does not connect.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        cx: &BuildContext,
        base: &Url,
        timeout: Duration,
        max_in_flight: usize,
    ) -> Result<Self, PluginError> {
        Ok(Self {
            name: cx.name().to_owned(),
            destination: base.origin().ascii_serialization(),
            timeout,
            client: cx.http_client(ClientSettings {
                timeout,
                max_idle: max_in_flight,
            })?,
        })
    }

    /// A POST to `url`, to be completed by the caller.
    pub fn post(&self, url: Url) -> RequestBuilder {
        self.client.post(url)
    }

    /// Sends `request` and classifies the answer; also returns the status, for logs.
    pub async fn send(
        &self,
        request: RequestBuilder,
        wording: &dyn Wording,
    ) -> (Outcome, Option<u16>) {
        match send(request, &self.destination, self.timeout).await {
            Err(outcome) => (outcome, None),
            Ok(answer) => (
                classify(answer.status, &answer.headers, &answer.body, wording),
                Some(answer.status.as_u16()),
            ),
        }
    }

    /// Sends what `prepared` holds, or reports why nothing was sent, and logs the
    /// attempt by identifiers only (numbers, texts and credentials stay out of logs).
    pub async fn deliver(
        &self,
        kind: &str,
        job: &Job<'_>,
        prepared: Result<RequestBuilder, Outcome>,
        wording: &dyn Wording,
    ) -> Outcome {
        self.attempt(kind, job, prepared, wording).await.0
    }

    /// [`Self::deliver`], also returning the status answered, for a caller that acts
    /// on it (push renews its token after a 401).
    pub async fn attempt(
        &self,
        kind: &str,
        job: &Job<'_>,
        prepared: Result<RequestBuilder, Outcome>,
        wording: &dyn Wording,
    ) -> (Outcome, Option<u16>) {
        let request = match prepared {
            Ok(request) => request,
            Err(outcome) => {
                tracing::debug!(
                    plugin = %self.name, kind, rule = job.rule, attempt = job.attempt,
                    "could not be composed; nothing sent"
                );
                return (outcome, None);
            }
        };
        let (outcome, status) = self.send(request, wording).await;
        tracing::debug!(
            plugin = %self.name, kind, rule = job.rule, attempt = job.attempt,
            destination = %self.destination, status, outcome = outcome_kind(&outcome),
            "delivery attempted"
        );
        (outcome, status)
    }
}

/// The outcome of an answer: the shared status rules, the provider's wording.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    wording: &dyn Wording,
) -> Outcome {
    let text = if status.is_success() {
        String::new()
    } else {
        wording.error_text(body)
    };
    outcome(status, headers, wording.reason(status, &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;

    impl Wording for Plain {
        fn error_text(&self, body: &[u8]) -> String {
            crate::excerpt(body)
        }
    }

    /// The status rules are tested in the crate root; here, that the wording is used.
    #[test]
    fn answers_are_classified_with_the_providers_wording() {
        let none = HeaderMap::new();
        let classify = |code| {
            classify(
                StatusCode::from_u16(code).expect("status"),
                &none,
                b"no",
                &Plain,
            )
        };
        assert_eq!(classify(200), Outcome::Delivered);
        assert!(
            matches!(classify(503), Outcome::Retry { reason, .. } if reason == "provider answered 503 Service Unavailable: no")
        );
        assert!(
            matches!(classify(404), Outcome::Failed { reason } if reason == "provider answered 404 Not Found: no")
        );
    }

    #[test]
    fn the_key_goes_in_both_headers() {
        let headers = idempotency_headers("k:1", Some("i-twilio-idempotency-token")).expect("ok");
        assert_eq!(headers["idempotency-key"], "k:1");
        assert_eq!(headers["i-twilio-idempotency-token"], "k:1");
        assert!(idempotency_headers("line\nbreak", None).is_err());
    }

    #[test]
    fn limits_default_and_refuse_zero() {
        let mut issues = Issues::new("plugins.sms.a");
        assert_eq!(
            limits(None, None, &mut issues),
            (
                Duration::from_secs(DEFAULT_TIMEOUT_SECS),
                DEFAULT_MAX_CONCURRENCY
            )
        );
        limits(Some(0), Some(0), &mut issues);
        assert_eq!(issues.len(), 2);
    }
}
