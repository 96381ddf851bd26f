//! One email plugin instance's configuration: a `[plugins.email.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes an [`EmailConfig`],
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) checks it (pure,
//! so `herald check` can report every problem in one go) and hands the resulting
//! [`ValidatedEmail`] to [`Instance::build`](herald_plugin_api::Instance::build), which
//! does the I/O.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_plugin_api::{expand_env, Env, Issues, PluginConfig, ValidateContext};
use lettre::message::Mailbox;
use serde::Deserialize;

/// Folder the file transport writes into when `outbox` is not set.
pub const DEFAULT_OUTBOX: &str = "outbox";
/// Pooled SMTP connections when `pool_max_size` is not set.
pub const DEFAULT_POOL_MAX_SIZE: u32 = 4;
/// Seconds one SMTP delivery may take when `timeout_secs` is not set.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The raw `[plugins.email.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `"file"` (default; writes `.eml` files into `outbox`) or `"smtp"`.
    #[serde(default)]
    pub transport: TransportKind,
    /// Folder for the file transport, relative to the config file's folder. Default `"outbox"`.
    pub outbox: Option<String>,
    /// Sender, e.g. `"Example Shop <shop@example.com>"`. Required.
    pub from: String,
    /// Default `Reply-To` for every message; an action's own `reply_to` wins.
    pub reply_to: Option<String>,
    /// SMTP server host name (smtp only; required there).
    pub host: Option<String>,
    /// SMTP port (smtp only). Default 587 for starttls, 465 for tls, 25 for none.
    pub port: Option<u16>,
    /// `"starttls"` (default), `"tls"` (implicit TLS) or `"none"` (plain text; local relays only).
    #[serde(default)]
    pub security: Security,
    /// SMTP user name (smtp only); may hold `${VAR}` references.
    pub username: Option<String>,
    /// SMTP password (smtp only); may hold `${VAR}` references, and should.
    pub password: Option<String>,
    /// Most SMTP connections kept open at once (smtp only). Default 4.
    pub pool_max_size: Option<u32>,
    /// Seconds one SMTP delivery may take, connecting included (smtp only). Default 30.
    pub timeout_secs: Option<u64>,
}

/// How messages leave herald.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Write each message as an `.eml` file (development, audits).
    #[default]
    File,
    /// Send through an SMTP server.
    Smtp,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Connect in plain text, then require `STARTTLS` (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption at all (port 25); only for a relay on the same host or network.
    None,
}

impl Security {
    /// The port that goes with this security mode when `port` is not set.
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// A checked configuration: every value resolved, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone)]
pub struct ValidatedEmail {
    /// The `From` of every message.
    pub from: Mailbox,
    /// The default `Reply-To`, if configured.
    pub reply_to: Option<Mailbox>,
    /// Where messages go.
    pub transport: TransportSettings,
}

/// The resolved transport.
#[derive(Debug, Clone)]
pub enum TransportSettings {
    /// Write `.eml` files.
    File {
        /// The outbox folder, joined to the config file's folder.
        outbox: PathBuf,
    },
    /// Send through SMTP.
    Smtp(SmtpSettings),
}

/// The resolved SMTP connection settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Server host name.
    pub host: String,
    /// Server port (the security mode's default when not configured).
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// Login, with `${VAR}` references already expanded.
    pub credentials: Option<SmtpCredentials>,
    /// Most connections kept open at once.
    pub pool_max_size: u32,
    /// How long one delivery may take, connecting included.
    pub timeout: Duration,
}

/// An SMTP login. `Debug` hides the password so the settings can be logged.
#[derive(Clone)]
pub struct SmtpCredentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl PluginConfig for EmailConfig {
    const KIND: &'static str = "email";
    type Instance = ValidatedEmail;

    /// Checks the table and resolves it; relative paths are taken from the config
    /// file's folder, [`ValidateContext::base_dir`].
    ///
    /// Pure apart from `env` lookups, so it can run in `herald check` without side effects.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedEmail, Issues> {
        let mut issues = cx.issues();
        let from = parse_mailbox(&self.from, "from", &mut issues);
        let reply_to = self
            .reply_to
            .as_deref()
            .map(|value| parse_mailbox(value, "reply_to", &mut issues));
        let transport = match self.transport {
            TransportKind::File => self.validate_file(cx.base_dir, &mut issues),
            TransportKind::Smtp => self.validate_smtp(cx.env, &mut issues),
        };
        issues.finish(|| {
            Some(ValidatedEmail {
                from: from?,
                reply_to: reply_to.flatten(),
                transport: transport?,
            })
        })
    }
}

