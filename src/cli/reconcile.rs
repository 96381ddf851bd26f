//! `herald reconcile`: one run of [`crate::reconcile`], with a spinner and a summary.

use anyhow::bail;
use clap::Args;

use super::ops::{open, parse_time};
use super::progress;
use crate::config::StoreConfig;
use crate::reconcile::reconcile;
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

/// `herald reconcile`
///
/// # Errors
/// When no API key is configured, a time is refused, or Stripe or the database fails.
pub async fn run(config: &Config, args: &ReconcileArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let since = match (&args.since, &args.from) {
        (Some(span), _) => {
            let span = crate::config::parse_span(span)?;
            now.saturating_sub(i64::try_from(span.as_secs()).unwrap_or(i64::MAX))
        }
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
