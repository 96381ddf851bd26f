//! One push plugin instance's configuration: a `[plugins.push.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes a [`PushConfig`], checks
//! it with [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (pure
//! apart from `${VAR}` lookups, so `herald check` reports every problem in one go) and
//! hands the [`ValidatedPush`] to [`Instance::build`](herald_plugin_api::Instance::build).
//!
//! `provider = "json"` is refused at its line: the webhook plugin with a `body`
//! template is herald's generic JSON call.
//!
//! The table is flat, with `provider` choosing which keys apply, so a key written for
//! the wrong provider is reported by name instead of as a generic serde error.

use std::fmt;
use std::time::Duration;

use herald_plugin_api::{expand_env, Env, Issues, PluginConfig, ValidateContext};
use herald_plugin_http::provider::{limits, removed_json_provider, secret, unused};
pub use herald_plugin_http::provider::{DEFAULT_MAX_CONCURRENCY, DEFAULT_TIMEOUT_SECS};
use reqwest::Url;
use serde::{Deserialize, Deserializer};

use crate::action::{check_topic, TopicRules};
use crate::service_account::ServiceAccount;
/// The public ntfy server, used when `url` is not set.
pub const NTFY_DEFAULT_URL: &str = "https://ntfy.sh";
/// FCM's API host, used when `api_base` is not set.
pub const FCM_API_BASE: &str = "https://fcm.googleapis.com";

/// Which service the instance sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushProvider {
    /// An ntfy server (ntfy.sh or self-hosted).
    Ntfy,
    /// Firebase Cloud Messaging, HTTP v1 API.
    Fcm,
}

/// `"ntfy"` or `"fcm"`; `"json"` is refused with a pointer to the webhook plugin, at
/// its line.
impl<'de> Deserialize<'de> for PushProvider {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "ntfy" => Ok(Self::Ntfy),
            "fcm" => Ok(Self::Fcm),
            "json" => Err(serde::de::Error::custom(removed_json_provider("push"))),
            other => Err(serde::de::Error::unknown_variant(other, &["ntfy", "fcm"])),
        }
    }
}

/// The raw `[plugins.push.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// `"ntfy"` or `"fcm"`.
    pub provider: PushProvider,
    /// ntfy: the server's URL (default `https://ntfy.sh`).
    pub url: Option<String>,
    /// ntfy: the topic published to when an action sets none.
    pub topic: Option<String>,
    /// ntfy: an access token sent as `Authorization: Bearer`, only as a `"${VAR}"` reference.
    pub token: Option<String>,
    /// fcm: the Firebase project id.
    pub project_id: Option<String>,
    /// fcm: the path of a service-account key file, usually
    /// `"${GOOGLE_APPLICATION_CREDENTIALS}"`; relative to the config file's folder.
    pub credentials: Option<String>,
    /// fcm, for tests only: a fixed OAuth2 access token, only as a `"${VAR}"` reference.
    /// It expires within the hour and is never renewed; use `credentials` in production.
    pub access_token: Option<String>,
    /// fcm: the API's base URL, for tests and proxies. Default `https://fcm.googleapis.com`.
    pub api_base: Option<String>,
    /// Seconds one request may take, connecting included. Default 10.
    pub timeout_secs: Option<u64>,
    /// Most requests in flight at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
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
    /// How requests are authorized.
    pub auth: FcmAuth,
}

/// How an FCM instance authorizes its requests.
#[derive(Clone)]
pub enum FcmAuth {
    /// `credentials`: tokens minted from the service account, renewed before they expire.
    ServiceAccount(ServiceAccount),
    /// `access_token`: one fixed token, for tests.
    Static(String),
}

/// The provider-specific part of a checked configuration.
#[derive(Debug, Clone)]
pub enum PushSettings {
    /// `provider = "ntfy"`.
    Ntfy(NtfySettings),
    /// `provider = "fcm"`.
    Fcm(FcmSettings),
}

/// A checked configuration: every value resolved, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone)]
pub struct ValidatedPush {
    /// The provider and its settings.
    pub provider: PushSettings,
    /// How long one request may take, connecting included.
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
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
            .field("auth", &self.auth)
            .finish()
    }
}

impl fmt::Debug for FcmAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServiceAccount(account) => {
                f.debug_tuple("ServiceAccount").field(account).finish()
            }
            Self::Static(_) => f.write_str("Static(<redacted>)"),
        }
    }
}

