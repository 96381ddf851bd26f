//! One sms plugin instance's configuration: a `[plugins.sms.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes an [`SmsConfig`], checks
//! it with [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (pure
//! apart from `${VAR}` lookups, so `herald check` reports every problem in one go) and
//! hands the [`ValidatedSms`] to [`Instance::build`](herald_plugin_api::Instance::build).
//!
//! `provider = "json"` is refused at its line: the webhook plugin with a `body`
//! template is herald's generic JSON call.

use std::fmt;
use std::time::Duration;

use herald_plugin_api::{expand_env, Env, Issues, PluginConfig, ValidateContext};
use herald_plugin_http::provider::{limits, removed_json_provider};
pub use herald_plugin_http::provider::{DEFAULT_MAX_CONCURRENCY, DEFAULT_TIMEOUT_SECS};
use reqwest::Url;
use serde::{Deserialize, Deserializer};

use crate::auth::{is_sid, TwilioAuth};
use crate::phone::normalize_e164;

/// Twilio's API host, used when `api_base` is not set.
pub const TWILIO_API_BASE: &str = "https://api.twilio.com";

/// Which API the instance sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsProvider {
    /// Twilio's Messages API.
    Twilio,
}

/// `"twilio"`; `"json"` is refused with a pointer to the webhook plugin, at its line.
impl<'de> Deserialize<'de> for SmsProvider {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "twilio" => Ok(Self::Twilio),
            "json" => Err(serde::de::Error::custom(removed_json_provider("sms"))),
            other => Err(serde::de::Error::unknown_variant(other, &["twilio"])),
        }
    }
}

/// The raw `[plugins.sms.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// `"twilio"`.
    pub provider: SmsProvider,
    /// The Account SID (`AC…`), plain or as a `"${VAR}"` reference; part of every URL.
    pub account_sid: Option<String>,
    /// The account's Auth Token, only as a `"${VAR}"` reference. Twilio recommends an
    /// API key instead in production.
    pub auth_token: Option<String>,
    /// An API key's SID (`SK…`), plain or as a `"${VAR}"` reference; with
    /// `api_key_secret`, instead of `auth_token`.
    pub api_key_sid: Option<String>,
    /// The API key's secret, only as a `"${VAR}"` reference.
    pub api_key_secret: Option<String>,
    /// An inline template of the URL Twilio reports the message's status to
    /// (`StatusCallback`).
    pub status_callback: Option<String>,
    /// The sending number in E.164.
    pub from: Option<String>,
    /// A Messaging Service SID (`MG…`) to send through instead of `from`.
    pub messaging_service_sid: Option<String>,
    /// The API's base URL, for tests and proxies. Default `https://api.twilio.com`.
    pub api_base: Option<String>,
    /// Seconds one request may take, connecting included. Default 10.
    pub timeout_secs: Option<u64>,
    /// Most requests in flight at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
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
    /// The Account SID (`AC…`), in the request path.
    pub account_sid: String,
    /// The basic-auth credentials.
    pub auth: TwilioAuth,
    /// The sender.
    pub sender: TwilioSender,
    /// The inline template of the `StatusCallback` URL, if any.
    pub status_callback: Option<String>,
}

/// The provider-specific part of a checked configuration.
#[derive(Debug, Clone)]
pub enum ProviderSettings {
    /// `provider = "twilio"`.
    Twilio(TwilioSettings),
}

/// A checked configuration: every value resolved, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone)]
pub struct ValidatedSms {
    /// The provider and its settings.
    pub provider: ProviderSettings,
    /// How long one request may take, connecting included.
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
}

impl fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("api_base", &self.api_base.as_str())
            .field("account_sid", &self.account_sid)
            .field("auth", &self.auth)
            .field("sender", &self.sender)
            .field("status_callback", &self.status_callback)
            .finish()
    }
}

impl PluginConfig for SmsConfig {
    const KIND: &'static str = "sms";
    type Instance = ValidatedSms;

    /// Checks the table and resolves it. Messages never quote a secret.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedSms, Issues> {
        let mut issues = cx.issues();
        let provider = match self.provider {
            SmsProvider::Twilio => self.twilio(cx, &mut issues).map(ProviderSettings::Twilio),
        };
        let (timeout, max_concurrency) =
            limits(self.timeout_secs, self.max_concurrency, &mut issues);
        issues.finish(|| {
            Some(ValidatedSms {
                provider: provider?,
                timeout,
                max_concurrency,
            })
        })
    }
}

impl SmsConfig {
    fn twilio(&self, cx: &ValidateContext<'_>, issues: &mut Issues) -> Option<TwilioSettings> {
        let env = cx.env;
        let api_base = parse_url(self.api_base.as_deref().unwrap_or(TWILIO_API_BASE))
            .map_err(|message| issues.push("api_base", message))
            .ok();
        let account_sid = required(self.account_sid.as_deref(), "account_sid", env, issues)
            .and_then(|sid| {
                let sid = sid.trim().to_owned();
                if is_sid(&sid, "AC") {
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
        let auth = crate::auth::auth(self, env, issues);
        let status_callback = self.status_callback(cx, issues);
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
            auth: auth?,
            sender: sender?,
            status_callback: status_callback?,
        })
    }

    /// `status_callback`, checked as a template when the templates are loaded; `Some(None)`
    /// when not set.
    fn status_callback(
        &self,
        cx: &ValidateContext<'_>,
        issues: &mut Issues,
    ) -> Option<Option<String>> {
        let Some(template) = self.status_callback.as_deref().map(str::trim) else {
            return Some(None);
        };
        if template.is_empty() {
            issues.push(
                "status_callback",
                "must not be empty; remove it to send no StatusCallback",
            );
            return None;
        }
        if let Some(Err(err)) = cx
            .templates
            .map(|templates| templates.check_inline(template))
        {
            issues.push("status_callback", format!("is not a valid template: {err}"));
            return None;
        }
        // A literal URL is checked now; a templated one when it is rendered.
        if !template.contains("{{") {
            if let Err(message) = herald_plugin_http::parse_url(template, STATUS_CALLBACK_EXAMPLE) {
                issues.push("status_callback", message);
                return None;
            }
        }
        Some(Some(template.to_owned()))
    }
}

/// What a `status_callback` may look like, for messages.
const STATUS_CALLBACK_EXAMPLE: &str = "https://shop.example.com/twilio/status?order={{order_id}}";

/// A required value with `${VAR}` references expanded.
fn required(raw: Option<&str>, field: &str, env: &dyn Env, issues: &mut Issues) -> Option<String> {
    let Some(raw) = raw else {
        issues.push(field, "is required for provider = \"twilio\"");
        return None;
    };
    expand_env(raw, env)
        .map_err(|err| issues.push(field, err.to_string()))
        .ok()
}

/// A configured URL, checked; the example suits an SMS gateway.
fn parse_url(raw: &str) -> Result<Url, String> {
    herald_plugin_http::parse_url(raw, "https://sms.example.com/send")
}
