//! `herald-load soak-crash`: what a `kill -9` under load costs, measured and
//! printed (`scripts/soak-crash` builds and runs it; not part of the tests).
//!
//! SQLite: one herald under a steady load of signed webhooks, delivering to a
//! slow loopback sink, is killed with SIGKILL while webhooks and deliveries are
//! in flight, and started again at once on the same file. PostgreSQL: two
//! replicas share the load, and one is killed the same way. Printed, from
//! herald's own attempt records: how long after the restart (or the kill) every
//! acknowledged event was recorded delivered, and the last of the jobs the
//! killed process held; from the sink: how many deliveries repeated one (each
//! repeat carries the idempotency key of its first delivery, as the sink tells
//! deliveries apart by that key alone).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::client::{self, LoadReport, Pace};
use crate::inputs::Inputs;
use crate::payload::Payloads;
use crate::pg_database::PgDatabase;
use crate::scenario::{base_toml, destination_toml, Destination, SECRET};
use crate::sinks::{self, Arrivals};
use crate::target::{free_addr, Target};

/// What `herald-load soak-crash` is told.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: Inputs,
    /// Where the databases, configs and logs go (on a disk, not a tmpfs).
    #[arg(long, default_value = "target/soak-crash")]
    work_dir: PathBuf,
    /// A PostgreSQL server's URL (any database on it); the replica case is skipped without.
    #[arg(long, env = "HERALD_BENCH_DATABASE_URL")]
    postgres_url: Option<String>,
    /// Webhooks a second, in all.
    #[arg(long, default_value_t = 100)]
    rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 6)]
    secs: u64,
    /// Seconds into the load when the kill comes. At the end by default, while
    /// the last webhooks and deliveries are in flight: what follows the restart
    /// (or the kill) is then the crash's cost alone, not new events.
    #[arg(long, default_value_t = 6)]
    kill_after: u64,
    /// How long the sink takes over each delivery, in milliseconds. With the
    /// defaults herald can deliver 160 a second, so no backlog builds up and
    /// what is measured is the crash, not a queue draining.
    #[arg(long, default_value_t = 100)]
    sink_delay_ms: u64,
    /// `dispatch.lease_secs` for herald; its default when unset.
    #[arg(long)]
    lease_secs: Option<u64>,
    /// `dispatch.concurrency` for herald.
    #[arg(long, default_value_t = 16)]
    dispatch_concurrency: usize,
    /// How long to wait for every acknowledged event before calling it a failure.
    #[arg(long, default_value_t = 120)]
    deadline_secs: u64,
}

/// Runs both cases and prints their figures.
///
/// # Errors
/// When a herald does not start, or a database cannot be made.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let work_dir = absolute(&args.work_dir);
    let _ = std::fs::remove_dir_all(&work_dir);
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;
    let only = ["payment_intent.succeeded"];
    let payloads = Arc::new(Payloads::load(
        &absolute(&args.inputs.fixtures),
        SECRET,
        Some(&only),
    )?);
    let lease = args
        .lease_secs
        .map_or_else(|| "default".to_owned(), |secs| format!("{secs} s"));
    println!(
        "soak-crash: {} webhooks/s for {} s, SIGKILL at {} s, sink {} ms a delivery, \
         dispatch.concurrency {}, dispatch.lease_secs {lease}",
        args.rate, args.secs, args.kill_after, args.sink_delay_ms, args.dispatch_concurrency
    );
    sqlite(&args, &work_dir, payloads.clone()).await?;
    match &args.postgres_url {
        Some(url) => postgres(&args, &work_dir, url, payloads).await?,
        None => println!("PostgreSQL: skipped (no --postgres-url / HERALD_BENCH_DATABASE_URL)"),
    }
    Ok(())
}

