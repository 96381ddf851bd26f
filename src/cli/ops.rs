//! Operator commands: they open the database named by the config and act on it
//! directly, so they work whether or not `herald serve` is running.

use anyhow::{bail, Context};

use super::{progress, FilterArgs};
use crate::config::StoreConfig;
use crate::replay;
use crate::store::{JobFilter, JobSummary, Store};
use crate::Config;

/// Opens the config's database.
pub(super) async fn open(config: &StoreConfig) -> anyhow::Result<Store> {
    Store::connect(&config.database)
        .await
        .with_context(|| format!("cannot open database {}", config.database.display))
}

/// Parses RFC 3339 or Unix seconds into Unix milliseconds.
pub(super) fn parse_time(value: &str) -> anyhow::Result<i64> {
    if let Ok(secs) = value.parse::<i64>() {
        return Ok(secs.saturating_mul(1000));
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|time| time.timestamp_millis())
        .with_context(|| {
            format!("`{value}` is neither RFC 3339 (2026-11-23T10:00:00Z) nor Unix seconds")
        })
}

impl FilterArgs {
    fn is_empty(&self) -> bool {
        self.jobs.is_empty()
            && self.event.is_none()
            && self.rule.is_none()
            && self.plugin.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The store filter; `require` refuses an empty filter without `--all`.
    fn to_filter(&self, require: bool) -> anyhow::Result<JobFilter> {
        if require && self.is_empty() && !self.all {
            bail!("name what to act on (--job, --event, --rule, --plugin, --since, --until), or pass --all");
        }
        Ok(JobFilter {
            job_ids: (!self.jobs.is_empty()).then(|| self.jobs.clone()),
            event_id: self.event.clone(),
            rule: self.rule.clone(),
            plugin: self.plugin.clone(),
            since_ms: self.since.as_deref().map(parse_time).transpose()?,
            until_ms: self.until.as_deref().map(parse_time).transpose()?,
        })
    }
}

pub(super) fn format_ms(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
}

fn print_jobs(jobs: &[JobSummary]) {
    println!(
        "{:>8}  {:<19}  {:<28}  {:<20}  {:<14}  {:>8}  last error",
        "job", "dead at (UTC)", "event", "rule", "plugin", "attempts"
    );
    for job in jobs {
        println!(
            "{:>8}  {:<19}  {:<28}  {:<20}  {:<14}  {:>8}  {}",
            job.id,
            format_ms(job.dead_at_ms),
            job.event_id,
            job.rule,
            job.plugin,
            job.attempts,
            job.last_error.as_deref().unwrap_or("")
        );
    }
}

/// `herald dead-letters`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn dead_letters(
    config: &StoreConfig,
    args: &FilterArgs,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let store = open(config).await?;
    let jobs = store.dead_letters(&args.to_filter(false)?, limit).await?;
    if json {
        println!("{:#}", serde_json::json!({ "dead_letters": jobs }));
        return Ok(());
    }
    print_jobs(&jobs);
    println!(
        "{} dead letter{}",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// `herald replay`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn replay(config: &StoreConfig, args: &FilterArgs, dry_run: bool) -> anyhow::Result<()> {
    let store = open(config).await?;
    let filter = args.to_filter(true)?;
    // The bar's length is known once the matching jobs are read, at the first batch.
    let mut bar = progress::LazyBar::new("replaying");
    let mut progress = |done: usize, total: usize| bar.update(done, total);
    let report = replay::replay_dead_letters(&store, &filter, dry_run, &mut progress).await?;
    bar.finish();
    if report.dry_run {
        print_jobs(&report.jobs);
        println!("dry run: {} dead letters would be replayed", report.matched);
        return Ok(());
    }
    let mut by_plugin = std::collections::BTreeMap::<&str, usize>::new();
    for job in &report.jobs {
        *by_plugin.entry(job.plugin.as_str()).or_default() += 1;
    }
    let breakdown: Vec<String> = by_plugin.iter().map(|(p, n)| format!("{p}: {n}")).collect();
    println!(
        "replayed {} of {} matching dead letters{}",
        report.replayed,
        report.matched,
        if breakdown.is_empty() {
            String::new()
        } else {
            format!(" ({})", breakdown.join(", "))
        }
    );
    println!("a running `herald serve` delivers them within dispatch.poll_interval_ms");
    Ok(())
}

/// `herald redeliver`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn redeliver(config: &Config, source: &str, event_id: &str) -> anyhow::Result<()> {
    let store = open(&StoreConfig::from(config)).await?;
    let spinner = progress::spinner(format!("redelivering {source}/{event_id}"));
    let done = replay::redeliver_event(&store, &config.reloadable.rules, source, event_id).await;
    spinner.finish_and_clear();
    match done? {
        Some(done) => {
            println!(
                "event {source}/{event_id}: {} job(s) queued again, {} new job(s) for rules that match it now",
                done.requeued, done.added
            );
            Ok(())
        }
        None => bail!("no stored event {source}/{event_id}"),
    }
}

