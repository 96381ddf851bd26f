//! `herald events` and `herald event`: what was received, and what became of it.
//!
//! Tables for people, `--json` for scripts. The JSON shapes are documented in
//! docs/operations.md ("Events") and built here, field by field, so a change to
//! a store type does not silently change what scripts read.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use comfy_table::{presets, CellAlignment, Table};
use serde_json::{json, Value};

use super::ops::{format_ms, open, parse_time};
use crate::rules::EventPattern;
use crate::store::{EventDetail, EventFilter, EventJob, EventListing, EventStatus, JobCounts};
use crate::Config;

/// `herald events` options.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Events of this type, or a pattern as in a rule's `on`: `charge.*`.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Events about this order (the `metadata.order_id` herald normalized).
    #[arg(long = "order", value_name = "ORDER_ID")]
    pub order: Option<String>,
    /// Events in this state: dead if any job is dead, else pending while any job
    /// waits, else delivered (also when no rule matched, so there are no jobs).
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Received since this time: RFC 3339 (2026-11-23T10:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Show at most this many, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `herald event` options.
#[derive(Debug, Clone, Args)]
pub struct EventArgs {
    /// The provider's event id, e.g. evt_1R4Q….
    pub event_id: String,
    /// The source that received it.
    #[arg(long, default_value = "stripe")]
    pub source: String,
    /// Print the payload as received (pretty, keys in their order) and nothing else.
    #[arg(long, conflicts_with = "json")]
    pub payload: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// `--status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Pending,
    Delivered,
    Dead,
}

impl From<StatusArg> for EventStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Pending => Self::Pending,
            StatusArg::Delivered => Self::Delivered,
            StatusArg::Dead => Self::Dead,
        }
    }
}

impl EventsArgs {
    /// The store filter; a type pattern is checked as a rule's `on` is.
    fn to_filter(&self) -> anyhow::Result<EventFilter> {
        if let Some(kind) = &self.kind {
            EventPattern::parse(kind).context("--type")?;
        }
        Ok(EventFilter {
            kind: self.kind.clone(),
            order_id: self.order.clone(),
            status: self.status.map(EventStatus::from),
            since_ms: self.since.as_deref().map(parse_time).transpose()?,
            limit: self.limit,
        })
    }
}

/// `herald events`
///
/// # Errors
/// When the database cannot be opened or read, or an option is refused.
pub async fn list(config: &Config, args: &EventsArgs) -> anyhow::Result<()> {
    let filter = args.to_filter()?;
    let store = open(config).await?;
    let events = store.events(&filter).await?;
    if args.json {
        let events: Vec<Value> = events.iter().map(listing_json).collect();
        return emit(&format!("{:#}\n", json!({ "events": events })));
    }
    if events.is_empty() {
        return emit("no events match\n");
    }
    emit(&format!(
        "{}\n{} event{}, newest first{}\n",
        listing_table(&events).trim_fmt(),
        events.len(),
        if events.len() == 1 { "" } else { "s" },
        if events.len() == args.limit {
            format!(" (--limit {}: there may be more)", args.limit)
        } else {
            String::new()
        }
    ))
}

/// `herald event`
///
/// # Errors
/// When the database cannot be opened or read, or no such event is stored.
pub async fn show(config: &Config, args: &EventArgs) -> anyhow::Result<()> {
    let store = open(config).await?;
    let Some(detail) = store.event_detail(&args.source, &args.event_id).await? else {
        bail!("no stored event {}/{}", args.source, args.event_id);
    };
    if args.payload {
        emit(&format!("{}\n", pretty(detail.event.raw.text())?))
    } else if args.json {
        emit(&format!("{:#}\n", detail_json(&detail)?))
    } else {
        emit(&detail_text(&detail))
    }
}

/// Writes `text` to stdout; a reader that went away (`herald event … | head`) is
/// not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(err).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// A table without borders: one line per row, so it greps.
fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_header(header.to_vec());
    table
}

fn listing_table(events: &[EventListing]) -> Table {
    let mut table = table(&["received (UTC)", "event", "type", "order", "jobs", "status"]);
    for event in events {
        table.add_row(vec![
            format_ms(Some(event.received_at_ms)),
            event.event_id.clone(),
            event.kind.clone(),
            event.order_id.clone().unwrap_or_else(|| "-".to_owned()),
            jobs_text(event.jobs),
            event.status.to_string(),
        ]);
    }
    table
}

