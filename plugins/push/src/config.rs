//! One push plugin instance's configuration: a `[plugins.push.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes a [`PushConfig`],
//! calls [`PushConfig::validate`] (pure apart from `${VAR}` lookups, so `herald check`
//! reports every problem in one go) and hands the [`ValidatedPush`] to [`crate::build`].
//!
//! The table is flat, with `provider` choosing which keys apply, so a key written for
//! the wrong provider is reported by name instead of as a generic serde error.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use herald_plugin_api::{expand_env, ConfigIssue, Env, RetryConfig};
use herald_plugin_http::config_headers;
use reqwest::header::HeaderMap;
use reqwest::Url;
use serde::Deserialize;

use crate::action::{check_topic, TopicRules};

/// Seconds one request may take, connecting included, when `timeout_secs` is not set.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Requests in flight at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// The public ntfy server, used when `url` is not set.
pub const NTFY_DEFAULT_URL: &str = "https://ntfy.sh";
/// FCM's API host, used when `api_base` is not set.
pub const FCM_API_BASE: &str = "https://fcm.googleapis.com";

/// Which service the instance sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushProvider {
    /// An ntfy server (ntfy.sh or self-hosted).
    Ntfy,
    /// Firebase Cloud Messaging, HTTP v1 API.
    Fcm,
    /// Any service taking a JSON POST: `{"title", "body", "topic", "token", "click", …}`.
    Json,
}

/// The raw `[plugins.push.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// `"ntfy"`, `"fcm"` or `"json"`.
    pub provider: PushProvider,
    /// ntfy: the server's URL (default `https://ntfy.sh`); json: the URL to POST to (required).
    pub url: Option<String>,
    /// json: extra headers; values may hold `${VAR}`, e.g. `Authorization = "Bearer ${PUSH_TOKEN}"`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// ntfy: the topic published to when an action sets none.
    pub topic: Option<String>,
    /// ntfy: an access token sent as `Authorization: Bearer`, only as a `"${VAR}"` reference.
    pub token: Option<String>,
    /// fcm: the Firebase project id.
    pub project_id: Option<String>,
    /// fcm: an OAuth2 access token, only as a `"${VAR}"` reference.
    pub access_token: Option<String>,
    /// fcm: the API's base URL, for tests and proxies. Default `https://fcm.googleapis.com`.
    pub api_base: Option<String>,
    /// Seconds one request may take, connecting included. Default 10.
    pub timeout_secs: Option<u64>,
    /// Most requests in flight at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
    /// Retry policy overrides for this instance's jobs; herald applies them.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// A checked ntfy set-up.
#[derive(Clone)]
pub struct NtfySettings {
    /// The server's URL.
    pub url: Url,
    /// The default topic.
    pub topic: Option<String>,
    /// The bearer token, when the server needs one.
    pub token: Option<String>,
}

/// A checked FCM set-up.
#[derive(Clone)]
pub struct FcmSettings {
    /// The API's base URL.
    pub api_base: Url,
    /// The Firebase project id.
    pub project_id: String,
    /// The OAuth2 bearer token.
    pub access_token: String,
}

/// A checked generic JSON set-up.
#[derive(Debug, Clone)]
pub struct JsonSettings {
    /// Where notifications are POSTed.
    pub url: Url,
    /// The default topic, sent as `topic` when an action sets none.
    pub topic: Option<String>,
    /// Extra headers, `${VAR}` references expanded and marked sensitive.
    pub headers: HeaderMap,
}

/// Headers the JSON provider sets itself.
const RESERVED_HEADERS: [&str; 4] = ["content-type", "content-length", "host", "idempotency-key"];

/// The provider-specific part of a checked configuration.
#[derive(Debug, Clone)]
pub enum PushSettings {
    /// `provider = "ntfy"`.
    Ntfy(NtfySettings),
    /// `provider = "fcm"`.
    Fcm(FcmSettings),
    /// `provider = "json"`.
    Json(JsonSettings),
}

/// A checked configuration: every value resolved, ready for [`crate::build`].
#[derive(Debug, Clone)]
pub struct ValidatedPush {
    /// The provider and its settings.
    pub provider: PushSettings,
    /// How long one request may take, connecting included.
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
    /// Retry policy overrides, passed through for herald's dispatcher.
    pub retry: RetryConfig,
}

impl fmt::Debug for NtfySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtfySettings")
            .field("url", &self.url.as_str())
            .field("topic", &self.topic)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl fmt::Debug for FcmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmSettings")
            .field("api_base", &self.api_base.as_str())
            .field("project_id", &self.project_id)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// Collects issues under one table key, so every message names its full dotted key.
struct Issues<'a> {
    key: &'a str,
    list: Vec<ConfigIssue>,
}

impl Issues<'_> {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.list
            .push(ConfigIssue::new(format!("{}.{field}", self.key), message));
    }

    /// Reports every key set that `provider` does not use.
    fn unused(&mut self, provider: &str, keys: &[(&str, bool)]) {
        for (name, set) in keys {
            if *set {
                self.push(
                    name,
                    format!("does not apply to provider = \"{provider}\"; remove it"),
                );
            }
        }
    }
}

