//! Wires the stages together: build everything from a [`Config`], then run until told to stop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::admin::{self, auth::AdminAuth};
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::metrics::Metrics;
use crate::reload::{Live, Reloader, Snapshot};
use crate::server::listener::{self, ListenerSettings, Timeouts};
use crate::server::{self, AppState, Shared};
use crate::source::Sources;
use crate::store::{Store, StoreError};

mod background;

/// How long shutdown waits for deliveries in flight before giving up on them.
/// Their leases are renewed until the process exits; then a restart on SQLite
/// takes them back at once, and a PostgreSQL replica once this one's heartbeat
/// has been silent for `dispatch.lease_secs`. A drain that finishes gives back
/// this instance's leases and heartbeat itself (see `Dispatcher::run_until_stopped`).
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// Connections the admin listener keeps open at once: a few browsers and scripts
/// (a browser opens six per host), taken from the descriptors
/// [`listener::RESERVED_DESCRIPTORS`] keeps back.
const ADMIN_MAX_CONNECTIONS: usize = 64;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up plugin: {0}")]
    Plugin(#[from] herald_plugin_api::PluginError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built, bound, not yet running herald.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    admin_listener: TcpListener,
    admin_router: axum::Router,
    /// `[metrics] listen`'s listener and its router, when set.
    metrics_listener: Option<(TcpListener, axum::Router)>,
    /// The one-time login URL, when the admin token was made at start.
    admin_login_url: Option<String>,
    dispatcher: Dispatcher,
    store: Store,
    metrics: Arc<Metrics>,
    run_workers: bool,
    limits: ListenerSettings,
    /// The config in force and its plugins, which the reloader swaps.
    live: Live,
    /// Rung by the receiver when it kept a thin event.
    wake_thin: Arc<tokio::sync::Notify>,
}

impl Application {
    /// Binds the listeners, opens the database and builds the plugins.
    ///
    /// # Errors
    /// When any of those fails.
    pub async fn build(config: Config) -> Result<Self, BuildError> {
        let limits = listener_settings(&config);
        // The listeners first: a port already taken must not leave a new database
        // file and outbox folder behind.
        let bind = |addr| listener::bind(addr).map_err(|source| BuildError::Bind { addr, source });
        let listener = bind(config.restart.server.listen)?;
        let admin_listener = bind(config.restart.admin.listen)?;
        let metrics_listener = config.restart.metrics_listen.map(bind).transpose()?;
        let store = Store::connect(&config.restart.database).await?;
        let metrics = Arc::new(Metrics::default());
        metrics.know_refusals(&server::Refusal::REASONS);
        // What `herald check` would refuse still starts (the events must be received),
        // but is said loudly: in the log, `herald_config_problems` and the console.
        let problems = start_up_problems(&config);
        metrics.config_problems(problems.len());
        for problem in &problems {
            warn!("config problem: {problem}");
        }
        if !problems.is_empty() {
            warn!(
                problems = problems.len(),
                "herald check refuses this config: deliveries that use it will fail until it is fixed and reloaded"
            );
        }
        let live = Live::new(Snapshot::assemble(config.clone(), &store, problems).await?);
        metrics.know_plugins(live.get().plugins.names());
        for source in Sources::from(&config.restart).names() {
            metrics.know_source(
                source,
                config.reloadable.rules.event_types(),
                &server::ApiError::reasons(),
            );
        }
        let dispatcher = Dispatcher::new(
            store.clone(),
            live.clone(),
            config.restart.dispatch.clone(),
            metrics.clone(),
        );
        let wake_thin = Arc::new(tokio::sync::Notify::new());
        let state = AppState::new(Shared {
            store: store.clone(),
            live: live.clone(),
            sources: Sources::from(&config.restart),
            metrics: metrics.clone(),
            wake_dispatcher: dispatcher.waker(),
            wake_thin: wake_thin.clone(),
            body_limit: config.restart.server.body_limit_bytes,
        });
        if let Some(warning) = listener::exposure_warning(config.restart.server.listen) {
            warn!("{warning}");
        }
        let (auth, admin_login_url) = match &config.restart.admin.token {
            Some(token) => (AdminAuth::new(token), None),
            None => {
                // Validation allows this on loopback only. Nobody is told the token:
                // a browser signs in through a one-time link.
                let addr = admin_listener
                    .local_addr()
                    .map_err(|source| BuildError::Bind {
                        addr: config.restart.admin.listen,
                        source,
                    })?;
                let (auth, url) = AdminAuth::new(&admin::auth::make_token())
                    .with_one_time_link(format!("http://{addr}"), Some(login_link_file(&config)));
                (auth, Some(url))
            }
        };
        if !config.restart.admin.listen.ip().is_loopback() {
            warn!(
                "the admin API and console listen on {}, which other hosts can reach; \
                 put TLS in front of it (a reverse proxy), or firewall the port, unless that is intended",
                config.restart.admin.listen
            );
        }
        let admin_router = admin::router(
            state.clone(),
            Arc::new(auth.with_secure_cookie(config.restart.admin.secure_cookie)),
            &config.restart.server,
        );
        let metrics_listener = metrics_listener.map(|listener| {
            (
                listener,
                server::metrics_router(state.clone(), &config.restart.server),
            )
        });
        let router = server::router(state, &config.restart.server, metrics_listener.is_none());
        Ok(Self {
            listener,
            router,
            admin_listener,
            admin_router,
            metrics_listener,
            admin_login_url,
            dispatcher,
            store,
            metrics,
            run_workers: config.restart.dispatch.enabled,
            limits,
            live,
            wake_thin,
        })
    }

