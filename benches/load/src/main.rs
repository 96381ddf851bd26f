//! `herald-load`: herald's load benchmark. `scripts/bench` builds and runs it.
//!
//! `herald-load all` runs every scenario against a release build of herald and
//! prints one table row per scenario, each compared with the ceiling measured in
//! the same run. `herald-load ceiling` is the ceiling server itself.

mod ceiling;
mod client;
mod inputs;
mod payload;
mod pg_database;
mod scenario;
mod sinks;
mod soak_crash;
mod steadiness;
mod storage;
mod table;
mod target;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::client::Pace;
use crate::inputs::Inputs;
use crate::payload::Payloads;
use crate::scenario::{Db, HeraldRun, Options, SinkKind, EMAIL_EVENTS, SECRET};

#[derive(Parser)]
#[command(about = "Load benchmark for herald")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios and print the table.
    All(AllArgs),
    /// Load a server that is already running and print its row.
    Load {
        /// Where to post, e.g. http://127.0.0.1:8787 (the path is /webhooks/stripe).
        #[arg(long)]
        addr: SocketAddr,
        /// The endpoint's signing secret.
        #[arg(long, default_value = SECRET)]
        secret: String,
        #[arg(long, default_value = "tests/fixtures/stripe")]
        fixtures: PathBuf,
        #[arg(long, default_value_t = 10)]
        secs: u64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Requests a second instead of a fixed concurrency.
        #[arg(long)]
        rate: Option<u64>,
    },
    /// Kill herald with SIGKILL under load and print how long every acknowledged
    /// event then takes to be delivered (SQLite restart; PostgreSQL replicas).
    SoakCrash(soak_crash::Args),
    /// Serve the ceiling: verify the signature, answer 200.
    Ceiling {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        #[arg(long)]
        secret: String,
    },
}

#[derive(clap::Args)]
struct AllArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Seconds of load for the sustained end-to-end HTTP scenario.
    #[arg(long, default_value_t = 60)]
    e2e_secs: u64,
    /// Connections for the fixed-concurrency scenarios.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// herald's `dispatch.concurrency` in the delivery scenarios (and the sink
    /// instance's own limit). Each slot adds to herald's RSS under load.
    #[arg(long, default_value_t = 32)]
    dispatch_concurrency: usize,
    /// Where each scenario's SQLite database and herald's files go. Not /tmp by
    /// default: on many systems it is a tmpfs, where an fsync costs nothing.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// A PostgreSQL server's URL (any database on it); the PostgreSQL rows are skipped without.
    #[arg(long, env = "HERALD_BENCH_DATABASE_URL")]
    postgres_url: Option<String>,
    /// Seconds to time fixed work on every core before the scenarios, to show how
    /// steady the host is, and again (2 s at most) before each row (0 skips it).
    #[arg(long, default_value_t = 5)]
    steadiness_secs: u64,
    /// Run only the scenarios whose name contains this text; repeat for several.
    /// Not split at commas: `--only 2,000/s` is the one row.
    #[arg(long)]
    only: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ceiling { listen, secret } => ceiling::serve(listen, secret).await,
        Command::All(args) => all(args).await,
        Command::SoakCrash(args) => soak_crash::run(args).await,
        Command::Load {
            addr,
            secret,
            fixtures,
            secs,
            concurrency,
            rate,
        } => {
            let payloads = Arc::new(Payloads::load(&fixtures, &secret, None)?);
            let pace = match rate {
                Some(per_sec) => Pace::Rate {
                    per_sec,
                    connections: concurrency,
                },
                None => Pace::Concurrency(concurrency),
            };
            let duration = Duration::from_secs(secs);
            let load = client::run(addr, "/webhooks/stripe", payloads, pace, duration).await;
            let mut table = table::Table::new();
            table.push(scenario::Row {
                name: addr.to_string(),
                pace: scenario::pace_label(pace),
                load,
                delivered: None,
                rss_mib: None,
                warnings: 0,
                cpu: None,
                host_slow: None,
            });
            table.print_notes();
            Ok(())
        }
    }
}

