//! Reconciling with Stripe: the events Stripe could not deliver while herald was down
//! (or the endpoint misconfigured), fetched from Stripe's API and fed through the same
//! ingest path as a webhook: normalized, routed by the rules, stored with their jobs.
//! Events herald has are skipped, so a second run adds nothing. `herald reconcile`
//! runs it once; [`every`] runs it inside `serve`.

pub mod every;

use serde::Serialize;

use crate::rules::Rules;
use crate::source::stripe::{normalize, Verified};
use crate::store::{Planned, Store};
use crate::stripe_api::{EventsQuery, StripeApi};

/// What a reconcile found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Events Stripe listed.
    pub listed: usize,
    /// Of them, stored already.
    pub known: usize,
    /// Of them, stored now (or, in a dry run, that would be).
    pub added: usize,
    /// Jobs the rules planned for the added events.
    pub jobs: usize,
    /// Listed events that could not be read as Stripe events (left out).
    pub unreadable: usize,
    pub dry_run: bool,
}

/// Lists the events `query` asks for and stores the ones herald lacks, with the jobs
/// `rules` plan, received now; `progress` hears the count listed so far.
///
/// # Errors
/// When Stripe's API or the database fails; what was stored until then stays.
pub async fn reconcile(
    store: &Store,
    rules: &Rules,
    api: &StripeApi,
    query: &EventsQuery,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize) + Send),
) -> anyhow::Result<ReconcileReport> {
    let mut report = ReconcileReport {
        dry_run,
        ..ReconcileReport::default()
    };
    let mut after: Option<String> = None;
    loop {
        let page = api.events(query, after.as_deref()).await?;
        report.listed += page.events.len();
        let ids: Vec<String> = page
            .events
            .iter()
            .filter_map(|event| event.get("id")?.as_str().map(str::to_owned))
            .collect();
        let known = store.stored_event_ids("stripe", &ids).await?;
        for raw in &page.events {
            let id = raw
                .get("id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            if known.contains(id) {
                report.known += 1;
                continue;
            }
            let body = serde_json::to_vec(raw)?;
            let Ok(event) = normalize(Verified::local(&body)) else {
                report.unreadable += 1;
                continue;
            };
            let planned = Planned::of(rules, &event);
            report.added += 1;
            report.jobs += planned.jobs.len();
            if !dry_run {
                store
                    .ingest_planned(&event, planned, crate::clock::now_ms())
                    .await?;
            }
        }
        progress(report.listed);
        after = ids.last().cloned();
        if !page.has_more || after.is_none() {
            return Ok(report);
        }
    }
}
