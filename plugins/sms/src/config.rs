//! One sms plugin instance's configuration: a `[plugins.sms.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes an [`SmsConfig`],
//! calls [`SmsConfig::validate`] (pure apart from `${VAR}` lookups, so `herald check`
//! reports every problem in one go) and hands the [`ValidatedSms`] to [`crate::build`].
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

use crate::phone::normalize_e164;

/// Seconds one request may take, connecting included, when `timeout_secs` is not set.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Requests in flight at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// Twilio's API host, used when `api_base` is not set.
pub const TWILIO_API_BASE: &str = "https://api.twilio.com";

/// Headers the plugin sets itself (or HTTP owns); a configured value would clash.
const RESERVED_HEADERS: [&str; 6] = [
    "connection",
    "content-length",
    "content-type",
    "host",
    "idempotency-key",
    "transfer-encoding",
];

/// Which API the instance sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    /// Twilio's Messages API.
    Twilio,
    /// A generic gateway taking a JSON POST.
    Json,
}

/// The raw `[plugins.sms.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// `"twilio"` or `"json"`.
    pub provider: SmsProvider,
    /// twilio: the Account SID (`AC…`), plain or as a `"${VAR}"` reference.
    pub account_sid: Option<String>,
    /// twilio: the Auth Token, only as a `"${VAR}"` reference.
    pub auth_token: Option<String>,
    /// twilio: the sending number in E.164; json: any sender id the gateway accepts.
    pub from: Option<String>,
    /// twilio: a Messaging Service SID (`MG…`) to send through instead of `from`.
    pub messaging_service_sid: Option<String>,
    /// twilio: the API's base URL, for tests and proxies. Default `https://api.twilio.com`.
    pub api_base: Option<String>,
    /// json: the gateway's URL (http or https).
    pub url: Option<String>,
    /// json: extra headers; values may hold `${VAR}`, e.g. `Authorization = "Bearer ${SMS_TOKEN}"`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Seconds one request may take, connecting included. Default 10.
    pub timeout_secs: Option<u64>,
    /// Most requests in flight at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
    /// Retry policy overrides for this instance's jobs; herald applies them.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// Whom a Twilio message is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioSender {
    /// An E.164 number (`From`).
    From(String),
    /// A Messaging Service SID (`MessagingServiceSid`).
    MessagingService(String),
}

/// A checked Twilio set-up.
#[derive(Clone)]
pub struct TwilioSettings {
    /// The API's base URL.
    pub api_base: Url,
    /// The Account SID (`AC…`); also the basic-auth user name.
    pub account_sid: String,
    /// The Auth Token; the basic-auth password.
    pub auth_token: String,
    /// The sender.
    pub sender: TwilioSender,
}

/// A checked JSON gateway set-up.
#[derive(Debug, Clone)]
pub struct JsonSettings {
    /// Where messages are POSTed.
    pub url: Url,
    /// Extra headers, `${VAR}` references expanded and marked sensitive.
    pub headers: HeaderMap,
    /// The sender sent as `from`, when configured.
    pub from: Option<String>,
}

/// The provider-specific part of a checked configuration.
#[derive(Debug, Clone)]
pub enum ProviderSettings {
    /// `provider = "twilio"`.
    Twilio(TwilioSettings),
    /// `provider = "json"`.
    Json(JsonSettings),
}

/// A checked configuration: every value resolved, ready for [`crate::build`].
#[derive(Debug, Clone)]
pub struct ValidatedSms {
    /// The provider and its settings.
    pub provider: ProviderSettings,
    /// How long one request may take, connecting included.
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
    /// Retry policy overrides, passed through for herald's dispatcher.
    pub retry: RetryConfig,
}

impl fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("api_base", &self.api_base.as_str())
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("sender", &self.sender)
            .finish()
    }
}

/// Collects issues under one table key, so every message names its full dotted key.
pub(crate) struct Issues<'a> {
    pub(crate) key: &'a str,
    pub(crate) list: Vec<ConfigIssue>,
}

impl Issues<'_> {
    pub(crate) fn push(&mut self, field: &str, message: impl Into<String>) {
        self.list
            .push(ConfigIssue::new(format!("{}.{field}", self.key), message));
    }
}

