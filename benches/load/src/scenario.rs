//! The scenarios: each starts its server, drives load, and comes back as one row.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::client::{self, LoadReport, Pace};
use crate::inputs::Inputs;
use crate::payload::Payloads;
use crate::pg_database::PgDatabase;
use crate::sinks::{self, Arrivals};
use crate::target::{free_addr, Target};

/// The signing secret every scenario uses.
pub const SECRET: &str = "whsec_bench";

/// Everything the runner was told.
pub struct Options {
    pub inputs: Inputs,
    /// Where each scenario's directory (SQLite database, herald's config) goes.
    pub work_dir: PathBuf,
    pub duration: Duration,
    pub e2e_duration: Duration,
    pub concurrency: usize,
    pub postgres_url: Option<String>,
    pub dispatch_concurrency: usize,
}

/// Where delivered jobs go.
#[derive(Clone, Copy)]
pub enum Destination {
    /// Nowhere: workers are off, jobs stay queued.
    Paused,
    Http(SocketAddr),
    Smtp(SocketAddr),
}

/// Deliveries seen by a sink.
pub struct Delivered {
    /// Events delivered at least once.
    pub count: usize,
    pub per_sec: f64,
    /// From each event's 200 to its first delivery, in microseconds.
    pub lag: Histogram<u64>,
    /// Acknowledged events whose delivery never arrived.
    pub missing: usize,
}

/// What the server's process spent in CPU.
pub struct Cpu {
    /// Cores in use while the load ran (CPU seconds over wall seconds).
    pub cores: f64,
    /// CPU time per event taken in or delivered, over the load and the drain.
    pub per_event: Duration,
}

impl Cpu {
    /// From the CPU times at the load's start, its end and the drain's end.
    fn between(
        times: [Option<Duration>; 3],
        load: &LoadReport,
        delivered: Option<&Delivered>,
    ) -> Option<Self> {
        let [start, loaded, drained] = times;
        let (start, loaded, drained) = (start?, loaded?, drained?);
        let events =
            usize::try_from(load.ok).unwrap_or(usize::MAX) + delivered.map_or(0, |d| d.count);
        let events = u32::try_from(events.max(1)).unwrap_or(u32::MAX);
        Some(Self {
            cores: loaded.saturating_sub(start).as_secs_f64()
                / load.elapsed.as_secs_f64().max(1e-9),
            per_event: drained.saturating_sub(start) / events,
        })
    }
}

/// One line of the table.
pub struct Row {
    pub name: String,
    pub pace: String,
    pub load: LoadReport,
    pub delivered: Option<Delivered>,
    pub rss_mib: Option<f64>,
    pub warnings: usize,
    /// The server's CPU, if it could be read.
    pub cpu: Option<Cpu>,
    /// How often the host ran slow just before this row (see `steadiness`), in percent.
    pub host_slow: Option<f64>,
}

/// The rules and plugin instance for `destination`, as TOML. The instance may
/// use every dispatch slot (`max_concurrency`, `pool_max_size`): the defaults
/// are polite to someone else's server, the sinks here measure herald.
pub fn destination_toml(destination: Destination, slots: usize) -> String {
    match destination {
        Destination::Paused | Destination::Http(_) => {
            let url = match destination {
                Destination::Http(addr) => format!("http://{addr}/hook"),
                _ => "http://127.0.0.1:9/hook".to_owned(),
            };
            format!(
                r#"
[plugins.webhook.sink]
url = "{url}"
max_concurrency = {slots}

[[rules]]
name = "all"
on = ["*"]
actions = [{{ plugin = "sink" }}]
"#
            )
        }
        Destination::Smtp(addr) => {
            let mut text = format!(
                r#"
[plugins.email.mail]
transport = "smtp"
host = "127.0.0.1"
port = {}
security = "none"
pool_max_size = {slots}
from = "Bench Shop <shop@example.com>"
"#,
                addr.port()
            );
            for (kind, template) in EMAIL_EVENTS {
                text.push_str(&format!(
                    r#"
[[rules]]
name = "{template}"
on = ["{kind}"]
actions = [{{ plugin = "mail", template = "{template}", to = "{{{{customer.email}}}}" }}]
"#
                ));
            }
            text
        }
    }
}

/// The fixtures the email scenario sends, each with the template its rule renders.
pub const EMAIL_EVENTS: [(&str, &str); 3] = [
    ("payment_intent.succeeded", "payment_succeeded"),
    ("payment_intent.payment_failed", "payment_failed"),
    ("charge.refunded", "refund_issued"),
];

fn herald_config(
    listen: SocketAddr,
    database: &str,
    destination: Destination,
    options: &Options,
) -> String {
    let enabled = !matches!(destination, Destination::Paused);
    let concurrency = options.dispatch_concurrency;
    format!(
        r#"{base}
[shop]
name = "Bench Shop"
support_email = "support@example.com"
url = "https://shop.example.com"
{rest}"#,
        base = base_toml(
            listen,
            database,
            &format!("enabled = {enabled}\nconcurrency = {concurrency}\n"),
            &options.inputs.templates,
        ),
        rest = destination_toml(destination, concurrency),
    )
}

/// What every config a bench runs starts with: where herald listens and stores, its
/// `[dispatch]` lines, the templates and the Stripe secret the payloads are signed with.
pub fn base_toml(
    listen: SocketAddr,
    database: &str,
    dispatch: &str,
    templates: &std::path::Path,
) -> String {
    format!(
        r#"[server]
listen = "{listen}"

[admin]
listen = "127.0.0.1:0"

[database]
url = "{database}"

[dispatch]
{dispatch}
[templates]
dir = "{templates}"

[sources.stripe]
secret = "{SECRET}"
"#,
        templates = templates.display(),
    )
}