impl PushConfig {
    /// Checks the table and resolves it; `key` is the table's dotted key
    /// (`plugins.push.ntfy`). Messages never quote a secret.
    ///
    /// # Errors
    /// Every problem found, each at its own key.
    pub fn validate(&self, key: &str, env: &dyn Env) -> Result<ValidatedPush, Vec<ConfigIssue>> {
        let mut issues = Issues {
            key,
            list: Vec::new(),
        };
        let provider = match self.provider {
            PushProvider::Ntfy => self.ntfy(env, &mut issues).map(PushSettings::Ntfy),
            PushProvider::Fcm => self.fcm(env, &mut issues).map(PushSettings::Fcm),
            PushProvider::Json => self.json(env, &mut issues).map(PushSettings::Json),
        };
        if self.timeout_secs == Some(0) {
            issues.push("timeout_secs", "must be at least 1");
        }
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        match provider {
            Some(provider) if issues.list.is_empty() => Ok(ValidatedPush {
                provider,
                timeout: Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)),
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
                retry: self.retry,
            }),
            _ => Err(issues.list),
        }
    }

    fn ntfy(&self, env: &dyn Env, issues: &mut Issues<'_>) -> Option<NtfySettings> {
        issues.unused(
            "ntfy",
            &[
                ("headers", !self.headers.is_empty()),
                ("project_id", self.project_id.is_some()),
                ("access_token", self.access_token.is_some()),
                ("api_base", self.api_base.is_some()),
            ],
        );
        let url = parse_url(self.url.as_deref().unwrap_or(NTFY_DEFAULT_URL))
            .map_err(|message| issues.push("url", message))
            .ok();
        let topic = self.topic.as_deref().map(str::trim);
        if let Some(Err(message)) = topic.map(|topic| check_topic(topic, TopicRules::Ntfy)) {
            issues.push("topic", message);
        }
        let token = match self.token.as_deref() {
            Some(raw) => Some(secret(raw, "token", env, issues)?),
            None => None,
        };
        Some(NtfySettings {
            url: url?,
            topic: topic.map(str::to_owned),
            token,
        })
    }

    fn json(&self, env: &dyn Env, issues: &mut Issues<'_>) -> Option<JsonSettings> {
        issues.unused(
            "json",
            &[
                ("token", self.token.is_some()),
                ("project_id", self.project_id.is_some()),
                ("access_token", self.access_token.is_some()),
                ("api_base", self.api_base.is_some()),
            ],
        );
        let url = match self.url.as_deref() {
            Some(raw) => parse_url(raw)
                .map_err(|message| issues.push("url", message))
                .ok(),
            None => {
                issues.push(
                    "url",
                    "is required: where the JSON notifications are POSTed",
                );
                None
            }
        };
        let (headers, problems) = config_headers(&self.headers, &RESERVED_HEADERS, env);
        for (field, message) in problems {
            issues.push(&field, message);
        }
        Some(JsonSettings {
            url: url?,
            topic: self.topic.as_deref().map(str::trim).map(str::to_owned),
            headers,
        })
    }

    fn fcm(&self, env: &dyn Env, issues: &mut Issues<'_>) -> Option<FcmSettings> {
        issues.unused(
            "fcm",
            &[
                ("headers", !self.headers.is_empty()),
                ("url", self.url.is_some()),
                ("topic", self.topic.is_some()),
                ("token", self.token.is_some()),
            ],
        );
        let api_base = parse_url(self.api_base.as_deref().unwrap_or(FCM_API_BASE))
            .map_err(|message| issues.push("api_base", message))
            .ok();
        let project_id = match self.project_id.as_deref().map(str::trim) {
            None | Some("") => {
                issues.push("project_id", "is required: the Firebase project id");
                None
            }
            // Project ids are lower-case letters, digits and `-`; anything else would
            // change the request path.
            Some(id) if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                issues.push(
                    "project_id",
                    format!("`{id}` is not a Firebase project id (letters, digits and `-`)"),
                );
                None
            }
            Some(id) => Some(id.to_owned()),
        };
        let access_token = match self.access_token.as_deref() {
            Some(raw) => secret(raw, "access_token", env, issues),
            None => {
                issues.push(
                    "access_token",
                    "is required: write `access_token = \"${FCM_ACCESS_TOKEN}\"`",
                );
                None
            }
        };
        Some(FcmSettings {
            api_base: api_base?,
            project_id: project_id?,
            access_token: access_token?,
        })
    }
}

/// A secret, only accepted as a `${VAR}` reference so it never sits in `config.toml`.
fn secret(raw: &str, field: &str, env: &dyn Env, issues: &mut Issues<'_>) -> Option<String> {
    if !raw.contains("${") {
        issues.push(
            field,
            "must be a `${VAR}` reference to an environment variable, not the secret itself",
        );
        return None;
    }
    let value = expand_env(raw, env)
        .map_err(|err| issues.push(field, err.to_string()))
        .ok()?;
    let value = value.trim();
    // Sent in a header: a line break or control character would be refused anyway.
    if value.is_empty() || value.chars().any(char::is_control) {
        issues.push(
            field,
            "is empty or holds control characters after expanding `${...}` references",
        );
        return None;
    }
    Some(value.to_owned())
}

/// A configured URL, checked; the example suits a push service.
fn parse_url(raw: &str) -> Result<Url, String> {
    herald_plugin_http::parse_url(raw, "https://ntfy.sh")
}