    /// The address actually bound (useful with port 0).
    ///
    /// # Errors
    /// When the OS cannot tell.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The admin listener's address (useful with port 0).
    ///
    /// # Errors
    /// When the OS cannot tell.
    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.admin_listener.local_addr()
    }

    /// The `[metrics] listen` listener's address, when one is set.
    ///
    /// # Errors
    /// When the OS cannot tell.
    pub fn metrics_addr(&self) -> std::io::Result<Option<SocketAddr>> {
        self.metrics_listener
            .as_ref()
            .map(|(listener, _)| listener.local_addr())
            .transpose()
    }

    /// The first one-time URL that signs a browser in, when no `[admin] token` is set;
    /// only the operator should see it (never the log). Later ones are in
    /// [`Application::admin_login_file`].
    pub fn admin_login_url(&self) -> Option<&str> {
        self.admin_login_url.as_deref()
    }

    /// The file that holds the current one-time sign-in URL, when no `[admin] token`
    /// is set.
    pub fn admin_login_file(&self) -> Option<PathBuf> {
        self.admin_login_url
            .as_ref()
            .map(|_| login_link_file(&self.live.get().config))
    }

    /// The dispatcher, for stepping it by hand (tests, `dispatch.enabled = false`).
    pub fn dispatcher(&self) -> Dispatcher {
        self.dispatcher.clone()
    }

    /// The store, for inspection.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// The metrics served at `/metrics`.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// A reloader of the config this herald was built from, reading `${VAR}`s
    /// from `env`; [`crate::reload::spawn`] runs it.
    pub fn reloader(&self, env: Arc<dyn herald_plugin_api::Env>) -> Reloader {
        Reloader::new(
            env,
            self.store.clone(),
            self.live.clone(),
            self.metrics.clone(),
            self.dispatcher.waker(),
        )
    }

    /// Serves and delivers until `stop` is cancelled, then stops accepting, lets
    /// requests and deliveries in flight finish, and returns.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> std::io::Result<()> {
        let workers = self.run_workers.then(|| {
            let dispatcher = self.dispatcher.clone();
            let stop = stop.clone();
            tokio::spawn(dispatcher.run_until_stopped(stop))
        });
        self.spawn_background(&stop);
        let serve = |listener, router, limits| {
            listener::serve(listener, router, limits, self.metrics.clone(), stop.clone())
        };
        // The same timeouts; a cap of its own, so the admin listener's connections
        // never take the descriptors the webhook listener's cap counts on.
        let admin_limits = ListenerSettings {
            max_connections: self.limits.max_connections.min(ADMIN_MAX_CONNECTIONS),
            ..self.limits
        };
        // All stop accepting on `stop`, and each lets its requests in flight finish.
        let metrics = async {
            match self.metrics_listener {
                // A scraper or two: the admin listener's small cap is plenty.
                Some((listener, router)) => serve(listener, router, admin_limits).await,
                None => Ok(()),
            }
        };
        let (webhooks, admin, metrics) = tokio::join!(
            serve(self.listener, self.router, self.limits),
            serve(self.admin_listener, self.admin_router, admin_limits),
            metrics,
        );
        // A server only returns early on an error; make sure the rest stops too.
        stop.cancel();
        if let Some(workers) = workers {
            info!("waiting for deliveries in flight");
            match tokio::time::timeout(DRAIN_DEADLINE, workers).await {
                Ok(_) => info!("deliveries drained"),
                Err(_) => warn!(
                    "deliveries still running after {DRAIN_DEADLINE:?}; they will be taken back and retried"
                ),
            }
        }
        webhooks.and(admin).and(metrics)
    }
}

/// Raises the descriptor limit and works out the connection limits from it.
fn listener_settings(config: &Config) -> ListenerSettings {
    let soft = listener::raise_descriptor_limit();
    let max_connections = config
        .restart
        .server
        .max_connections
        .unwrap_or_else(|| listener::default_max_connections(soft));
    if let Some(soft) = soft.filter(|&soft| max_connections > listener::room_for(soft)) {
        warn!(
            max_connections,
            open_file_limit = soft,
            "server.max_connections leaves fewer than {} descriptors for the database and plugins; \
             accept may fail with \"too many open files\"",
            listener::RESERVED_DESCRIPTORS
        );
    }
    info!(
        max_connections,
        open_file_limit = soft,
        header_read_timeout = ?config.restart.server.header_read_timeout,
        body_read_timeout = ?config.restart.server.body_read_timeout,
        idle_timeout = ?config.restart.server.idle_timeout,
        "connection limits"
    );
    ListenerSettings {
        timeouts: Timeouts {
            header: config.restart.server.header_read_timeout,
            idle: config.restart.server.idle_timeout,
            body: config.restart.server.body_read_timeout,
        },
        max_connections,
    }
}

/// Where the one-time sign-in URL is kept: systemd's `$STATE_DIRECTORY` (the unit's
/// `StateDirectory=`), else the config file's folder.
fn login_link_file(config: &Config) -> PathBuf {
    let state = std::env::var_os("STATE_DIRECTORY")
        .and_then(|dirs| std::env::split_paths(&dirs).next())
        .filter(|dir| !dir.as_os_str().is_empty());
    let dir = state.unwrap_or_else(|| {
        config
            .path
            .parent()
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_owned)
    });
    dir.join(".herald-login-url")
}

/// What `herald check` finds in `config` against the built-in samples, one entry each.
fn start_up_problems(config: &Config) -> Vec<String> {
    let report = crate::check::check(config, &crate::check::builtin());
    report
        .fields
        .iter()
        .map(ToString::to_string)
        .chain(report.problems.iter().map(ToString::to_string))
        .collect()
}