impl PluginConfig for PushConfig {
    const KIND: &'static str = "push";
    type Instance = ValidatedPush;

    /// Checks the table and resolves it. Messages never quote a secret.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedPush, Issues> {
        let mut issues = cx.issues();
        let provider = match self.provider {
            PushProvider::Ntfy => self.ntfy(cx.env, &mut issues).map(PushSettings::Ntfy),
            PushProvider::Fcm => self.fcm(cx, &mut issues).map(PushSettings::Fcm),
        };
        let (timeout, max_concurrency) =
            limits(self.timeout_secs, self.max_concurrency, &mut issues);
        issues.finish(|| {
            Some(ValidatedPush {
                provider: provider?,
                timeout,
                max_concurrency,
            })
        })
    }
}

impl PushConfig {
    fn ntfy(&self, env: &dyn Env, issues: &mut Issues) -> Option<NtfySettings> {
        unused(
            issues,
            "ntfy",
            &[
                ("project_id", self.project_id.is_some()),
                ("credentials", self.credentials.is_some()),
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

    fn fcm(&self, cx: &ValidateContext<'_>, issues: &mut Issues) -> Option<FcmSettings> {
        unused(
            issues,
            "fcm",
            &[
                ("url", self.url.is_some()),
                ("topic", self.topic.is_some()),
                ("token", self.token.is_some()),
            ],
        );
        let api_base = parse_url(self.api_base.as_deref().unwrap_or(FCM_API_BASE))
            .map_err(|message| issues.push("api_base", message))
            .ok();
        let auth = match (self.credentials.as_deref(), self.access_token.as_deref()) {
            (Some(raw), None) => key_file(raw, cx, issues).map(FcmAuth::ServiceAccount),
            (None, Some(raw)) => secret(raw, "access_token", cx.env, issues).map(FcmAuth::Static),
            (Some(_), Some(_)) => {
                issues.push(
                    "access_token",
                    "set either `credentials` (a service-account key file) or `access_token` \
                     (a fixed token, for tests only), not both",
                );
                None
            }
            (None, None) => {
                issues.push(
                    "credentials",
                    "is required: write `credentials = \"${GOOGLE_APPLICATION_CREDENTIALS}\"`, \
                     the path of the service account's JSON key file",
                );
                None
            }
        };
        let project_id = match self.project_id.as_deref().map(str::trim) {
            // A key file names its project; a fixed token does not.
            None | Some("") => match &auth {
                Some(FcmAuth::ServiceAccount(account)) => {
                    check_project_id(&account.project_id, "credentials", issues)
                }
                // The key file's problem is reported already; its project is unknown.
                None if self.credentials.is_some() => None,
                Some(FcmAuth::Static(_)) | None => {
                    issues.push("project_id", "is required: the Firebase project id");
                    None
                }
            },
            Some(id) => check_project_id(id, "project_id", issues),
        };
        Some(FcmSettings {
            api_base: api_base?,
            project_id: project_id?,
            auth: auth?,
        })
    }
}

/// A Firebase project id: lower-case letters, digits and `-`; anything else would
/// change the request path.
fn check_project_id(id: &str, field: &str, issues: &mut Issues) -> Option<String> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Some(id.to_owned());
    }
    issues.push(
        field,
        format!("`{id}` is not a Firebase project id (letters, digits and `-`)"),
    );
    None
}

/// `credentials`: `${VAR}` references expanded, taken from the config file's folder,
/// read and checked now so a bad file is reported at start-up with its path.
fn key_file(raw: &str, cx: &ValidateContext<'_>, issues: &mut Issues) -> Option<ServiceAccount> {
    let path = expand_env(raw, cx.env)
        .map_err(|err| issues.push("credentials", err.to_string()))
        .ok()?;
    let path = path.trim();
    if path.is_empty() {
        issues.push(
            "credentials",
            "is empty after expanding `${...}` references: set it to the key file's path",
        );
        return None;
    }
    ServiceAccount::load(&cx.base_dir.join(path))
        .map_err(|err| issues.push("credentials", err.to_string()))
        .ok()
}

/// A configured URL, checked; the example suits a push service.
fn parse_url(raw: &str) -> Result<Url, String> {
    herald_plugin_http::parse_url(raw, "https://ntfy.sh")
}
