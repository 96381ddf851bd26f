use std::collections::HashMap;

use herald_plugin_api::ConfigIssue;

use super::*;
use herald_testkit::issue_keys;

const KEY: &str = "plugins.email.customer_mail";

fn parse(toml_like: serde_json::Value) -> EmailConfig {
    serde_json::from_value(toml_like).expect("test config deserializes")
}

fn env() -> HashMap<String, String> {
    HashMap::from([
        ("SMTP_USER".to_owned(), "mailer".to_owned()),
        ("SMTP_PASS".to_owned(), "hunter2".to_owned()),
    ])
}

fn issues(config: &EmailConfig) -> Vec<ConfigIssue> {
    config
        .validate(&ValidateContext::new(KEY, &env()).with_base_dir(Path::new("/etc/herald")))
        .expect_err("config should be rejected")
        .into_iter()
        .collect()
}

#[test]
fn file_transport_is_the_default_and_joins_the_outbox_to_the_config_folder() {
    let config = parse(serde_json::json!({ "from": "Example Shop <shop@example.com>" }));
    let valid = config
        .validate(&ValidateContext::new(KEY, &env()).with_base_dir(Path::new("/etc/herald")))
        .expect("valid");
    assert_eq!(valid.from.email.to_string(), "shop@example.com");
    assert!(valid.reply_to.is_none());
    match valid.transport {
        TransportSettings::File { outbox } => {
            assert_eq!(outbox, PathBuf::from("/etc/herald/outbox"));
        }
        other @ TransportSettings::Smtp(_) => panic!("expected file transport, got {other:?}"),
    }
}

#[test]
fn smtp_resolves_defaults_and_expands_credentials() {
    let config = parse(serde_json::json!({
        "transport": "smtp",
        "from": "shop@example.com",
        "reply_to": "Support <help@example.com>",
        "host": "smtp.example.com",
        "username": "${SMTP_USER}",
        "password": "${SMTP_PASS}",
    }));
    let valid = config
        .validate(&ValidateContext::new(KEY, &env()).with_base_dir(Path::new("/etc/herald")))
        .expect("valid");
    let TransportSettings::Smtp(smtp) = valid.transport else {
        panic!("expected smtp transport");
    };
    assert_eq!(smtp.host, "smtp.example.com");
    assert_eq!(smtp.port, 587);
    assert_eq!(smtp.security, Security::StartTls);
    assert_eq!(smtp.pool_max_size, DEFAULT_POOL_MAX_SIZE);
    assert_eq!(smtp.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECS));
    let credentials = smtp.credentials.expect("credentials");
    assert_eq!(credentials.username, "mailer");
    assert_eq!(credentials.password, "hunter2");
    assert!(!format!("{credentials:?}").contains("hunter2"));
}

#[test]
fn default_port_follows_security() {
    for (security, port) in [("starttls", 587), ("tls", 465), ("none", 25)] {
        let config = parse(serde_json::json!({
            "transport": "smtp", "from": "shop@example.com",
            "host": "smtp.example.com", "security": security,
        }));
        let valid = config
            .validate(&ValidateContext::new(KEY, &env()).with_base_dir(Path::new("/")))
            .expect("valid");
        let TransportSettings::Smtp(smtp) = valid.transport else {
            panic!("expected smtp transport");
        };
        assert_eq!(smtp.port, port, "security {security}");
    }
}

#[test]
fn bad_addresses_are_reported_at_their_keys() {
    let config = parse(serde_json::json!({ "from": "not an address", "reply_to": "@nope" }));
    let issues = issues(&config);
    assert_eq!(
        issue_keys(&issues),
        [format!("{KEY}.from"), format!("{KEY}.reply_to")]
    );
    assert!(issues[0].message.contains("not an address"));
}

#[test]
fn smtp_needs_a_host() {
    let config = parse(serde_json::json!({ "transport": "smtp", "from": "shop@example.com" }));
    let issues = issues(&config);
    assert_eq!(issue_keys(&issues), [format!("{KEY}.host")]);
}

