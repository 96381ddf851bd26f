//! `herald backfill`: one rule's jobs for the events already stored.

use anyhow::anyhow;
use clap::Args;
use comfy_table::{presets, Table};

use super::ops::{format_ms, open, parse_time};
use super::progress;
use crate::backfill::{backfill, find_rule, BackfillReport, Window};
use crate::config::StoreConfig;
use crate::Config;

/// `herald backfill` options.
#[derive(Debug, Clone, Args)]
pub struct BackfillArgs {
    /// The rule to apply, as named in the config.
    #[arg(long)]
    pub rule: String,
    /// Events received since this time: RFC 3339 (2026-11-23T10:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Events received before this time: RFC 3339 or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// List the jobs it would queue, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `herald backfill`
///
/// # Errors
/// When the rule is not in the config, a time is refused, or the database cannot
/// be opened or written.
pub async fn run(config: &Config, args: &BackfillArgs) -> anyhow::Result<()> {
    let rule = find_rule(&config.reloadable.rules, &args.rule).map_err(|e| anyhow!(e))?;
    let window = Window {
        since_ms: args.since.as_deref().map(parse_time).transpose()?,
        until_ms: args.until.as_deref().map(parse_time).transpose()?,
    };
    let store = open(&StoreConfig::from(config)).await?;
    // The number of events to read is not known up front: a spinner with the count.
    let spinner = progress::spinner("backfilling: 0 events read".to_owned());
    let mut report_progress = |scanned: usize| {
        spinner.set_message(format!("backfilling: {scanned} events read"));
    };
    let report = backfill(&store, rule, window, args.dry_run, &mut report_progress).await;
    spinner.finish_and_clear();
    let report = report?;
    if args.json {
        println!("{:#}", serde_json::to_value(&report)?);
        return Ok(());
    }
    if !report.jobs.is_empty() {
        println!("{}", jobs_table(&report).trim_fmt());
    }
    println!("{}", summary(&report));
    if !report.dry_run && !report.jobs.is_empty() {
        println!("a running `herald serve` delivers them within dispatch.poll_interval_ms");
    }
    Ok(())
}

/// One line per job, without borders, so it greps.
fn jobs_table(report: &BackfillReport) -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_header(vec![
        "event",
        "type",
        "received (UTC)",
        "rule",
        "plugin",
        "idempotency key",
    ]);
    for job in &report.jobs {
        table.add_row(vec![
            job.event_id.clone(),
            job.event_type.clone(),
            format_ms(Some(job.received_at_ms)),
            job.rule.clone(),
            job.plugin.clone(),
            job.idempotency_key.clone(),
        ]);
    }
    table
}

/// "backfilled 3 jobs for 2 events; 1 already had them (5 events read, 3 matched)".
fn summary(report: &BackfillReport) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}{} for {}; {} already had them ({} read, {} matched rule {})",
        if report.dry_run {
            "dry run: would backfill "
        } else {
            "backfilled "
        },
        plural(report.jobs.len(), "job"),
        plural(report.events, "event"),
        report.already,
        plural(report.scanned, "event"),
        report.matched,
        report.rule
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_jobs_events_and_those_done_before() {
        let report = BackfillReport {
            rule: "refund_mail".to_owned(),
            scanned: 5,
            matched: 3,
            events: 1,
            already: 2,
            ..BackfillReport::default()
        };
        assert_eq!(
            summary(&report),
            "backfilled 0 jobs for 1 event; 2 already had them (5 events read, 3 matched rule refund_mail)"
        );
    }
}