/// (a) SQLite: kill, restart at once on the same file.
async fn sqlite(args: &Args, work_dir: &Path, payloads: Arc<Payloads>) -> anyhow::Result<()> {
    let dir = work_dir.join("sqlite");
    let arrivals = Arrivals::default();
    let sink = sinks::http_slow(arrivals.clone(), sink_delay(args)).await?;
    let listen = free_addr()?;
    let database = format!("sqlite://{}", dir.join("herald.db").display());
    let config = config(args, listen, &database, sink);
    let first = Target::herald(
        &args.inputs.herald,
        &subdir(&dir, "before")?,
        listen,
        &config,
    )
    .await?;
    let load = tokio::spawn(load(listen, payloads.clone(), args.rate, args.secs));
    tokio::time::sleep(Duration::from_secs(args.kill_after)).await;
    first.stop().await;
    let restarted = now_ms();
    let after = subdir(&dir, "after")?;
    let second = Target::herald(&args.inputs.herald, &after, listen, &config).await?;
    let listening = now_ms() - restarted;
    let report = load.await.context("the load task")?;
    let config = after.join("config.toml");
    let outcome = wait_for_all(&report, &payloads, &config, &arrivals, args.deadline_secs).await?;
    println!(
        "SQLite, kill -9 and an immediate restart: {} events acknowledged; herald listening \
         again {listening} ms after the restart",
        outcome.acked
    );
    outcome.print("the restart", restarted, 20);
    println!("  herald after the restart: {}", took_back(&second));
    second.stop().await;
    Ok(())
}

/// (b) PostgreSQL: two replicas, one killed mid-delivery.
async fn postgres(
    args: &Args,
    work_dir: &Path,
    url: &str,
    payloads: Arc<Payloads>,
) -> anyhow::Result<()> {
    let database = PgDatabase::create(url).await?;
    let result = replicas(args, work_dir, &database.url, payloads).await;
    database.drop_now().await;
    result
}

async fn replicas(
    args: &Args,
    work_dir: &Path,
    database: &str,
    payloads: Arc<Payloads>,
) -> anyhow::Result<()> {
    let dir = work_dir.join("postgres");
    let arrivals = Arrivals::default();
    let sink = sinks::http_slow(arrivals.clone(), sink_delay(args)).await?;
    let (a, b) = (free_addr()?, free_addr()?);
    let doomed = Target::herald(
        &args.inputs.herald,
        &subdir(&dir, "a")?,
        a,
        &config(args, a, database, sink),
    )
    .await?;
    let survivor = Target::herald(
        &args.inputs.herald,
        &subdir(&dir, "b")?,
        b,
        &config(args, b, database, sink),
    )
    .await?;
    let half = (args.rate / 2).max(1);
    let to_a = tokio::spawn(load(a, payloads.clone(), half, args.secs));
    let to_b = tokio::spawn(load(b, payloads.clone(), half, args.secs));
    tokio::time::sleep(Duration::from_secs(args.kill_after)).await;
    doomed.stop().await;
    let killed = now_ms();
    let mut report = to_a.await.context("the load task")?;
    let other = to_b.await.context("the load task")?;
    report.acked.extend(other.acked);
    let config = dir.join("b").join("config.toml");
    let outcome = wait_for_all(&report, &payloads, &config, &arrivals, args.deadline_secs).await?;
    println!(
        "PostgreSQL, two replicas, one killed with kill -9 mid-delivery: {} events acknowledged",
        outcome.acked
    );
    outcome.print("the kill", killed, 30);
    println!("  the survivor: {}", took_back(&survivor));
    survivor.stop().await;
    Ok(())
}