#[test]
fn smtp_host_must_be_a_bare_name() {
    for host in ["smtp://mail.example.com", "mail.example.com:587", "  "] {
        let config = parse(serde_json::json!({
            "transport": "smtp", "from": "shop@example.com", "host": host,
        }));
        assert_eq!(
            issue_keys(&issues(&config)),
            [format!("{KEY}.host")],
            "{host}"
        );
    }
}

#[test]
fn smtp_only_keys_are_rejected_with_the_file_transport() {
    let config = parse(serde_json::json!({
        "from": "shop@example.com",
        "host": "smtp.example.com",
        "port": 25,
        "username": "u",
        "password": "p",
        "pool_max_size": 2,
        "timeout_secs": 5,
    }));
    let issues = issues(&config);
    assert_eq!(
        issue_keys(&issues),
        [
            "host",
            "password",
            "pool_max_size",
            "port",
            "timeout_secs",
            "username"
        ]
        .map(|field| format!("{KEY}.{field}"))
    );
    assert!(issues.iter().all(|issue| issue.message.contains("smtp")));
}

#[test]
fn outbox_is_rejected_with_the_smtp_transport() {
    let config = parse(serde_json::json!({
        "transport": "smtp", "from": "shop@example.com",
        "host": "smtp.example.com", "outbox": "mail",
    }));
    assert_eq!(issue_keys(&issues(&config)), [format!("{KEY}.outbox")]);
}

#[test]
fn a_missing_variable_is_named() {
    let config = parse(serde_json::json!({
        "transport": "smtp", "from": "shop@example.com", "host": "smtp.example.com",
        "username": "${SMTP_USER}", "password": "${SMTP_PASSWORD}",
    }));
    let issues = issues(&config);
    assert_eq!(issue_keys(&issues), [format!("{KEY}.password")]);
    assert!(issues[0].message.contains("SMTP_PASSWORD"), "{}", issues[0]);
}

#[test]
fn username_and_password_come_together() {
    let only_user = parse(serde_json::json!({
        "transport": "smtp", "from": "shop@example.com", "host": "smtp.example.com",
        "username": "mailer",
    }));
    assert_eq!(issue_keys(&issues(&only_user)), [format!("{KEY}.password")]);

    let only_password = parse(serde_json::json!({
        "transport": "smtp", "from": "shop@example.com", "host": "smtp.example.com",
        "password": "${SMTP_PASS}",
    }));
    assert_eq!(
        issue_keys(&issues(&only_password)),
        [format!("{KEY}.username")]
    );
}

#[test]
fn zero_limits_are_rejected() {
    let config = parse(serde_json::json!({
        "transport": "smtp", "from": "shop@example.com", "host": "smtp.example.com",
        "port": 0, "pool_max_size": 0, "timeout_secs": 0,
    }));
    assert_eq!(
        issue_keys(&issues(&config)),
        ["pool_max_size", "port", "timeout_secs"].map(|field| format!("{KEY}.{field}"))
    );
}

#[test]
fn all_issues_are_collected_at_once() {
    let config = parse(serde_json::json!({
        "transport": "smtp", "from": "nope", "username": "${MISSING}",
    }));
    let issues = issues(&config);
    assert_eq!(
        issue_keys(&issues),
        ["from", "host", "username"].map(|field| format!("{KEY}.{field}"))
    );
}

#[test]
fn unknown_keys_and_values_fail_to_deserialize() {
    let unknown_key = serde_json::json!({ "from": "shop@example.com", "hots": "x" });
    assert!(serde_json::from_value::<EmailConfig>(unknown_key).is_err());
    let bad_security = serde_json::json!({ "from": "shop@example.com", "security": "ssl" });
    assert!(serde_json::from_value::<EmailConfig>(bad_security).is_err());
}
