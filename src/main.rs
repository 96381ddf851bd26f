//! The `herald` binary: parse the command line, load config, run.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use herald::cli::{
    backfill, check, customers, digest, error, events, followups, ops, purge_queued, reconcile,
    relink, render, report, route, stripe_check, subscriptions, trigger, Cli, Command,
    OrdersCommand, StripeCommand,
};
use herald::config::StoreConfig;
use herald::source::stripe::sign;
use herald::{reload, shutdown, telemetry, Application, Config};
use herald_plugin_api::config::ProcessEnv;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// glibc's allocator spent much of the request path's CPU in `malloc_consolidate`
/// and `_int_free` (JSON trees freed between large buffer allocations); mimalloc
/// does the same work in a fraction of it. `.cargo/config.toml` compiles it to commit
/// memory on demand, so freed pages go back to the OS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_as(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error::describe(&err));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Check(args) => check::run(&cli.config, &args, &ProcessEnv),
        Command::Render(args) => render::run(&cli.config, &args, &ProcessEnv),
        Command::Route(args) => route::run(&cli.config, &args, &ProcessEnv),
        Command::Serve { no_watch } => serve(load(&cli.config)?, !no_watch).await,
        Command::Sign { file, secret } => {
            let body =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let secret = trigger::resolve_secret(&cli.config, secret.as_deref(), &ProcessEnv)?;
            let t = chrono::Utc::now().timestamp();
            println!("t={t},v1={}", sign(&body, secret.as_bytes(), t));
            Ok(())
        }
        Command::Trigger(args) => trigger::run(&cli.config, &args, &ProcessEnv).await,
        Command::DeadLetters {
            filter,
            limit,
            json,
        } => ops::dead_letters(&load_store(&cli.config)?, &filter, limit, json).await,
        Command::Replay { filter, dry_run } => {
            ops::replay(&load_store(&cli.config)?, &filter, dry_run).await
        }
        Command::Redeliver { event_id, source } => {
            ops::redeliver(&load(&cli.config)?, &source, &event_id).await
        }
        Command::Backfill(args) => backfill::run(&load(&cli.config)?, &args).await,
        Command::Relink => relink::run(&load_store(&cli.config)?).await,
        Command::Reconcile(args) => reconcile::run(&load(&cli.config)?, &args).await,
        Command::Followups(args) => followups::run(&load(&cli.config)?, &args).await,
        Command::Digest(args) => digest::run(&load(&cli.config)?, &args).await,
        Command::Report(args) => report::run(&load(&cli.config)?, &args).await,
        Command::Stripe {
            command: StripeCommand::Check { json },
        } => stripe_check::run(&load(&cli.config)?, json).await,
        Command::Subscriptions(args) => subscriptions::run(&load_store(&cli.config)?, &args).await,
        Command::Purge {
            filter,
            queued: true,
            yes,
        } => {
            let plugin = filter.plugin.unwrap_or_default();
            purge_queued::purge_queued(&load_store(&cli.config)?, &plugin, yes).await
        }
        Command::Purge { filter, yes, .. } => {
            ops::purge(&load_store(&cli.config)?, &filter, yes).await
        }
        Command::Events(args) => events::list(&load_store(&cli.config)?, &args).await,
        Command::Event(args) => events::show(&load_store(&cli.config)?, &args).await,
        Command::Job { id, json } => ops::job(&load_store(&cli.config)?, id, json).await,
        Command::Prune => ops::prune(&load_store(&cli.config)?).await,
        Command::Inventory { sku, adjust, json } => {
            ops::inventory(&load_store(&cli.config)?, sku.as_deref(), adjust, json).await
        }
        Command::Orders {
            command: OrdersCommand::Show { order_id, json },
        } => ops::orders(&load_store(&cli.config)?, &order_id, json).await,
        Command::Customer {
            customer_id,
            source,
            json,
        } => customers::show(&load_store(&cli.config)?, &source, &customer_id, json).await,
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(path, &ProcessEnv)?)
}

/// The database part only: commands that just read or mend the store need no secrets.
fn load_store(path: &std::path::Path) -> anyhow::Result<StoreConfig> {
    Ok(StoreConfig::load(path, &ProcessEnv)?)
}

async fn serve(config: Config, watch: bool) -> anyhow::Result<()> {
    let summary = config.summary();
    let app = Application::build(config)
        .await
        .context("cannot start herald")?;
    let addr = app.local_addr().context("cannot read the bound address")?;
    let stop = CancellationToken::new();
    shutdown::cancel_on_signal(stop.clone()).context("cannot listen for SIGINT and SIGTERM")?;
    reload::spawn(app.reloader(Arc::new(ProcessEnv)), watch, stop.clone())
        .context("cannot listen for SIGHUP")?;
    let admin = app
        .admin_addr()
        .context("cannot read the admin listener's address")?;
    info!("herald listening on http://{addr} (webhooks: POST http://{addr}/webhooks/stripe)");
    info!("admin API and console on http://{admin}");
    if let Some(url) = app.admin_login_url() {
        // No token is configured: a one-time link signs a browser in. It goes to the
        // terminal of whoever started herald, never into the log, which a pipeline
        // keeps; the file is readable by herald's user alone.
        if std::io::stderr().is_terminal() {
            eprintln!("\n  Sign in to the console (works once): {url}\n");
        }
        if let Some(file) = app.admin_login_file() {
            info!(
                file = %file.display(),
                "no [admin] token is set: the console's one-time sign-in link is in this file \
                 (readable by this user only; a new one replaces it once used)"
            );
        }
    }
    for line in summary.lines() {
        info!("{line}");
    }
    app.run_until_stopped(stop).await.context("server failed")?;
    info!("herald stopped");
    Ok(())
}