/// herald's config for these runs: every webhook one job, to the slow sink.
fn config(args: &Args, listen: SocketAddr, database: &str, sink: SocketAddr) -> String {
    let lease = args
        .lease_secs
        .map(|secs| format!("lease_secs = {secs}\n"))
        .unwrap_or_default();
    let concurrency = args.dispatch_concurrency;
    let templates = std::path::absolute(&args.inputs.templates)
        .unwrap_or_else(|_| args.inputs.templates.clone());
    let base = base_toml(
        listen,
        database,
        &format!("concurrency = {concurrency}\n{lease}"),
        &templates,
    );
    base + &destination_toml(Destination::Http(sink), concurrency)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn sink_delay(args: &Args) -> Duration {
    Duration::from_millis(args.sink_delay_ms)
}

fn subdir(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok(path)
}

async fn load(addr: SocketAddr, payloads: Arc<Payloads>, rate: u64, secs: u64) -> LoadReport {
    let pace = Pace::Rate {
        per_sec: rate,
        connections: 16,
    };
    client::run(
        addr,
        "/webhooks/stripe",
        payloads,
        pace,
        Duration::from_secs(secs),
    )
    .await
}

/// What became of the acknowledged events, read from herald's database and the sink.
struct Outcome {
    acked: usize,
    /// Jobs claimed more than once: those the killed herald held, taken back.
    taken_back: usize,
    /// When the last acknowledged event's delivery was recorded (Unix ms); `None`
    /// if one never was.
    all_delivered_ms: Option<i64>,
    /// When the last taken-back job's delivery was recorded (Unix ms).
    last_taken_back_ms: Option<i64>,
    missing: usize,
    deliveries: usize,
    distinct: usize,
}

impl Outcome {
    fn print(&self, from_what: &str, from_ms: i64, target_secs: u64) {
        let since = |at: Option<i64>| match at {
            Some(at) => format!("{:.1} s", (at - from_ms).max(0) as f64 / 1000.0),
            None => "never".to_owned(),
        };
        let met = self.missing == 0
            && self
                .all_delivered_ms
                .is_some_and(|at| at - from_ms <= i64::try_from(target_secs * 1000).unwrap_or(0));
        println!(
            "  every acknowledged event delivered {} after {from_what} (target {target_secs} s: {}), \
             {} never; the last of the {} jobs taken back from the killed herald {} after it",
            since(self.all_delivered_ms),
            if met { "met" } else { "NOT met" },
            self.missing,
            self.taken_back,
            since(self.last_taken_back_ms),
        );
        println!(
            "  {} deliveries of {} distinct idempotency keys: {} repeated a key already \
             delivered, none was delivered twice under different keys",
            self.deliveries,
            self.distinct,
            self.deliveries - self.distinct
        );
    }
}

/// Waits until herald has recorded every event `report` acknowledged as
/// delivered (or the deadline passed), and says when each was.
async fn wait_for_all(
    report: &LoadReport,
    payloads: &Payloads,
    config: &Path,
    arrivals: &Arrivals,
    deadline_secs: u64,
) -> anyhow::Result<Outcome> {
    let config = herald::config::Config::load(config, &HashMap::<String, String>::new())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = herald::store::Store::connect(&config.restart.database).await?;
    let mut waiting: HashSet<u64> = report.acked.iter().map(|(seq, _)| *seq).collect();
    let acked = waiting.len();
    let deadline = Instant::now() + Duration::from_secs(deadline_secs);
    let mut delivered: Vec<(u32, i64)> = Vec::new();
    while !waiting.is_empty() && Instant::now() < deadline {
        let mut done = Vec::new();
        for seq in &waiting {
            let jobs = store
                .jobs_for_event("stripe", &payloads.event_id(*seq))
                .await?;
            let Some(job) = jobs.first() else { continue };
            if job.status != herald::store::JobStatus::Delivered {
                continue;
            }
            let attempts = store.attempts(job.id).await?;
            let finished = attempts
                .iter()
                .filter(|a| a.outcome == "delivered")
                .map(|a| a.finished_at_ms)
                .max();
            if let Some(finished) = finished {
                delivered.push((job.attempts, finished));
                done.push(*seq);
            }
        }
        for seq in done {
            waiting.remove(&seq);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = arrivals.take();
    let distinct: HashSet<u64> = seen.iter().map(|(seq, _)| *seq).collect();
    let taken_back: Vec<i64> = delivered
        .iter()
        .filter(|(claims, _)| *claims > 1)
        .map(|(_, at)| *at)
        .collect();
    Ok(Outcome {
        acked,
        taken_back: taken_back.len(),
        all_delivered_ms: if waiting.is_empty() {
            delivered.iter().map(|(_, at)| *at).max()
        } else {
            None
        },
        last_taken_back_ms: taken_back.iter().copied().max(),
        missing: waiting.len(),
        deliveries: seen.len(),
        distinct: distinct.len(),
    })
}

/// What herald logged about the leases it took back.
fn took_back(target: &Target) -> String {
    let lines = target.log_lines_with("took back");
    if lines.is_empty() {
        "took back no lease".to_owned()
    } else {
        lines.join("; ")
    }
}
