//! `herald report`: the accountant's report, one row per money movement in a window.

use anyhow::{anyhow, bail};
use chrono::{NaiveDate, TimeZone};
use clap::{Args, ValueEnum};
use comfy_table::{presets, Table};

use super::ops::open;
use crate::config::StoreConfig;
use crate::report::{decimal, movements, totals, MONEY_TYPES};
use crate::Config;

/// How the report is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

/// `herald report` options.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// From this day (YYYY-MM-DD, in the shop's time zone) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// To this day, included (YYYY-MM-DD), or up to this time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub to: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Only movements in this currency (usd, eur, …).
    #[arg(long)]
    pub currency: Option<String>,
}

/// `herald report`
///
/// # Errors
/// When a date does not read, or the database cannot be read.
pub async fn run(config: &Config, args: &ReportArgs) -> anyhow::Result<()> {
    let zone = crate::render::time_zone(config.reloadable.shop.get("time_zone"))
        .map_err(|err| anyhow!(err))?;
    let from = instant(&args.from, zone, false)?;
    let to = instant(&args.to, zone, true)?;
    if to <= from {
        bail!("--to must be after --from");
    }
    let store = open(&StoreConfig::from(config)).await?;
    let events = store
        .events_created("stripe", &MONEY_TYPES, from, to)
        .await?;
    let mut rows = movements(&events);
    if let Some(currency) = &args.currency {
        let currency = currency.to_ascii_lowercase();
        rows.retain(|row| row.currency == currency);
    }
    // With an API key, the fees not fetched before are asked of Stripe (and kept).
    let api = crate::stripe_api::StripeApi::configured(&config.restart).ok();
    let unknown = crate::report::with_fees(&store, api.as_ref(), &mut rows).await?;
    if unknown > 0 {
        eprintln!(
            "note: {unknown} movements have no fee yet{}",
            if api.is_some() {
                " (Stripe did not give it)"
            } else {
                ": set [sources.stripe] api_key to fetch them"
            }
        );
    }
    match args.format {
        Format::Json => {
            println!("{:#}", crate::report::as_json(&rows, from, to));
        }
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            crate::report::csv::write(&mut out, &rows)?;
        }
        Format::Table => {
            let mut table = Table::new();
            table
                .load_style(presets::NOTHING)
                .set_header(crate::report::csv::COLUMNS.to_vec());
            for row in &rows {
                table.add_row(crate::report::csv::fields(row).to_vec());
            }
            println!("{}", table.trim_fmt());
            for (currency, total) in &totals(&rows) {
                println!(
                    "{currency}: {} payments {}, {} refunds {}, {} dispute movements {}, net {}",
                    total.payments.0,
                    decimal(total.payments.1, currency),
                    total.refunds.0,
                    decimal(total.refunds.1, currency),
                    total.disputes.0,
                    decimal(total.disputes.1, currency),
                    decimal(total.net, currency),
                );
            }
            if rows.is_empty() {
                println!("no money movements in that window");
            }
        }
    }
    Ok(())
}

/// `text` as Unix seconds: a day starts at midnight in `zone` (with `end`, the next
/// midnight, so the day is included); an RFC 3339 time is taken as it is.
///
/// # Errors
/// When `text` is neither, or the day has no midnight in `zone`.
pub fn instant(text: &str, zone: chrono_tz::Tz, end: bool) -> anyhow::Result<i64> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp());
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| anyhow!("`{text}` is not a date (2026-11-30) or an RFC 3339 time"))?;
    let day = if end {
        day.succ_opt()
            .ok_or_else(|| anyhow!("`{text}` is too far ahead"))?
    } else {
        day
    };
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| anyhow!("`{text}`: no midnight"))?;
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|time| time.timestamp())
        .ok_or_else(|| anyhow!("`{text}` has no midnight in {zone}"))
}
