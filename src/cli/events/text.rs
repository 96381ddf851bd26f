//! The tables and the header block a person reads.

use crate::stripe_api::STRIPE_VERSION;
use std::fmt::Write as _;

use comfy_table::{presets, CellAlignment, Table};

use super::super::ops::format_ms;
use crate::store::{EventDetail, EventJob, EventListing, JobCounts};

/// A table without borders: one line per row, so it greps.
fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_header(header.to_vec());
    table
}

pub(super) fn listing_table(events: &[EventListing]) -> Table {
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
        (counts.skipped, "skipped"),
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

/// The event's API version, and the one herald reads when they differ; an event
/// stored before herald recorded it has it in its payload.
fn api_version(event: &herald_plugin_api::Event) -> String {
    let version = event.api_version.clone().or_else(|| {
        event
            .raw
            .value()
            .get("api_version")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    });
    match version {
        Some(version) if event.source == "stripe" && version != STRIPE_VERSION => {
            format!("{version} (herald reads {STRIPE_VERSION})")
        }
        Some(version) => version,
        None => "-".to_owned(),
    }
}

/// The header block, the jobs and the attempts, as a person reads them.
pub(super) fn detail_text(detail: &EventDetail) -> String {
    let event = &detail.event;
    let resolved = &detail.resolved;
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mode = if event.livemode { "live" } else { "test" };
    let customer_id = found(
        &event.customer.id,
        &resolved.customer_id,
        &resolved.customer_via,
    );
    let customer = [
        &event.customer.name,
        &event.customer.email,
        &event.customer.phone,
        &(customer_id != "-").then_some(customer_id),
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
        ("version", api_version(event)),
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
        (
            "order",
            found(&event.order_id, &resolved.order_id, &resolved.order_via),
        ),
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
        "by",
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
                attempt.plugin.clone(),
                format_ms(Some(attempt.started_at_ms)),
                format!("{} ms", attempt.finished_at_ms - attempt.started_at_ms),
                attempt.outcome.clone(),
                attempt.error.clone().unwrap_or_default(),
            ]);
        }
    }
    if !any {
        table.add_row(vec!["-", "-", "-", "-", "-", "none yet", ""]);
    }
    for column in [0, 1, 4] {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// What the payload names, else what the links led to and through which objects.
fn found(named: &Option<String>, resolved: &Option<String>, via: &[String]) -> String {
    match (named, resolved) {
        (Some(named), _) => named.clone(),
        (None, Some(resolved)) => format!("{resolved} (through the links: {})", via.join(" → ")),
        (None, None) => "-".to_owned(),
    }
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
            skipped: 1,
        };
        assert_eq!(jobs_text(counts), "2 delivered, 1 dead, 1 skipped");
        assert_eq!(jobs_text(JobCounts::default()), "no jobs");
    }
}
