//! The config file as written: serde types that mirror `config.toml` key for key.
//!
//! Every table denies unknown keys so a typo is reported at its own line. Values
//! that other parts refer to, or that hold `${VAR}` references, keep their
//! [`Spanned`] position so validation can name the line.

use std::net::SocketAddr;

use herald_plugin_api::RetryConfig;
use serde::Deserialize;
use toml::Spanned;

/// `[plugins.<kind>.<instance>]`, one map per kind, generated from the list of kinds.
pub use crate::plugins::PluginsConfig;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub dispatch: DispatchConfig,
    #[serde(default)]
    pub templates: TemplatesConfig,
    /// Free-form values every template sees under `shop`.
    #[serde(default)]
    pub shop: toml::Table,
    #[serde(default)]
    pub sources: SourcesConfig,
    #[serde(default)]
    pub plugins: PluginsConfig,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// `[[followups]]`: X, unless Y within T.
    #[serde(default)]
    pub followups: Vec<FollowupConfig>,
    /// `[[digests]]`: a summary of a period, sent on a schedule.
    #[serde(default)]
    pub digests: Vec<DigestConfig>,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// `[metrics]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// A listener of its own for `/metrics`; unset, the webhook listener serves it.
    pub listen: Option<SocketAddr>,
}

/// `[admin]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin API and console.
    pub listen: SocketAddr,
    /// The admin token, as a `${VAR}` reference; without it herald makes one at start.
    pub token: Option<Spanned<String>>,
    /// Every session cookie `Secure`, for TLS in front that sends no `X-Forwarded-Proto`.
    pub secure_cookie: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8788)),
            token: None,
            secure_cookie: false,
        }
    }
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address for webhooks, health and metrics.
    pub listen: SocketAddr,
    /// Largest webhook body accepted; Stripe events are a few KiB.
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered 503.
    pub request_timeout_secs: u64,
    /// Longest a request head may take to arrive (from the connection's start, or
    /// a kept-alive connection's first byte) before it is answered 408 and closed.
    pub header_read_timeout_secs: u64,
    /// Longest a request body may take to arrive, from the end of its head, before
    /// it is answered 408 and its connection closed.
    pub body_read_timeout_secs: u64,
    /// Longest a kept-alive connection may wait for its next request.
    pub idle_timeout_secs: u64,
    /// Connections open at once; unset: 4096, or less if the descriptor limit is lower.
    pub max_connections: Option<usize>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            max_connections: None,
        }
    }
}

/// `[database]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://herald.db` (relative to the config file) by default; may hold `${VAR}`.
    pub url: Option<Spanned<String>>,
}

/// `[dispatch]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchConfig {
    /// Run delivery workers in this process; `false` makes a receive-only replica.
    pub enabled: bool,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How often an idle worker looks for due jobs (new events wake it at once).
    pub poll_interval_ms: u64,
    /// How long the job of a worker that stopped (crashed, killed, cut off) waits
    /// before another takes it back; a live worker renews its leases every third
    /// of this, however long a delivery takes.
    pub lease_secs: u64,
    /// Attempts before a temporarily failing job becomes a dead letter.
    pub max_attempts: u32,
    /// How long after it was queued a job may still be retried.
    pub max_age_secs: u64,
    /// First retry delay ceiling, in seconds; doubles each attempt.
    pub backoff_base_secs: f64,
    /// Largest retry delay ceiling, in seconds.
    pub backoff_max_secs: f64,
    /// Consecutive temporary failures that open a destination's circuit breaker; 0 disables it.
    pub breaker_failures: u32,
    /// How long an open breaker holds that destination's jobs back before one probe.
    pub breaker_cooldown_secs: u64,
    /// Delivered events older than this many days are pruned with their jobs and
    /// attempts; 0 keeps everything. Dead letters are never pruned.
    pub retention_days: u64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            concurrency: 8,
            poll_interval_ms: 1000,
            lease_secs: 15,
            max_attempts: 10,
            max_age_secs: 3 * 24 * 3600,
            backoff_base_secs: 10.0,
            backoff_max_secs: 3600.0,
            breaker_failures: 5,
            breaker_cooldown_secs: 30,
            retention_days: 30,
        }
    }
}

/// `[templates]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// Folder of `*.hbs` files, relative to the config file.
    pub dir: String,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        Self {
            dir: "templates".to_owned(),
        }
    }
}

/// `[sources.*]`: the closed set of webhook providers herald understands.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    pub stripe: Option<StripeConfig>,
}

/// `[sources.stripe]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeConfig {
    /// The endpoint's signing secret (`whsec_…`), as a `${VAR}` reference.
    pub secret: Spanned<String>,
    /// How far a signature's timestamp may be from now, either way.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: u64,
    /// A secret or restricted key for Stripe's API (`herald reconcile`), as a
    /// `${VAR}` reference.
    pub api_key: Option<Spanned<String>>,
    /// Stripe's API; tests point it at a local fake.
    pub api_base: Option<Spanned<String>>,
    /// Most API requests a second.
    pub api_requests_per_second: Option<u32>,
    /// Take only live-mode (`true`) or only test-mode (`false`) events; both when unset.
    pub livemode: Option<bool>,
    /// Run `herald reconcile` inside `serve` this often (`15m`); needs `api_key`.
    pub reconcile_every: Option<Spanned<String>>,
}

fn default_tolerance() -> u64 {
    300
}

/// One `[[rules]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: Spanned<String>,
    pub on: Vec<Spanned<String>>,
    pub when: Option<Spanned<String>>,
    #[serde(default)]
    pub actions: Vec<Spanned<toml::Table>>,
    /// Retry overrides for this rule's jobs.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Dotted paths: one job per distinct set of their values, not per event.
    #[serde(default)]
    pub once_per: Vec<Spanned<String>>,
}

/// One `[[digests]]` entry: a summary of each period, sent once on a schedule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    pub name: Spanned<String>,
    /// Five-field cron, read in `timezone`: `"0 7 * * *"`.
    pub schedule: Spanned<String>,
    /// An IANA name; default `[shop] time_zone`.
    pub timezone: Option<Spanned<String>>,
    /// What a run covers: `day`, `week`, `month`, `since_last` (default).
    pub period: Option<Spanned<String>>,
    /// The plugin instance that sends it, and its `template` and `to`.
    pub plugin: Spanned<String>,
    pub template: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    /// Attach the period's money movements as CSV (an email plugin only).
    #[serde(default)]
    pub attach_csv: bool,
    #[serde(default)]
    pub retry: RetryConfig,
}

/// One `[[followups]]` entry: a rule whose actions wait for a deadline and run only
/// if no `unless` event about the same thing came first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowupConfig {
    pub name: Spanned<String>,
    /// The event types that start it.
    pub after: Vec<Spanned<String>>,
    /// A condition on the starting event.
    pub when: Option<Spanned<String>>,
    /// The event types that cancel it.
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
    /// A condition the cancelling event must meet too.
    pub unless_when: Option<Spanned<String>>,
    /// What the two events must share: `object` (default), `order`, `customer`,
    /// `subscription`.
    #[serde(rename = "match")]
    pub match_on: Option<Spanned<String>>,
    /// How long after the starting event was created: `3d`.
    pub within: Option<Spanned<String>>,
    /// A time the starting event holds, moved: `data.object.evidence_details.due_by - 3d`.
    pub deadline: Option<Spanned<String>>,
    #[serde(default)]
    pub actions: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    pub retry: RetryConfig,
}
