//! The work that runs beside the listeners and the dispatcher: herald's own alerts,
//! the digests, the scheduled reconcile and the thin-event fetcher.

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::Application;

impl Application {
    /// Starts each background task this config asks for, until `stop`.
    pub(super) fn spawn_background(&self, stop: &CancellationToken) {
        // Every replica reports the signature failures it refused and the breakers it
        // holds open, delivering or not; one at a time raises the alerts.
        let watch = crate::alerts::AlertWatch {
            store: self.store.clone(),
            live: self.live.clone(),
            metrics: self.metrics.clone(),
            wake: self.dispatcher.waker(),
        };
        tokio::spawn(watch.run_until_stopped(stop.clone()));
        if let Some(reconciler) = self.reconciler() {
            tokio::spawn(reconciler.run_until_stopped(stop.clone()));
        }
        if let Some(api) = self.dispatcher.stripe() {
            let fetcher = crate::thin::ThinFetcher {
                store: self.store.clone(),
                live: self.live.clone(),
                api,
                wake: self.wake_thin.clone(),
                wake_dispatcher: self.dispatcher.waker(),
            };
            tokio::spawn(fetcher.run_until_stopped(stop.clone()));
        }
        // Digests store events with their jobs (receiving), so they run whether or not
        // this process delivers; one replica at a time raises each.
        let digests = crate::digest::watch::DigestWatch {
            store: self.store.clone(),
            live: self.live.clone(),
            wake: self.dispatcher.waker(),
        };
        tokio::spawn(digests.run_until_stopped(stop.clone()));
    }
}

impl Application {
    /// The scheduled reconcile, when `[sources.stripe] reconcile_every` is set. It
    /// receives (stores events with their jobs), so it runs with or without
    /// `dispatch.enabled`.
    fn reconciler(&self) -> Option<crate::reconcile::every::Reconciler> {
        let config = &self.live.get().config;
        let every = config.restart.stripe.as_ref()?.reconcile_every?;
        let Some(api) = self.dispatcher.stripe() else {
            warn!("reconcile_every is set but Stripe's API client could not be built");
            return None;
        };
        Some(crate::reconcile::every::Reconciler {
            store: self.store.clone(),
            live: self.live.clone(),
            api,
            every,
            wake: self.dispatcher.waker(),
        })
    }
}