async fn all(args: AllArgs) -> anyhow::Result<()> {
    let absolute = |path: PathBuf| std::path::absolute(&path).unwrap_or(path);
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("creating {}", args.work_dir.display()))?;
    let options = Options {
        work_dir: absolute(args.work_dir),
        inputs: args.inputs.absolute(),
        duration: Duration::from_secs(args.secs),
        e2e_duration: Duration::from_secs(args.e2e_secs),
        concurrency: args.concurrency,
        postgres_url: args.postgres_url,
        dispatch_concurrency: args.dispatch_concurrency,
    };
    let everything = Arc::new(Payloads::load(&options.inputs.fixtures, SECRET, None)?);
    let email_kinds: Vec<&str> = EMAIL_EVENTS.iter().map(|(kind, _)| *kind).collect();
    let mail = Arc::new(Payloads::load(
        &options.inputs.fixtures,
        SECRET,
        Some(&email_kinds),
    )?);
    let wanted = |name: &str| {
        args.only.is_empty() || args.only.iter().any(|word| name.contains(word.as_str()))
    };
    println!("{}", table::machine());
    let first_probe = Duration::from_secs(args.steadiness_secs);
    if let Some(report) = probe_host(first_probe).await {
        println!("{}", report.line(first_probe));
    }
    match storage::filesystem(&options.work_dir) {
        Some((kind, _)) if kind == "tmpfs" || kind == "ramfs" => println!(
            "SQLite: under {} ({kind}, in memory: an fsync costs nothing there, so the SQLite rows overstate durable ingest; pass --work-dir on a disk)",
            options.work_dir.display()
        ),
        Some((kind, source)) => println!(
            "SQLite: under {} ({kind} on {source})",
            options.work_dir.display()
        ),
        None => println!("SQLite: under {}", options.work_dir.display()),
    }
    let pg_durable = match &options.postgres_url {
        Some(url) => {
            let settings = storage::PgDurability::of(url).await?;
            println!("{}", settings.line());
            settings.durable()
        }
        None => true,
    };
    println!(
        "payloads: {} Stripe fixtures, {} bytes on average; {} s per scenario\n",
        everything.len(),
        everything.mean_size(),
        args.secs
    );
    let closed = Pace::Concurrency(options.concurrency);
    let rate = |per_sec| Pace::Rate {
        per_sec,
        connections: options.concurrency,
    };
    let runs = [
        ("ingest, SQLite", Db::Sqlite, None, closed, options.duration),
        (
            "ingest, PostgreSQL",
            Db::Postgres,
            None,
            closed,
            options.duration,
        ),
        (
            "e2e HTTP, SQLite",
            Db::Sqlite,
            Some(SinkKind::Http),
            closed,
            options.e2e_duration,
        ),
        (
            "e2e HTTP, PostgreSQL",
            Db::Postgres,
            Some(SinkKind::Http),
            closed,
            options.duration,
        ),
        (
            "e2e email, SQLite",
            Db::Sqlite,
            Some(SinkKind::Smtp),
            closed,
            options.duration,
        ),
        (
            "1,000/s + HTTP, SQLite",
            Db::Sqlite,
            Some(SinkKind::Http),
            rate(1000),
            options.duration,
        ),
        (
            "2,000/s + HTTP, SQLite",
            Db::Sqlite,
            Some(SinkKind::Http),
            rate(2000),
            options.duration,
        ),
        (
            "5,000/s + HTTP, SQLite",
            Db::Sqlite,
            Some(SinkKind::Http),
            rate(5000),
            options.e2e_duration,
        ),
    ];
    let row_probe = Duration::from_secs(args.steadiness_secs.min(2));
    let mut table = table::Table::new();
    let host_slow = probe_host(row_probe).await.map(|r| r.slow_percent());
    let mut ceiling = scenario::ceiling(&options, everything.clone()).await?;
    ceiling.host_slow = host_slow;
    table.push(ceiling);
    for (name, db, sink, pace, duration) in runs {
        if !wanted(name) {
            continue;
        }
        if db == Db::Postgres && options.postgres_url.is_none() {
            eprintln!("{name}: skipped (no --postgres-url / HERALD_BENCH_DATABASE_URL)");
            continue;
        }
        let payloads = if sink == Some(SinkKind::Smtp) {
            mail.clone()
        } else {
            everything.clone()
        };
        // The row says so itself, in case it is pasted without the header.
        let name = if db == Db::Postgres && !pg_durable {
            format!("{name} (fsync off)")
        } else {
            name.to_owned()
        };
        let run = HeraldRun {
            name: &name,
            db,
            sink,
            pace,
            duration,
        };
        let host_slow = probe_host(row_probe).await.map(|r| r.slow_percent());
        match scenario::herald(&options, payloads, run).await {
            Ok(mut row) => {
                row.host_slow = host_slow;
                table.push(row);
            }
            Err(err) => eprintln!("{name}: failed: {err:#}"),
        }
    }
    table.print_notes();
    Ok(())
}

/// How steady the host is over `duration` (nothing for zero), measured while
/// nothing else runs, so the header and each row show whether it was noisy.
async fn probe_host(duration: Duration) -> Option<steadiness::Steadiness> {
    if duration.is_zero() {
        return None;
    }
    tokio::task::spawn_blocking(move || steadiness::measure(duration))
        .await
        .ok()
}
