use std::collections::HashMap;

use herald_plugin_api::ConfigIssue;

use super::*;
use herald_plugin_http::signature::SecretError;
use herald_testkit::issue_keys;

const KEY: &str = "plugins.webhook.shipping";

fn parse(toml_like: serde_json::Value) -> WebhookConfig {
    serde_json::from_value(toml_like).expect("test config deserializes")
}

fn env() -> HashMap<String, String> {
    HashMap::from([
        ("SHIP_TOKEN".to_owned(), "t0ken".to_owned()),
        (
            "SHIP_SECRET".to_owned(),
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".to_owned(),
        ),
        ("BROKEN".to_owned(), "line\nbreak".to_owned()),
    ])
}

fn issues(config: &WebhookConfig) -> Vec<ConfigIssue> {
    config
        .validate(&ValidateContext::new(KEY, &env()))
        .expect_err("config should be rejected")
        .into_iter()
        .collect()
}

#[test]
fn resolves_defaults_secret_and_headers() {
    let config = parse(serde_json::json!({
        "url": "https://shipping.example.com/hooks",
        "secret": "${SHIP_SECRET}",
        "headers": { "Authorization": "Bearer ${SHIP_TOKEN}", "X-Shop": "example" },
    }));
    let valid = config
        .validate(&ValidateContext::new(KEY, &env()))
        .expect("valid");
    assert_eq!(valid.url.as_str(), "https://shipping.example.com/hooks");
    assert_eq!(
        valid.secret.as_deref(),
        Some(&decode_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("secret")[..])
    );
    assert_eq!(valid.secret.as_ref().map(Vec::len), Some(24));
    assert_eq!(valid.headers["authorization"], "Bearer t0ken");
    assert_eq!(valid.headers["x-shop"], "example");
    assert_eq!(valid.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECS));
    assert_eq!(valid.max_concurrency, DEFAULT_MAX_CONCURRENCY);
    let debug = format!("{valid:?}");
    assert!(
        !debug.contains("t0ken") && debug.contains("<redacted>"),
        "{debug}"
    );
}

#[test]
fn no_secret_means_unsigned_and_limits_can_be_set() {
    let config = parse(serde_json::json!({
        "url": "http://127.0.0.1:9000", "timeout_secs": 3, "max_concurrency": 2,
    }));
    let valid = config
        .validate(&ValidateContext::new(KEY, &env()))
        .expect("valid");
    assert!(valid.secret.is_none());
    assert!(valid.headers.is_empty());
    assert_eq!(valid.timeout, Duration::from_secs(3));
    assert_eq!(valid.max_concurrency, 2);
}

#[test]
fn secrets_decode_after_whsec_or_are_used_raw() {
    assert_eq!(decode_secret("whsec_aGVsbG8="), Ok(b"hello".to_vec()));
    assert_eq!(decode_secret("whsec_aGVsbG8"), Ok(b"hello".to_vec()));
    assert_eq!(decode_secret("plain text"), Ok(b"plain text".to_vec()));
    assert_eq!(
        decode_secret("whsec_not*base64"),
        Err(SecretError::NotBase64)
    );
    assert_eq!(decode_secret("whsec_"), Err(SecretError::Empty));
    assert_eq!(decode_secret(""), Err(SecretError::Empty));
}

#[test]
fn bad_urls_are_reported() {
    for url in [
        "shipping.example.com/hooks",
        "ftp://files.example.com/in",
        "https://",
        "https://example.com/hooks#top",
        "mailto:ops@example.com",
    ] {
        let config = parse(serde_json::json!({ "url": url }));
        let issues = issues(&config);
        assert_eq!(issue_keys(&issues), [format!("{KEY}.url")], "{url}");
        assert!(issues[0].message.contains(url), "{}", issues[0]);
    }
    let ftp = issues(&parse(serde_json::json!({ "url": "ftp://x.example.com" })));
    assert!(ftp[0].message.contains("only http and https"), "{}", ftp[0]);
}

#[test]
fn a_missing_variable_is_named_without_quoting_values() {
    let config = parse(serde_json::json!({
        "url": "https://example.com",
        "secret": "${NO_SUCH_SECRET}",
        "headers": { "Authorization": "Bearer ${NO_SUCH_TOKEN}" },
    }));
    let issues = issues(&config);
    assert_eq!(
        issue_keys(&issues),
        [
            format!("{KEY}.headers.Authorization"),
            format!("{KEY}.secret")
        ]
    );
    let text = issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("NO_SUCH_SECRET") && text.contains("NO_SUCH_TOKEN"),
        "{text}"
    );
}

#[test]
fn bad_secrets_are_reported_without_the_secret() {
    let config = parse(serde_json::json!({
        "url": "https://example.com", "secret": "whsec_s3cr3t*value",
    }));
    let issues = issues(&config);
    assert_eq!(issue_keys(&issues), [format!("{KEY}.secret")]);
    assert!(!issues[0].message.contains("s3cr3t"), "{}", issues[0]);
}

#[test]
fn bad_and_reserved_headers_are_reported() {
    let config = parse(serde_json::json!({
        "url": "https://example.com",
        "headers": {
            "Bad Name": "x",
            "Content-Type": "text/plain",
            "webhook-signature": "v1,x",
            "X-Broken": "${BROKEN}",
            "X-Fine": "ok",
        },
    }));
    let issues = issues(&config);
    assert_eq!(
        issue_keys(&issues),
        ["Bad Name", "Content-Type", "X-Broken", "webhook-signature"]
            .map(|name| format!("{KEY}.headers.{name}"))
    );
    assert!(!issues
        .iter()
        .any(|issue| issue.message.contains("line\nbreak")));
}

#[test]
fn zero_limits_are_rejected_and_all_issues_come_at_once() {
    let config = parse(serde_json::json!({
        "url": "gopher://example.com", "secret": "${MISSING}",
        "timeout_secs": 0, "max_concurrency": 0,
    }));
    assert_eq!(
        issue_keys(&issues(&config)),
        ["max_concurrency", "secret", "timeout_secs", "url"].map(|field| format!("{KEY}.{field}"))
    );
}

#[test]
fn unknown_keys_fail_to_deserialize() {
    let unknown = serde_json::json!({ "url": "https://example.com", "timeout": 5 });
    assert!(serde_json::from_value::<WebhookConfig>(unknown).is_err());
}
