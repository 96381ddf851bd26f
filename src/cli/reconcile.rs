//! `herald reconcile`: the events Stripe could not deliver while herald was down (or
//! the endpoint misconfigured), fetched from Stripe's API and fed through the same
//! ingest path as a webhook: normalized, routed by the rules, stored with their jobs.
//! Events herald has are skipped, so a second run adds nothing.

use anyhow::{anyhow, bail};
use clap::Args;
use serde::Serialize;

use super::ops::{open, parse_time};
use super::progress;
use crate::config::StoreConfig;
use crate::rules::Rules;
use crate::source::stripe::{normalize, Verified};
use crate::store::{NewJob, Store};
use crate::stripe_api::{EventsQuery, StripeApi};
use crate::Config;

/// How far back Stripe keeps events.
const STRIPE_KEEPS_DAYS: i64 = 30;

/// `herald reconcile` options.
#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// Events created in this last stretch of time: 90m, 6h, 2d (Stripe keeps 30 days).
    #[arg(
        long,
        value_name = "DURATION",
        conflicts_with = "from",
        required_unless_present = "from"
    )]
    pub since: Option<String>,
    /// Events created since this time: RFC 3339 or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Every event, not only those whose delivery to an endpoint failed.
    #[arg(long)]
    pub all: bool,
    /// Count what would be added, add nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

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
    progress: &mut dyn FnMut(usize),
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
            let jobs: Vec<NewJob> = rules.plan(&event).iter().map(NewJob::from).collect();
            report.added += 1;
            report.jobs += jobs.len();
            if !dry_run {
                store.ingest(&event, jobs, crate::clock::now_ms()).await?;
            }
        }
        progress(report.listed);
        after = ids.last().cloned();
        if !page.has_more || after.is_none() {
            return Ok(report);
        }
    }
}

/// `herald reconcile`
///
/// # Errors
/// When no API key is configured, a time is refused, or Stripe or the database fails.
pub async fn run(config: &Config, args: &ReconcileArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let since = match (&args.since, &args.from) {
        (Some(span), _) => now.saturating_sub(parse_span(span)?),
        (None, Some(time)) => parse_time(time)? / 1000,
        (None, None) => bail!("say how far back: --since 6h or --from 2026-12-01T00:00:00Z"),
    };
    if now.saturating_sub(since) > STRIPE_KEEPS_DAYS * 86_400 {
        eprintln!("note: Stripe keeps events for 30 days; older ones cannot be fetched");
    }
    let api = StripeApi::configured(&config.restart)?;
    let store = open(&StoreConfig::from(config)).await?;
    let spinner = progress::spinner("reconciling: 0 events listed".to_owned());
    let mut report_progress = |listed: usize| {
        spinner.set_message(format!("reconciling: {listed} events listed"));
    };
    let query = EventsQuery {
        since,
        all: args.all,
    };
    let rules = &config.reloadable.rules;
    let report = reconcile(
        &store,
        rules,
        &api,
        &query,
        args.dry_run,
        &mut report_progress,
    )
    .await;
    spinner.finish_and_clear();
    let report = report?;
    if args.json {
        println!("{:#}", serde_json::to_value(report)?);
        return Ok(());
    }
    let verb = if args.dry_run {
        "would be stored"
    } else {
        "stored"
    };
    println!(
        "{} events listed: {} stored already, {} {verb} with {} jobs{}",
        report.listed,
        report.known,
        report.added,
        report.jobs,
        if report.unreadable > 0 {
            format!(", {} could not be read", report.unreadable)
        } else {
            String::new()
        }
    );
    if !args.dry_run && report.jobs > 0 {
        println!("a running `herald serve` delivers them within dispatch.poll_interval_ms");
    }
    Ok(())
}

/// `90s`, `15m`, `6h`, `2d` in seconds.
fn parse_span(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| anyhow!("`{text}` is not a duration: write 90s, 15m, 6h or 2d"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => bail!("`{text}` is not a duration: write 90s, 15m, 6h or 2d"),
    };
    Ok(number.saturating_mul(unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_seconds_minutes_hours_days() {
        assert_eq!(parse_span("90s").unwrap(), 90);
        assert_eq!(parse_span("15m").unwrap(), 900);
        assert_eq!(parse_span("6h").unwrap(), 21_600);
        assert_eq!(parse_span("2d").unwrap(), 172_800);
        for bad in ["", "h", "6", "6w", "-h", "1.5h"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }
}
