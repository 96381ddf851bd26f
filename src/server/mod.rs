//! The public HTTP surface: webhooks in, health and metrics out. The admin API
//! and console listen apart, in [`crate::admin`].

mod error;
mod health;
pub mod listener;
mod refusal;
mod timeout;
mod webhooks;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

pub use self::error::ApiError;
pub use self::refusal::{Refusal, REFUSALS_METRIC};
use crate::config::ServerSettings;
use crate::metrics::Metrics;
use crate::reload::Live;
use crate::source::Sources;
use crate::store::Store;

/// What every handler shares, behind one `Arc`.
///
/// axum hands each request its own clone of the state. A clone of the fields
/// themselves cost a handful of atomic counts and two heap copies of secrets
/// (zeroized again on drop), which showed in profiles at full load; this clone is
/// one count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Shares `shared` between the handlers.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    /// Where a webhook is persisted before it is acknowledged.
    pub store: Store,
    /// The config in force and its plugins (the rules webhooks are planned with,
    /// what the admin API and console show); a reload swaps them.
    pub live: Live,
    /// The webhook sources set up; a restart changes them.
    pub sources: Sources,
    /// The counters `/metrics` exposes.
    pub metrics: Arc<Metrics>,
    /// Rung when a webhook queued jobs, so the dispatcher need not wait for its poll.
    pub wake_dispatcher: Arc<Notify>,
    /// Rung when a thin event was kept, so its object is fetched now.
    pub wake_thin: Arc<Notify>,
    /// The largest webhook body accepted, in bytes.
    pub body_limit: usize,
}

/// The webhook listener's router with its layers; it serves `/metrics` too unless
/// `with_metrics` is false (`[metrics] listen` gives them a listener of their own).
pub fn router(state: AppState, settings: &ServerSettings, with_metrics: bool) -> Router {
    let webhooks = Router::new()
        .route("/webhooks/{source}", post(webhooks::receive))
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes));
    let mut router = Router::new()
        .merge(webhooks)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if with_metrics {
        router = router.route("/metrics", get(health::metrics));
    }
    let metrics = state.metrics.clone();
    with_common_layers(router.with_state(state), settings, metrics)
}

/// The router of the `[metrics] listen` listener: `/metrics` alone.
pub fn metrics_router(state: AppState, settings: &ServerSettings) -> Router {
    let metrics = state.metrics.clone();
    let router = Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state);
    with_common_layers(router, settings, metrics)
}

/// What both listeners' routers wrap themselves in: the request deadline and tracing.
pub(crate) fn with_common_layers(
    router: Router,
    settings: &ServerSettings,
    metrics: Arc<Metrics>,
) -> Router {
    router
        .layer(middleware::from_fn_with_state(
            timeout::Deadline {
                limit: settings.request_timeout,
                metrics,
            },
            timeout::request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
}
