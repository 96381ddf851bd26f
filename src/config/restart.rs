//! [`RestartOnly`]: the settings read once at start-up. The listeners and their
//! limits are bound, the database is open, the workers and their breakers run, the
//! Stripe secret sits in the server's shared state, and admin sessions are signed
//! with the admin token. A reload reports a change to any of them and keeps the
//! running value.

use std::net::SocketAddr;
use std::time::Duration;

use herald_plugin_api::RetryConfig;
use secrecy::{ExposeSecret, SecretString};

/// Everything only a restart changes, compared as a whole by a reload.
#[derive(Clone)]
pub struct RestartOnly {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub dispatch: DispatchSettings,
    pub stripe: Option<StripeSettings>,
    pub admin: AdminSettings,
    /// `[metrics] listen`: where `/metrics` is served instead of the webhook listener.
    pub metrics_listen: Option<SocketAddr>,
}

/// Checked `[server]` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    /// A request body must arrive within this of its head's end.
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// `None`: worked out from the descriptor limit at start.
    pub max_connections: Option<usize>,
}

/// Checked `[database]` values.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// The connection URL with `${VAR}`s expanded and a relative SQLite path resolved.
    pub url: SecretString,
    /// What logs may show: the URL without credentials.
    pub display: String,
}

/// Checked `[dispatch]` values.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchSettings {
    pub enabled: bool,
    pub concurrency: usize,
    pub poll_interval: Duration,
    pub lease: Duration,
    /// The default retry policy, every field set.
    pub retry: RetryConfig,
    /// Consecutive temporary failures that open a breaker; 0 disables breakers.
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
    /// Delivered events older than this are pruned; `None` keeps everything.
    pub retention: Option<Duration>,
}

/// Checked `[sources.stripe]` values.
#[derive(Clone)]
pub struct StripeSettings {
    pub secret: SecretString,
    pub tolerance: Duration,
    /// Stripe's API, when a key is set.
    pub api: Option<StripeApiSettings>,
    /// Only live-mode (`true`) or only test-mode (`false`) events; both when `None`.
    pub livemode: Option<bool>,
    /// How often `serve` asks Stripe for the events it could not deliver; `None`: never.
    pub reconcile_every: Option<Duration>,
}

/// Checked `api_key`, `api_base` and `api_requests_per_second` of `[sources.stripe]`.
#[derive(Clone)]
pub struct StripeApiSettings {
    pub key: SecretString,
    pub base: reqwest::Url,
    pub per_second: u32,
}

/// Checked `[admin]` values.
#[derive(Clone)]
pub struct AdminSettings {
    /// Where the admin API and console listen, apart from the webhooks.
    pub listen: SocketAddr,
    /// `None`: herald makes one at start, which `[admin]` allows on loopback only.
    pub token: Option<SecretString>,
    /// Session cookies are always `Secure` (else only for `X-Forwarded-Proto: https`
    /// from a proxy on this host).
    pub secure_cookie: bool,
}

impl RestartOnly {
    /// The keys of the settings that differ in `new`, as the config file names them.
    ///
    /// Every field is taken apart by name, without `..`: a setting added to any of
    /// these types does not compile until it is compared here, so a reload cannot
    /// miss it.
    pub fn changed(&self, new: &Self) -> Vec<&'static str> {
        let Self {
            server,
            database,
            dispatch,
            stripe,
            admin,
            metrics_listen,
        } = self;
        let mut changed = server.changed(&new.server);
        let DatabaseSettings { url, display: _ } = database;
        if url.expose_secret() != new.database.url.expose_secret() {
            changed.push("database.url");
        }
        changed.extend(dispatch.changed(&new.dispatch));
        let secret = |stripe: &Option<StripeSettings>| {
            stripe.as_ref().map(
                |StripeSettings {
                     secret,
                     tolerance,
                     api,
                     livemode,
                     reconcile_every,
                 }| {
                    let api = api.as_ref().map(|api| {
                        (
                            api.key.expose_secret().to_owned(),
                            api.base.clone(),
                            api.per_second,
                        )
                    });
                    (
                        secret.expose_secret().to_owned(),
                        *tolerance,
                        api,
                        *livemode,
                        *reconcile_every,
                    )
                },
            )
        };
        if secret(stripe) != secret(&new.stripe) {
            changed.push("sources.stripe");
        }
        changed.extend(admin.changed(&new.admin));
        if *metrics_listen != new.metrics_listen {
            changed.push("metrics.listen");
        }
        changed
    }
}

impl ServerSettings {
    fn changed(&self, new: &Self) -> Vec<&'static str> {
        let Self {
            listen,
            body_limit_bytes,
            request_timeout,
            header_read_timeout,
            body_read_timeout,
            idle_timeout,
            max_connections,
        } = self;
        let keys = [
            ("server.listen", *listen != new.listen),
            (
                "server.body_limit_bytes",
                *body_limit_bytes != new.body_limit_bytes,
            ),
            (
                "server.request_timeout_secs",
                *request_timeout != new.request_timeout,
            ),
            (
                "server.header_read_timeout_secs",
                *header_read_timeout != new.header_read_timeout,
            ),
            (
                "server.body_read_timeout_secs",
                *body_read_timeout != new.body_read_timeout,
            ),
            (
                "server.idle_timeout_secs",
                *idle_timeout != new.idle_timeout,
            ),
            (
                "server.max_connections",
                *max_connections != new.max_connections,
            ),
        ];
        differing(keys)
    }
}

impl DispatchSettings {
    fn changed(&self, new: &Self) -> Vec<&'static str> {
        let Self {
            enabled,
            concurrency,
            poll_interval,
            lease,
            retry,
            breaker_failures,
            breaker_cooldown,
            retention,
        } = self;
        let keys = [
            ("dispatch.enabled", *enabled != new.enabled),
            ("dispatch.concurrency", *concurrency != new.concurrency),
            (
                "dispatch.poll_interval_ms",
                *poll_interval != new.poll_interval,
            ),
            ("dispatch.lease_secs", *lease != new.lease),
            (
                "dispatch.max_attempts/max_age_secs/backoff_*",
                *retry != new.retry,
            ),
            (
                "dispatch.breaker_failures",
                *breaker_failures != new.breaker_failures,
            ),
            (
                "dispatch.breaker_cooldown_secs",
                *breaker_cooldown != new.breaker_cooldown,
            ),
            ("dispatch.retention_days", *retention != new.retention),
        ];
        differing(keys)
    }
}

impl AdminSettings {
    fn changed(&self, new: &Self) -> Vec<&'static str> {
        let Self {
            listen,
            token,
            secure_cookie,
        } = self;
        let exposed =
            |token: &Option<SecretString>| token.as_ref().map(|t| t.expose_secret().to_owned());
        let keys = [
            ("admin.listen", *listen != new.listen),
            ("admin.token", exposed(token) != exposed(&new.token)),
            ("admin.secure_cookie", *secure_cookie != new.secure_cookie),
        ];
        differing(keys)
    }
}

/// The keys whose flag is set.
fn differing<const N: usize>(keys: [(&'static str, bool); N]) -> Vec<&'static str> {
    keys.into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(key, _)| key)
        .collect()
}
