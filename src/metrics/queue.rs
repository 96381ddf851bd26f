//! The queue gauges (depth by state, oldest due job, dead letters), read from the
//! store when `/metrics` is scraped: one query pair per scrape at most every
//! [`FRESH_FOR`], concurrent scrapes sharing it (docs/decisions/0097).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tracing::warn;

use super::families::{Families, Plugin, Queued};
use crate::store::{QueueDepth, Store};

/// How long one reading serves: Prometheus servers scraping in pairs, or a
/// scrape interval of a second, still cost the database one reading.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// How long a scrape waits for the store before it answers with the last reading.
const QUERY_DEADLINE: Duration = Duration::from_secs(5);

/// The states `herald_queue_jobs` shows.
pub(super) const STATES: [&str; 3] = ["due", "retrying", "leased"];

/// When the gauges were last read, and which plugins they were written for.
#[derive(Debug, Default)]
pub(super) struct Reading {
    at: Option<Instant>,
    written: BTreeSet<String>,
}

/// Reads the queue from `store` at `now_ms` unless `reading` is fresh, and writes
/// the gauges: every plugin in `known` or in the queue gets a value; a plugin
/// gone from both since the last reading loses its series.
pub(super) async fn refresh(
    families: &Families,
    reading: &tokio::sync::Mutex<Reading>,
    known: BTreeSet<String>,
    store: &Store,
    now_ms: i64,
) {
    let mut reading = reading.lock().await;
    if reading.at.is_some_and(|at| at.elapsed() < FRESH_FOR) {
        return;
    }
    let depths = match tokio::time::timeout(QUERY_DEADLINE, store.queue_depth(now_ms)).await {
        Ok(Ok(depths)) => depths,
        Ok(Err(err)) => {
            warn!(error = %err, "cannot read the queue depth for /metrics; showing the last reading");
            return;
        }
        Err(_) => {
            warn!(deadline = ?QUERY_DEADLINE, "reading the queue depth for /metrics took too long; showing the last reading");
            return;
        }
    };
    let mut written = known;
    for plugin in &written {
        write(families, &QueueDepth::default(), plugin, now_ms);
    }
    for depth in &depths {
        write(families, depth, &depth.plugin, now_ms);
        written.insert(depth.plugin.clone());
    }
    for gone in reading.written.difference(&written) {
        forget(families, gone);
    }
    reading.written = written;
    reading.at = Some(Instant::now());
}

fn write(families: &Families, depth: &QueueDepth, plugin: &str, now_ms: i64) {
    for (state, count) in STATES
        .into_iter()
        .zip([depth.due, depth.retrying, depth.leased])
    {
        let labels = Queued {
            plugin: plugin.to_owned(),
            state,
        };
        families.queue.get_or_create(&labels).set(count);
    }
    let labels = Plugin {
        plugin: plugin.to_owned(),
    };
    #[allow(clippy::cast_precision_loss)] // ms to seconds: far below 2^52
    let age = depth
        .oldest_due_at_ms
        .map_or(0.0, |at| now_ms.saturating_sub(at).max(0) as f64 / 1000.0);
    families.oldest_due.get_or_create(&labels).set(age);
    families.dead_letters.get_or_create(&labels).set(depth.dead);
}

fn forget(families: &Families, plugin: &str) {
    for state in STATES {
        families.queue.remove(&Queued {
            plugin: plugin.to_owned(),
            state,
        });
    }
    let labels = Plugin {
        plugin: plugin.to_owned(),
    };
    families.oldest_due.remove(&labels);
    families.dead_letters.remove(&labels);
}