/// "2 delivered, 1 dead", or "no jobs" when no rule matched.
fn jobs_text(counts: JobCounts) -> String {
    let parts: Vec<String> = [
        (counts.delivered, "delivered"),
        (counts.pending, "pending"),
        (counts.dead, "dead"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, name)| format!("{n} {name}"))
    .collect();
    if parts.is_empty() {
        "no jobs".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The header block, the jobs and the attempts, as a person reads them.
fn detail_text(detail: &EventDetail) -> String {
    let event = &detail.event;
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mode = if event.livemode { "live" } else { "test" };
    let customer = [
        &event.customer.name,
        &event.customer.email,
        &event.customer.phone,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect::<Vec<_>>()
    .join(", ");
    let amount = match (event.amount, &event.currency) {
        (Some(amount), Some(currency)) => format!("{amount} {currency} (minor units)"),
        (Some(amount), None) => amount.to_string(),
        _ => "-".to_owned(),
    };
    let lines = [
        (
            "event",
            format!("{} ({}, {mode} mode)", event.id, event.source),
        ),
        ("type", event.kind.clone()),
        (
            "status",
            format!("{} ({})", detail.status(), jobs_text(detail.counts())),
        ),
        (
            "created",
            format!(
                "{} UTC",
                format_ms(Some(event.created.saturating_mul(1000)))
            ),
        ),
        (
            "received",
            format!("{} UTC", format_ms(Some(detail.received_at_ms))),
        ),
        ("order", or_dash(&event.order_id)),
        ("object", or_dash(&event.object_id)),
        (
            "customer",
            if customer.is_empty() {
                "-".to_owned()
            } else {
                customer
            },
        ),
        ("amount", amount),
    ];
    let mut text = String::new();
    for (label, value) in lines {
        let _ = writeln!(text, "{label:<9} {value}");
    }
    if detail.jobs.is_empty() {
        text.push_str("\nno jobs: no rule matched this event\n");
        return text;
    }
    let _ = write!(
        text,
        "\njobs\n{}\n\nattempts\n{}\n",
        jobs_table(&detail.jobs).trim_fmt(),
        attempts_table(&detail.jobs).trim_fmt()
    );
    text
}

fn jobs_table(jobs: &[EventJob]) -> Table {
    let mut table = table(&[
        "job",
        "rule",
        "plugin",
        "status",
        "attempts",
        "next run (UTC)",
        "last error",
    ]);
    for job in jobs {
        table.add_row(vec![
            job.id.to_string(),
            job.rule.clone(),
            job.plugin.clone(),
            job.status.to_string(),
            job.attempts.to_string(),
            format_ms(job.next_run_at_ms),
            job.last_error.clone().unwrap_or_default(),
        ]);
    }
    for column in [0, 4] {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn attempts_table(jobs: &[EventJob]) -> Table {
    let mut table = table(&[
        "job",
        "attempt",
        "started (UTC)",
        "took",
        "outcome",
        "reason",
    ]);
    let mut any = false;
    for job in jobs {
        for attempt in &job.history {
            any = true;
            table.add_row(vec![
                job.id.to_string(),
                attempt.attempt.to_string(),
                format_ms(Some(attempt.started_at_ms)),
                format!("{} ms", attempt.finished_at_ms - attempt.started_at_ms),
                attempt.outcome.clone(),
                attempt.error.clone().unwrap_or_default(),
            ]);
        }
    }
    if !any {
        table.add_row(vec!["-", "-", "-", "-", "none yet", ""]);
    }
    for column in [0, 1, 3] {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn counts_json(counts: JobCounts) -> Value {
    json!({ "pending": counts.pending, "delivered": counts.delivered, "dead": counts.dead })
}

fn listing_json(event: &EventListing) -> Value {
    json!({
        "id": event.event_id,
        "source": event.source,
        "type": event.kind,
        "order_id": event.order_id,
        "created": event.created,
        "received_at_ms": event.received_at_ms,
        "status": event.status.as_str(),
        "jobs": counts_json(event.jobs),
    })
}

fn detail_json(detail: &EventDetail) -> anyhow::Result<Value> {
    let event = &detail.event;
    let jobs: Vec<Value> = detail
        .jobs
        .iter()
        .map(|job| {
            let history: Vec<Value> = job
                .history
                .iter()
                .map(|a| {
                    json!({
                        "attempt": a.attempt,
                        "started_at_ms": a.started_at_ms,
                        "finished_at_ms": a.finished_at_ms,
                        "duration_ms": a.finished_at_ms - a.started_at_ms,
                        "outcome": a.outcome,
                        "error": a.error,
                    })
                })
                .collect();
            json!({
                "id": job.id,
                "rule": job.rule,
                "plugin": job.plugin,
                "status": job.status.as_str(),
                "attempts": job.attempts,
                "next_run_at_ms": job.next_run_at_ms,
                "last_error": job.last_error,
                "dead_at_ms": job.dead_at_ms,
                "history": history,
            })
        })
        .collect();
    Ok(json!({
        "event": {
            "id": event.id,
            "source": event.source,
            "type": event.kind,
            "created": event.created,
            "livemode": event.livemode,
            "object_id": event.object_id,
            "order_id": event.order_id,
            "customer": serde_json::to_value(&event.customer)?,
            "amount": event.amount,
            "currency": event.currency,
            "received_at_ms": detail.received_at_ms,
            "status": detail.status().as_str(),
            "jobs": counts_json(detail.counts()),
        },
        "jobs": jobs,
    }))
}

/// `text` (JSON) indented, its keys in the order they came: what Stripe sent, readable.
fn pretty(text: &str) -> anyhow::Result<String> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut deserializer, &mut serializer)
        .context("the stored payload is not JSON")?;
    String::from_utf8(out).context("the stored payload is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_read_as_counts_or_no_jobs() {
        let counts = JobCounts {
            pending: 0,
            delivered: 2,
            dead: 1,
        };
        assert_eq!(jobs_text(counts), "2 delivered, 1 dead");
        assert_eq!(jobs_text(JobCounts::default()), "no jobs");
    }

    #[test]
    fn a_payload_is_indented_in_its_own_key_order() {
        assert_eq!(
            pretty(r#"{"id":"evt_1","b":[1,{"a":null}]}"#).unwrap(),
            "{\n  \"id\": \"evt_1\",\n  \"b\": [\n    1,\n    {\n      \"a\": null\n    }\n  ]\n}"
        );
    }
}