/// `herald purge`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn purge(config: &StoreConfig, args: &FilterArgs, yes: bool) -> anyhow::Result<()> {
    let store = open(config).await?;
    let filter = args.to_filter(true)?;
    if !yes {
        let jobs = store.dead_letters(&filter, usize::MAX).await?;
        print_jobs(&jobs);
        println!(
            "{} dead letters would be deleted for good; add --yes to do it",
            jobs.len()
        );
        return Ok(());
    }
    let purged = replay::purge_dead_letters(&store, &filter).await?;
    println!("purged {purged} dead letters and their attempts");
    Ok(())
}

/// `herald job`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn job(config: &StoreConfig, id: i64, json: bool) -> anyhow::Result<()> {
    let store = open(config).await?;
    let Some(job) = store.job(id).await? else {
        bail!("no job {id}");
    };
    if json {
        let attempts = store.attempts(id).await?;
        println!(
            "{:#}",
            serde_json::json!({ "job": job, "attempts": attempts })
        );
        return Ok(());
    }
    println!("job {}: {} ({})", job.id, job.status, job.idempotency_key);
    println!(
        "event {} ({}), rule {}, plugin {}",
        job.event_id, job.event_type, job.rule, job.plugin
    );
    match (&job.delivered_by, job.failovers) {
        (Some(by), 0) => println!("delivered by {by}"),
        (Some(by), n) => println!("delivered by {by}, fallback {n} of its action"),
        (None, 0) => {}
        (None, n) => println!("with fallback {n} of its action"),
    }
    for attempt in store.attempts(id).await? {
        println!(
            "  attempt {:>3}  {:<12}  {}  {:>6} ms  {:<9}  {}",
            attempt.attempt,
            attempt.plugin,
            format_ms(Some(attempt.started_at_ms)),
            attempt.finished_at_ms - attempt.started_at_ms,
            attempt.outcome,
            attempt.error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// `herald prune`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn prune(config: &StoreConfig) -> anyhow::Result<()> {
    let Some(retention) = config.retention else {
        println!("dispatch.retention_days is 0: nothing is pruned");
        return Ok(());
    };
    let store = open(config).await?;
    let cutoff = crate::clock::now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let spinner = progress::spinner(format!(
        "pruning events delivered before {}",
        format_ms(Some(cutoff))
    ));
    let pruned = store.prune_delivered(cutoff).await;
    spinner.finish_and_clear();
    let pruned = pruned?;
    println!(
        "pruned {} events, {} jobs, {} attempts delivered before {}",
        pruned.events,
        pruned.jobs,
        pruned.attempts,
        format_ms(Some(cutoff))
    );
    Ok(())
}

/// `herald orders show`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn orders(config: &StoreConfig, order_id: &str, json: bool) -> anyhow::Result<()> {
    use herald_plugin_orders::ledger::OrderLedger;

    let store = open(config).await?;
    let Some((state, facts)) = store.get(order_id).await? else {
        bail!("no order {order_id}: the orders plugin has seen no event for it");
    };
    if json {
        println!(
            "{:#}",
            serde_json::json!({ "order": state, "facts": facts })
        );
        return Ok(());
    }
    println!(
        "order {}: {}{} (decided by {} at {})",
        state.order_id,
        state.status,
        if state.on_hold { ", ON HOLD" } else { "" },
        state.decided_by,
        format_ms(Some(state.decided_at.saturating_mul(1000)))
    );
    for fact in facts {
        println!(
            "  {}  {:<32}  {:<28}  {}{}",
            format_ms(Some(fact.created.saturating_mul(1000))),
            fact.event_type,
            fact.event_id,
            fact.signal,
            fact.amount.map(|a| format!(" ({a})")).unwrap_or_default()
        );
    }
    Ok(())
}

/// `herald inventory`
///
/// # Errors
/// When the database cannot be opened or read, or the command\'s input is refused.
pub async fn inventory(
    config: &StoreConfig,
    sku: Option<&str>,
    adjust: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    use herald_plugin_inventory::ledger::{StockLedger, StockMove};

    let store = open(config).await?;
    if let (Some(sku), Some(delta)) = (sku, adjust) {
        let now = chrono::Utc::now();
        // A key of its own, so a manual adjustment is never mistaken for a job's.
        let key = format!(
            "manual:{}:{sku}:{}",
            now.timestamp_millis(),
            rand::random::<u32>()
        );
        let moves = [StockMove::new(sku, delta)];
        store.apply(&key, "manual", &moves).await?;
    }
    let levels = store.levels(sku).await?;
    if json {
        let levels: Vec<_> = levels
            .iter()
            .map(|(sku, quantity)| serde_json::json!({ "sku": sku, "quantity": quantity }))
            .collect();
        println!("{:#}", serde_json::json!({ "levels": levels }));
        return Ok(());
    }
    if levels.is_empty() {
        println!(
            "no stock recorded{}",
            sku.map(|s| format!(" for {s}")).unwrap_or_default()
        );
    }
    for (sku, quantity) in levels {
        println!("{sku:<32} {quantity:>8}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_rfc3339_or_unix_seconds() {
        assert_eq!(parse_time("1").unwrap(), 1000);
        assert_eq!(parse_time("1970-01-01T00:00:02Z").unwrap(), 2000);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn an_empty_filter_needs_all() {
        assert!(FilterArgs::default().to_filter(true).is_err());
        let all = FilterArgs {
            all: true,
            ..FilterArgs::default()
        };
        assert!(all.to_filter(true).is_ok());
        assert!(FilterArgs::default().to_filter(false).is_ok());
    }
}
