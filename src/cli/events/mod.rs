//! `herald events` and `herald event`: what was received, and what became of it.
//!
//! Tables for people, `--json` for scripts. The JSON shapes are documented in
//! docs/operations.md ("Events") and built here, field by field, so a change to
//! a store type does not silently change what scripts read.

pub(crate) mod json;
mod text;

use std::io::Write as _;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use self::json::{detail_json, listing_json, pretty};
use self::text::{detail_text, listing_table};
use super::ops::{open, parse_time};
use crate::config::StoreConfig;
use crate::rules::EventPattern;
use crate::store::{EventFilter, EventStatus};

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
    #[arg(long, default_value = crate::source::stripe::NAME)]
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
    /// Every job done, at least one skipped at delivery.
    Skipped,
}

impl From<StatusArg> for EventStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Pending => Self::Pending,
            StatusArg::Delivered => Self::Delivered,
            StatusArg::Dead => Self::Dead,
            StatusArg::Skipped => Self::Skipped,
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
            until_ms: None,
            after: None,
            limit: self.limit,
        })
    }
}

/// `herald events`
///
/// # Errors
/// When the database cannot be opened or read, or an option is refused.
pub async fn list(config: &StoreConfig, args: &EventsArgs) -> anyhow::Result<()> {
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
pub async fn show(config: &StoreConfig, args: &EventArgs) -> anyhow::Result<()> {
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
