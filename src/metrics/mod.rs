//! What herald counts and measures, served at `/metrics` in the Prometheus text
//! format through `prometheus-client`.
//!
//! Every family is registered at start, and the series of every known label value
//! (each configured plugin instance, each webhook source, every outcome and
//! reason) are created then, so a rate or an alert has a series from the first
//! scrape. The queue gauges are read from the store at scrape time (`queue`).
//! A recording takes the family's shared lock and an atomic add: no lock is held
//! across all metrics, as the map behind `incr` once was.

mod families;
mod queue;
mod reading;
mod signals;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use prometheus_client::registry::Registry;

use self::families::{
    create, Delivered, Families, Outcome, Plugin, Reason, Received, Rejected, Source,
};
pub use self::signals::Signals;
use crate::store::Store;

/// Event types `herald_webhooks_received_total` keeps a series of its own for; later
/// new types count under [`OTHER_TYPE`]. Stripe has some 250 types, so a shop never
/// meets the cap; it bounds what a sender of made-up types could make `/metrics` hold.
pub const MAX_TYPE_SERIES: usize = 300;

/// The `type` label of the types past [`MAX_TYPE_SERIES`].
pub const OTHER_TYPE: &str = "other";

/// Outcomes of a delivery attempt, as `herald_deliveries_total` labels them.
pub const DELIVERY_OUTCOMES: [&str; 5] = ["delivered", "retry", "failed", "exhausted", "held"];

/// Process-wide metrics, passed to whoever records (never a global).
pub struct Metrics {
    registry: Registry,
    families: Families,
    /// Plugin instances configured now, whose queue series exist even when empty.
    plugins: Mutex<BTreeSet<String>>,
    /// Event types with a series of their own (at most [`MAX_TYPE_SERIES`]).
    types: RwLock<HashSet<String>>,
    queue: tokio::sync::Mutex<queue::Reading>,
    /// What herald's own alerts add up across replicas.
    pub signals: Signals,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let families = Families::register(&mut registry);
        for reason in ["idle_timeout", "displaced"] {
            create(&families.closed, &Reason { reason });
        }
        create(
            &families.rejected,
            &Rejected {
                source: "unknown".to_owned(),
                reason: "unknown_source",
            },
        );
        for outcome in ["ok", "failed"] {
            create(&families.reloads, &Outcome { outcome });
        }
        let metrics = Self {
            registry,
            families,
            plugins: Mutex::default(),
            types: RwLock::default(),
            queue: tokio::sync::Mutex::default(),
            signals: Signals::default(),
        };
        metrics.config_loaded();
        metrics
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates the series of every reason a listener refuses a connection or a
    /// request for (`server::Refusal::REASONS`), so they exist before the first.
    pub fn know_refusals(&self, reasons: &[&'static str]) {
        for &reason in reasons {
            create(&self.families.refusals, &Reason { reason });
        }
    }

    /// Creates the series of webhook source `source`, whose rules name `types` and
    /// whose webhooks can be refused for `reasons` (`server::ApiError::REASONS`).
    pub fn know_source<'a>(
        &self,
        source: &str,
        types: impl IntoIterator<Item = &'a str>,
        reasons: &[&'static str],
    ) {
        let f = &self.families;
        create(
            &f.ack_seconds,
            &Source {
                source: source.to_owned(),
            },
        );
        for &reason in reasons {
            create(
                &f.rejected,
                &Rejected {
                    source: source.to_owned(),
                    reason,
                },
            );
        }
        for kind in types {
            let kind = self.type_label(kind);
            for outcome in ["stored", "duplicate"] {
                create(
                    &f.received,
                    &Received {
                        source: source.to_owned(),
                        r#type: kind.to_owned(),
                        outcome,
                    },
                );
            }
        }
    }

    /// Creates the series of plugin instances `names` (at start, and after a
    /// reload for the instances it adds).
    pub fn know_plugins<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let f = &self.families;
        let mut known = self
            .plugins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.clear();
        for name in names {
            known.insert(name.to_owned());
            let plugin = Plugin {
                plugin: name.to_owned(),
            };
            for outcome in DELIVERY_OUTCOMES {
                create(
                    &f.deliveries,
                    &Delivered {
                        plugin: name.to_owned(),
                        outcome,
                    },
                );
            }
            create(&f.delivery_seconds, &plugin);
            create(&f.to_delivery_seconds, &plugin);
            create(&f.held, &plugin);
            create(&f.deferred, &plugin);
            create(&f.breaker_open, &plugin);
            for state in queue::STATES {
                create(
                    &f.queue,
                    &families::Queued {
                        plugin: name.to_owned(),
                        state,
                    },
                );
            }
            create(&f.oldest_due, &plugin);
            create(&f.dead_letters, &plugin);
        }
    }