/// The ceiling: signature verification and a 200, nothing stored.
pub async fn ceiling(options: &Options, payloads: Arc<Payloads>) -> anyhow::Result<Row> {
    let target = Target::ceiling(SECRET).await?;
    let start = target.cpu_time();
    let load = drive(
        &target,
        payloads,
        Pace::Concurrency(options.concurrency),
        options.duration,
    )
    .await;
    let end = target.cpu_time();
    let row = Row {
        cpu: Cpu::between([start, end, end], &load, None),
        name: "ceiling (verify + 200)".to_owned(),
        pace: format!("{} conns", options.concurrency),
        rss_mib: target.peak_rss_mib(),
        warnings: 0,
        load,
        delivered: None,
        host_slow: None,
    };
    target.stop().await;
    Ok(row)
}

/// Which database a herald scenario runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A herald scenario: `db`, jobs going to `sink` (or queued when `None`).
pub struct HeraldRun<'a> {
    pub name: &'a str,
    pub db: Db,
    pub sink: Option<SinkKind>,
    pub pace: Pace,
    pub duration: Duration,
}

/// The kind of loopback destination.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    Http,
    Smtp,
}

/// Runs herald as `run` says, returning its row.
pub async fn herald(
    options: &Options,
    payloads: Arc<Payloads>,
    run: HeraldRun<'_>,
) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir_in(&options.work_dir)?;
    let arrivals = Arrivals::default();
    let destination = match run.sink {
        None => Destination::Paused,
        Some(SinkKind::Http) => Destination::Http(sinks::http(arrivals.clone()).await?),
        Some(SinkKind::Smtp) => Destination::Smtp(sinks::smtp(arrivals.clone()).await?),
    };
    let pg = match run.db {
        Db::Sqlite => None,
        Db::Postgres => {
            let base = options
                .postgres_url
                .as_deref()
                .context("no PostgreSQL URL given")?;
            Some(PgDatabase::create(base).await?)
        }
    };
    let database = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join("herald.db").display()),
    };
    let listen = free_addr()?;
    let config = herald_config(listen, &database, destination, options);
    let target = Target::herald(&options.inputs.herald, dir.path(), listen, &config).await?;
    let start = target.cpu_time();
    let load = drive(&target, payloads, run.pace, run.duration).await;
    let loaded = target.cpu_time();
    let delivered = match run.sink {
        None => None,
        Some(_) => Some(await_deliveries(&load, &arrivals).await),
    };
    let drained = target.cpu_time();
    let row = Row {
        cpu: Cpu::between([start, loaded, drained], &load, delivered.as_ref()),
        name: run.name.to_owned(),
        pace: pace_label(run.pace),
        rss_mib: target.peak_rss_mib(),
        warnings: target.logged_warnings(),
        load,
        delivered,
        host_slow: None,
    };
    if row.load.errors > 0 || row.delivered.as_ref().is_some_and(|d| d.missing > 0) {
        eprintln!(
            "--- herald log tail ({}) ---\n{}",
            run.name,
            target.log_tail()
        );
    }
    target.stop().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
    Ok(row)
}

/// How a pace reads in the table.
pub fn pace_label(pace: Pace) -> String {
    match pace {
        Pace::Concurrency(n) => format!("{n} conns"),
        Pace::Rate { per_sec, .. } => format!("{per_sec}/s"),
    }
}

async fn drive(
    target: &Target,
    payloads: Arc<Payloads>,
    pace: Pace,
    duration: Duration,
) -> LoadReport {
    client::run(target.addr, "/webhooks/stripe", payloads, pace, duration).await
}

/// How long the backlog may take to drain after the load stops; what has not
/// arrived by then counts as missing (herald still has it queued).
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Waits until every acknowledged event was delivered, nothing arrived for 10 s,
/// or [`DRAIN_LIMIT`] passed.
async fn await_deliveries(load: &LoadReport, arrivals: &Arrivals) -> Delivered {
    let expected = load.acked.len();
    let mut last_count = arrivals.count();
    let mut last_change = Instant::now();
    let drain_start = Instant::now();
    while arrivals.count() < expected
        && last_change.elapsed() < Duration::from_secs(10)
        && drain_start.elapsed() < DRAIN_LIMIT
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let count = arrivals.count();
        if count != last_count {
            last_count = count;
            last_change = Instant::now();
        }
    }
    let arrived = arrivals.take();
    let mut first: HashMap<u64, Instant> = HashMap::with_capacity(arrived.len());
    for (seq, at) in &arrived {
        first.entry(*seq).or_insert(*at);
    }
    let mut lag = Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds");
    let mut missing = 0;
    for (seq, acked_at) in &load.acked {
        match first.get(seq) {
            Some(arrived_at) => {
                let micros = arrived_at.saturating_duration_since(*acked_at).as_micros();
                lag.saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
            }
            None => missing += 1,
        }
    }
    let last = arrived.iter().map(|(_, at)| *at).max();
    let per_sec = match last {
        Some(last) => {
            first.len() as f64 / last.duration_since(load.started).as_secs_f64().max(1e-9)
        }
        None => 0.0,
    };
    Delivered {
        count: first.len(),
        per_sec,
        lag,
        missing,
    }
}