impl SmsConfig {
    /// Checks the table and resolves it; `key` is the table's dotted key
    /// (`plugins.sms.twilio`). Messages never quote a secret or a header value.
    ///
    /// # Errors
    /// Every problem found, each at its own key.
    pub fn validate(&self, key: &str, env: &dyn Env) -> Result<ValidatedSms, Vec<ConfigIssue>> {
        let mut issues = Issues {
            key,
            list: Vec::new(),
        };
        let provider = match self.provider {
            SmsProvider::Twilio => self.twilio(env, &mut issues).map(ProviderSettings::Twilio),
            SmsProvider::Json => self.json(env, &mut issues).map(ProviderSettings::Json),
        };
        if self.timeout_secs == Some(0) {
            issues.push("timeout_secs", "must be at least 1");
        }
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        match provider {
            Some(provider) if issues.list.is_empty() => Ok(ValidatedSms {
                provider,
                timeout: Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)),
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
                retry: self.retry,
            }),
            _ => Err(issues.list),
        }
    }

    /// Reports every key set that `provider` does not use.
    fn unused(&self, issues: &mut Issues<'_>, provider: &str, keys: &[(&str, bool)]) {
        for (name, set) in keys {
            if *set {
                issues.push(
                    name,
                    format!("does not apply to provider = \"{provider}\"; remove it"),
                );
            }
        }
    }

    fn twilio(&self, env: &dyn Env, issues: &mut Issues<'_>) -> Option<TwilioSettings> {
        self.unused(
            issues,
            "twilio",
            &[
                ("url", self.url.is_some()),
                ("headers", !self.headers.is_empty()),
            ],
        );
        let api_base = parse_url(self.api_base.as_deref().unwrap_or(TWILIO_API_BASE))
            .map_err(|message| issues.push("api_base", message))
            .ok();
        let account_sid = required(self.account_sid.as_deref(), "account_sid", env, issues)
            .and_then(|sid| {
                let sid = sid.trim().to_owned();
                let valid = sid.len() == 34
                    && sid.starts_with("AC")
                    && sid[2..].chars().all(|c| c.is_ascii_hexdigit());
                if valid {
                    Some(sid)
                } else {
                    // A SID is not secret, but it may be a mistyped token: don't quote it.
                    issues.push(
                        "account_sid",
                        "is not a Twilio Account SID (`AC` and 32 hex digits, \
                         shown on the Twilio console)",
                    );
                    None
                }
            });
        let auth_token = secret(self.auth_token.as_deref(), "auth_token", env, issues);
        let sender = match (self.from.as_deref(), self.messaging_service_sid.as_deref()) {
            (Some(from), None) => normalize_e164(from)
                .map(TwilioSender::From)
                .map_err(|err| issues.push("from", err.to_string()))
                .ok(),
            (None, Some(sid)) => {
                let sid = sid.trim();
                if sid.starts_with("MG") && sid.len() == 34 {
                    Some(TwilioSender::MessagingService(sid.to_owned()))
                } else {
                    issues.push(
                        "messaging_service_sid",
                        format!("`{sid}` is not a Messaging Service SID (`MG` and 32 hex digits)"),
                    );
                    None
                }
            }
            (Some(_), Some(_)) => {
                issues.push(
                    "from",
                    "set either `from` or `messaging_service_sid`, not both",
                );
                None
            }
            (None, None) => {
                issues.push(
                    "from",
                    "is required: an E.164 number such as \"+14155550100\" \
                     (or set `messaging_service_sid` instead)",
                );
                None
            }
        };
        Some(TwilioSettings {
            api_base: api_base?,
            account_sid: account_sid?,
            auth_token: auth_token?,
            sender: sender?,
        })
    }

    fn json(&self, env: &dyn Env, issues: &mut Issues<'_>) -> Option<JsonSettings> {
        self.unused(
            issues,
            "json",
            &[
                ("account_sid", self.account_sid.is_some()),
                ("auth_token", self.auth_token.is_some()),
                (
                    "messaging_service_sid",
                    self.messaging_service_sid.is_some(),
                ),
                ("api_base", self.api_base.is_some()),
            ],
        );
        let url = match self.url.as_deref() {
            Some(raw) => parse_url(raw)
                .map_err(|message| issues.push("url", message))
                .ok(),
            None => {
                issues.push("url", "is required for provider = \"json\"");
                None
            }
        };
        let (headers, problems) = config_headers(&self.headers, &RESERVED_HEADERS, env);
        for (field, message) in problems {
            issues.push(&field, message);
        }
        let from = self.from.as_deref().map(str::trim).map(str::to_owned);
        if from.as_deref() == Some("") {
            issues.push("from", "must not be empty; remove it to send no sender");
        }
        Some(JsonSettings {
            url: url?,
            headers,
            from,
        })
    }
}

/// A required value with `${VAR}` references expanded.
fn required(
    raw: Option<&str>,
    field: &str,
    env: &dyn Env,
    issues: &mut Issues<'_>,
) -> Option<String> {
    let Some(raw) = raw else {
        issues.push(field, "is required for provider = \"twilio\"");
        return None;
    };
    expand_env(raw, env)
        .map_err(|err| issues.push(field, err.to_string()))
        .ok()
}

/// A secret: required, and only accepted as a `${VAR}` reference so it never sits in
/// `config.toml` (which is often committed).
pub(crate) fn secret(
    raw: Option<&str>,
    field: &str,
    env: &dyn Env,
    issues: &mut Issues<'_>,
) -> Option<String> {
    let Some(raw) = raw else {
        issues.push(
            field,
            format!("is required: write `{field} = \"${{VAR}}\"`"),
        );
        return None;
    };
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
    if value.trim().is_empty() {
        issues.push(field, "is empty after expanding `${...}` references");
        return None;
    }
    Some(value.trim().to_owned())
}

/// A configured URL, checked; the example suits an SMS gateway.
fn parse_url(raw: &str) -> Result<Url, String> {
    herald_plugin_http::parse_url(raw, "https://sms.example.com/send")
}