impl EmailConfig {
    fn validate_file(&self, base_dir: &Path, issues: &mut Issues) -> Option<TransportSettings> {
        let smtp_only = [
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("username", self.username.is_some()),
            ("password", self.password.is_some()),
            ("pool_max_size", self.pool_max_size.is_some()),
            ("timeout_secs", self.timeout_secs.is_some()),
        ];
        for (field, set) in smtp_only {
            if set {
                issues.push(
                    field,
                    "only used with transport = \"smtp\"; remove it or set transport = \"smtp\"",
                );
            }
        }
        let outbox = self.outbox.as_deref().unwrap_or(DEFAULT_OUTBOX);
        if outbox.trim().is_empty() {
            issues.push(
                "outbox",
                "must not be empty; leave it out to use \"outbox\"",
            );
            return None;
        }
        Some(TransportSettings::File {
            outbox: base_dir.join(outbox),
        })
    }

    fn validate_smtp(&self, env: &dyn Env, issues: &mut Issues) -> Option<TransportSettings> {
        if self.outbox.is_some() {
            issues.push(
                "outbox",
                "only used with transport = \"file\"; remove it or set transport = \"file\"",
            );
        }
        let host = match self.host.as_deref().map(str::trim) {
            None => {
                issues.push("host", "required when transport = \"smtp\"");
                None
            }
            Some(host) => check_host(host)
                .map_err(|message| issues.push("host", message))
                .ok(),
        };
        if self.port == Some(0) {
            issues.push("port", "must be between 1 and 65535");
        }
        if self.pool_max_size == Some(0) {
            issues.push("pool_max_size", "must be at least 1");
        }
        if self.timeout_secs == Some(0) {
            issues.push("timeout_secs", "must be at least 1");
        }
        let credentials = self.credentials(env, issues);
        Some(TransportSettings::Smtp(SmtpSettings {
            host: host?.to_owned(),
            port: self.port.unwrap_or(self.security.default_port()),
            security: self.security,
            credentials: credentials?,
            pool_max_size: self.pool_max_size.unwrap_or(DEFAULT_POOL_MAX_SIZE),
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        }))
    }

    /// The expanded login: `Some(None)` for no login, `None` when there were issues.
    fn credentials(&self, env: &dyn Env, issues: &mut Issues) -> Option<Option<SmtpCredentials>> {
        let mut expand = |field: &str, value: Option<&str>| -> Result<Option<String>, ()> {
            let Some(value) = value else { return Ok(None) };
            match expand_env(value, env) {
                Ok(expanded) if expanded.is_empty() => {
                    issues.push(field, "is empty after expanding `${...}` references");
                    Err(())
                }
                Ok(expanded) => Ok(Some(expanded)),
                Err(err) => {
                    issues.push(field, err.to_string());
                    Err(())
                }
            }
        };
        let username = expand("username", self.username.as_deref());
        let password = expand("password", self.password.as_deref());
        match (username.ok()?, password.ok()?) {
            (None, None) => Some(None),
            (Some(username), Some(password)) => Some(Some(SmtpCredentials { username, password })),
            (Some(_), None) => {
                issues.push("password", "required when `username` is set");
                None
            }
            (None, Some(_)) => {
                issues.push("username", "required when `password` is set");
                None
            }
        }
    }
}

/// Parses an address field, recording an issue at `field` when it does not parse.
fn parse_mailbox(value: &str, field: &str, issues: &mut Issues) -> Option<Mailbox> {
    match value.trim().parse::<Mailbox>() {
        Ok(mailbox) => Some(mailbox),
        Err(err) => {
            issues.push(
                field,
                format!(
                    "`{value}` is not a valid address ({err}); \
                     write \"Name <user@example.com>\" or \"user@example.com\""
                ),
            );
            None
        }
    }
}

/// Rejects host values that are really URLs or `host:port` pairs, a common slip.
fn check_host(host: &str) -> Result<&str, String> {
    if host.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let looks_like_url = host.contains("://");
    let has_port = host.contains(':') && host.parse::<Ipv6Addr>().is_err();
    if looks_like_url || has_port || host.contains(char::is_whitespace) {
        return Err(format!(
            "`{host}` is not a host name; write only the name (e.g. \"smtp.example.com\") \
             and put the port in `port`"
        ));
    }
    Ok(host)
}

#[cfg(test)]
mod tests;