    /// `kind` as the `type` label: itself while there is room for its series, else
    /// [`OTHER_TYPE`].
    fn type_label<'k>(&self, kind: &'k str) -> &'k str {
        let known = |types: &HashSet<String>| types.contains(kind);
        if known(
            &self
                .types
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ) {
            return kind;
        }
        let mut types = self
            .types
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if types.len() < MAX_TYPE_SERIES {
            types.insert(kind.to_owned());
        }
        if known(&types) {
            kind
        } else {
            OTHER_TYPE
        }
    }

    /// A webhook from `source` of type `kind` was acknowledged.
    pub fn webhook_received(&self, source: &str, kind: &str, duplicate: bool) {
        let labels = Received {
            source: source.to_owned(),
            r#type: self.type_label(kind).to_owned(),
            outcome: if duplicate { "duplicate" } else { "stored" },
        };
        self.families.received.get_or_create(&labels).inc();
    }

    /// A webhook from `source` was refused for `reason` (an `ApiError` reason).
    pub fn webhook_rejected(&self, source: &str, reason: &'static str) {
        let labels = Rejected {
            source: source.to_owned(),
            reason,
        };
        self.families.rejected.get_or_create(&labels).inc();
    }

    /// herald answered a webhook of `source` after `took`.
    pub fn webhook_answered(&self, source: &str, took: Duration) {
        let labels = Source {
            source: source.to_owned(),
        };
        let histogram = self.families.ack_seconds.get_or_create(&labels);
        histogram.observe(took.as_secs_f64());
    }

    /// A connection or request was refused before a handler, for `reason`.
    pub fn refused(&self, reason: &'static str) {
        self.families
            .refusals
            .get_or_create(&Reason { reason })
            .inc();
    }

    /// herald closed a connection on its own, for `reason`.
    pub fn connection_closed(&self, reason: &'static str) {
        self.families.closed.get_or_create(&Reason { reason }).inc();
    }

    /// An attempt for `plugin` came to `outcome` (one of [`DELIVERY_OUTCOMES`])
    /// after `took`; `queued_for` is the time since the job was queued, for a
    /// delivered one.
    pub fn delivery(
        &self,
        plugin: &str,
        outcome: &'static str,
        took: Duration,
        queued_for: Option<Duration>,
    ) {
        let f = &self.families;
        let labels = Delivered {
            plugin: plugin.to_owned(),
            outcome,
        };
        f.deliveries.get_or_create(&labels).inc();
        let labels = Plugin {
            plugin: labels.plugin,
        };
        f.delivery_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if let Some(queued_for) = queued_for {
            f.to_delivery_seconds
                .get_or_create(&labels)
                .observe(queued_for.as_secs_f64());
        }
    }

    /// A job for `plugin` was put back because its breaker was open.
    pub fn delivery_held(&self, plugin: &str) {
        let labels = Plugin {
            plugin: plugin.to_owned(),
        };
        self.families.held.get_or_create(&labels).inc();
    }

    /// A job for `plugin`, which is not configured, was looked at and put back.
    pub fn delivery_deferred(&self, plugin: &str) {
        let labels = Plugin {
            plugin: plugin.to_owned(),
        };
        self.families.deferred.get_or_create(&labels).inc();
    }

    /// A job for `plugin` was handed over to its fallback `to`.
    pub fn failed_over(&self, plugin: &str, to: &str) {
        let labels = families::FailedOver {
            plugin: plugin.to_owned(),
            to: to.to_owned(),
        };
        self.families.failovers.get_or_create(&labels).inc();
    }

    /// A job of `rule` for `plugin` was skipped: the rule no longer held.
    pub fn job_skipped(&self, plugin: &str, rule: &str) {
        let labels = families::Skipped {
            plugin: plugin.to_owned(),
            rule: rule.to_owned(),
        };
        self.families.skipped.get_or_create(&labels).inc();
    }

    /// `jobs` leases were taken back from workers that stopped.
    pub fn leases_taken_back(&self, jobs: u64) {
        self.families.taken_back.inc_by(jobs);
    }

    /// `plugin`'s circuit breaker opened (`true`) or closed again.
    pub fn breaker(&self, plugin: &str, open: bool) {
        self.signals.breaker(plugin, open);
        let labels = Plugin {
            plugin: plugin.to_owned(),
        };
        self.families
            .breaker_open
            .get_or_create(&labels)
            .set(i64::from(open));
    }

    /// The config in force was loaded now (start-up or a good reload).
    pub fn config_loaded(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.families.last_reload.set(now);
    }

    /// `count` problems in the config in force (see [`crate::check`]).
    pub fn config_problems(&self, count: usize) {
        self.families
            .config_problems
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// A reload was put in force (`ok`) or refused.
    pub fn reloaded(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.families
            .reloads
            .get_or_create(&Outcome { outcome })
            .inc();
        if ok {
            self.config_loaded();
        }
    }

    /// Reads the queue gauges from `store`, unless a scrape just did.
    pub async fn refresh_queue(&self, store: &Store) {
        let known = self
            .plugins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        queue::refresh(
            &self.families,
            &self.queue,
            known,
            store,
            crate::clock::now_ms(),
        )
        .await;
    }

    /// Every series in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String fails only if an encoder does, and none of ours does.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests;
