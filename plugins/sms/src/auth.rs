//! How an sms instance authenticates to Twilio: an API key (`api_key_sid`, `SK…`, and
//! `api_key_secret`), which Twilio recommends for production, or the account's Auth
//! Token. Both are HTTP basic auth; the Account SID stays in the request path either way
//! (Twilio's "How to use the Twilio APIs", https://www.twilio.com/docs/api/rest).

use std::fmt;

use herald_plugin_api::{expand_env, Env, Issues};
use herald_plugin_http::provider::secret;

use crate::config::SmsConfig;

/// How requests to Twilio authenticate (HTTP basic auth either way).
#[derive(Clone, PartialEq, Eq)]
pub enum TwilioAuth {
    /// An API key: its SID (`SK…`) as the user name, its secret as the password.
    ApiKey {
        /// The key's SID.
        sid: String,
        /// The key's secret.
        secret: String,
    },
    /// The Account SID as the user name, the Auth Token as the password.
    AuthToken(String),
}

impl TwilioAuth {
    /// The basic-auth user name; the Account SID for an Auth Token.
    pub fn user<'a>(&'a self, account_sid: &'a str) -> &'a str {
        match self {
            Self::ApiKey { sid, .. } => sid,
            Self::AuthToken(_) => account_sid,
        }
    }

    /// The basic-auth password.
    pub fn password(&self) -> &str {
        match self {
            Self::ApiKey { secret, .. } => secret,
            Self::AuthToken(token) => token,
        }
    }
}

impl fmt::Debug for TwilioAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey { sid, .. } => f
                .debug_struct("ApiKey")
                .field("sid", sid)
                .field("secret", &"<redacted>")
                .finish(),
            Self::AuthToken(_) => f.write_str("AuthToken(<redacted>)"),
        }
    }
}

/// An API key (`api_key_sid` and `api_key_secret`) or the Auth Token, not both.
pub(crate) fn auth(config: &SmsConfig, env: &dyn Env, issues: &mut Issues) -> Option<TwilioAuth> {
    let key = (
        config.api_key_sid.as_deref(),
        config.api_key_secret.as_deref(),
    );
    match (config.auth_token.as_deref(), key) {
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            issues.push(
                "auth_token",
                "set either `auth_token` or `api_key_sid` with `api_key_secret`, not both",
            );
            None
        }
        (Some(raw), (None, None)) => {
            secret(raw, "auth_token", env, issues).map(TwilioAuth::AuthToken)
        }
        (None, (Some(sid), Some(raw))) => {
            let sid = api_key_sid(sid, env, issues);
            let secret = secret(raw, "api_key_secret", env, issues);
            Some(TwilioAuth::ApiKey {
                sid: sid?,
                secret: secret?,
            })
        }
        (None, (Some(_), None)) => {
            issues.push("api_key_secret", "is required with `api_key_sid`: write `api_key_secret = \"${TWILIO_API_KEY_SECRET}\"`");
            None
        }
        (None, (None, Some(_))) => {
            issues.push(
                "api_key_sid",
                "is required with `api_key_secret`: the key's SID, `SK…`",
            );
            None
        }
        (None, (None, None)) => {
            issues.push(
                "api_key_sid",
                "is required: an API key (`api_key_sid = \"${TWILIO_API_KEY_SID}\"` and \
                 `api_key_secret = \"${TWILIO_API_KEY_SECRET}\"`), or the account's \
                 `auth_token = \"${TWILIO_AUTH_TOKEN}\"`",
            );
            None
        }
    }
}

/// An API key's SID: `SK` and 32 hex digits, `${VAR}` references expanded.
fn api_key_sid(raw: &str, env: &dyn Env, issues: &mut Issues) -> Option<String> {
    let sid = expand_env(raw, env)
        .map_err(|err| issues.push("api_key_sid", err.to_string()))
        .ok()?;
    let sid = sid.trim();
    if is_sid(sid, "SK") {
        return Some(sid.to_owned());
    }
    let hint = if is_sid(sid, "AC") {
        "is an Account SID; an API key's SID starts with `SK` (Twilio console: API keys & tokens)"
    } else {
        "is not a Twilio API key SID (`SK` and 32 hex digits)"
    };
    // Not secret, but possibly a mistyped secret: don't quote it.
    issues.push("api_key_sid", hint);
    None
}

/// Whether `sid` is `prefix` and 32 hex digits, as Twilio's SIDs are.
pub(crate) fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.len() == 34 && sid.starts_with(prefix) && sid[2..].chars().all(|c| c.is_ascii_hexdigit())
}
