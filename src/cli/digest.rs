//! `herald digest list` and `herald digest run NAME`: the digests' schedules, and a
//! digest sent now for any window.

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use comfy_table::{presets, Table};
use serde_json::json;

use super::ops::{format_ms, open};
use super::report::instant;
use crate::config::StoreConfig;
use crate::digest::summary::{summarize, Window};
use crate::digest::{local_text, Digest, EVENT_TYPE};
use crate::Config;

/// `herald digest …`
#[derive(Debug, Clone, Args)]
pub struct DigestArgs {
    #[command(subcommand)]
    pub command: DigestCommand,
}

/// What to do with the digests.
#[derive(Debug, Clone, Subcommand)]
pub enum DigestCommand {
    /// Each digest's schedule, its last scheduled run and its next.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Send a digest now: for its latest period that has ended, or for --from/--to. It does not
    /// count as the scheduled run of that period, which still goes out on time.
    ///
    /// Examples:
    ///   herald digest run daily-summary
    ///   herald digest run daily-summary --from 2026-11-01 --to 2026-11-30
    #[command(verbatim_doc_comment)]
    Run {
        /// The digest's name, as in `[[digests]]`.
        name: String,
        /// The start: a date (its midnight in the digest's zone) or an RFC 3339 time.
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The end: a date (included) or an RFC 3339 time (excluded).
        #[arg(long, requires = "from")]
        to: Option<String>,
    },
}

/// `herald digest …`
///
/// # Errors
/// When the database cannot be used, or the digest or the window is unknown.
pub async fn run(config: &Config, args: &DigestArgs) -> anyhow::Result<()> {
    match &args.command {
        DigestCommand::List { json } => list(config, *json).await,
        DigestCommand::Run { name, from, to } => {
            let window = from.as_deref().zip(to.as_deref());
            send_now(config, name, window).await
        }
    }
}

async fn list(config: &Config, as_json: bool) -> anyhow::Result<()> {
    let store = open(&StoreConfig::from(config)).await?;
    let now = crate::clock::now_ms();
    let mut rows = Vec::new();
    for digest in config.reloadable.rules.digests() {
        let last = store.last_digest(&digest.name).await?;
        let next = digest.schedule.next_after(now);
        rows.push((digest, last, next));
    }
    if as_json {
        let digests: Vec<_> = rows
            .iter()
            .map(|(digest, last, next)| {
                json!({
                    "name": digest.name, "schedule": digest.schedule.text(),
                    "timezone": digest.schedule.zone().name(),
                    "period": digest.schedule.period().name(),
                    "last_event_id": last.as_ref().map(|(id, _)| id),
                    "last_at": last.as_ref().map(|(_, at)| at),
                    "next_at_ms": next,
                })
            })
            .collect();
        println!("{:#}", json!({ "digests": digests }));
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_header(vec![
        "digest",
        "schedule",
        "period",
        "last sent (UTC)",
        "next",
    ]);
    for (digest, last, next) in &rows {
        let zone = digest.schedule.zone();
        table.add_row(vec![
            digest.name.clone(),
            format!("{} ({})", digest.schedule.text(), zone.name()),
            digest.schedule.period().name().to_owned(),
            last.as_ref()
                .map_or_else(|| "never".to_owned(), |(_, at)| format_ms(Some(at * 1000))),
            next.map_or_else(|| "-".to_owned(), |ms| local_text(ms, zone)),
        ]);
    }
    if rows.is_empty() {
        println!("no [[digests]] in {}", config.path.display());
    } else {
        println!("{}", table.trim_fmt());
    }
    Ok(())
}

async fn send_now(config: &Config, name: &str, window: Option<(&str, &str)>) -> anyhow::Result<()> {
    let rules = config.reloadable.rules.clone();
    let digest = find(config, name)?;
    let zone = digest.schedule.zone();
    let now = crate::clock::now_ms();
    let (start_ms, end_ms) = match window {
        Some((from, to)) => (
            instant(from, zone, false)? * 1000,
            instant(to, zone, true)? * 1000,
        ),
        None => latest_complete(digest, now)
            .context("the schedule has no period that has ended: give --from and --to")?,
    };
    if start_ms >= end_ms {
        return Err(anyhow!("--from must come before --to"));
    }
    let store = open(&StoreConfig::from(config)).await?;
    let window = Window {
        start_ms,
        end_ms,
        zone,
    };
    let mut object = summarize(&store, digest, window, false).await?;
    let id = format!("{EVENT_TYPE}:{}:run:{now}", digest.name);
    object["id"] = id.clone().into();
    let label = object["period"]["label"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    crate::alerts::store_own_event(&store, &rules, id.clone(), EVENT_TYPE, object, now).await?;
    println!(
        "stored {id} ({label}); the running herald sends it now (herald event --source herald {id})"
    );
    Ok(())
}

/// The latest period that has ended at `now`: the one the next run will cover when it
/// is already over (`day`, `week`, `month` at 07:00 cover what ended at midnight), else
/// the last run's.
fn latest_complete(digest: &Digest, now: i64) -> Option<(i64, i64)> {
    let schedule = &digest.schedule;
    let next = schedule
        .next_after(now)
        .and_then(|run| schedule.window(run))
        .filter(|(_, end)| *end <= now);
    next.or_else(|| {
        schedule
            .last_at_or_before(now)
            .and_then(|run| schedule.window(run))
    })
}

fn find<'a>(config: &'a Config, name: &str) -> anyhow::Result<&'a Digest> {
    let digests = config.reloadable.rules.digests();
    digests
        .iter()
        .find(|digest| digest.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = digests.iter().map(|d| d.name.as_str()).collect();
            anyhow!(
                "no digest named `{name}`; the config has: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::UTC;

    use super::*;
    use crate::digest::{Period, Schedule};

    fn at(d: u32, h: u32, m: u32) -> i64 {
        UTC.with_ymd_and_hms(2026, 12, d, h, m, 0)
            .single()
            .expect("a time")
            .timestamp_millis()
    }

    #[test]
    fn a_run_on_request_takes_the_latest_period_that_has_ended() {
        let daily = Digest {
            name: "d".into(),
            schedule: Schedule::new("0 7 * * *", UTC, Period::Day).expect("reads"),
            attach_csv: false,
        };
        // At 02:00 yesterday is over, though its scheduled run is at 07:00.
        assert_eq!(
            latest_complete(&daily, at(8, 2, 0)),
            Some((at(7, 0, 0), at(8, 0, 0)))
        );
        let hourly = Digest {
            name: "h".into(),
            schedule: Schedule::new("0 * * * *", UTC, Period::SinceLast).expect("reads"),
            attach_csv: false,
        };
        assert_eq!(
            latest_complete(&hourly, at(8, 2, 30)),
            Some((at(8, 1, 0), at(8, 2, 0)))
        );
    }
}
