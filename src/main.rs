//! The `herald` binary: parse the command line, load config, run.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use herald::cli::{Cli, Command};
use herald::{shutdown, telemetry, Application, Config};
use herald_plugin_api::config::ProcessEnv;
use tokio_util::sync::CancellationToken;
use tracing::info;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config, &ProcessEnv)?;
    match cli.command {
        Command::Check => {
            println!("{}", config.summary());
            Ok(())
        }
        Command::Serve => serve(config).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let summary = config.summary();
    let app = Application::build(config)
        .await
        .context("cannot start herald")?;
    let addr = app.local_addr().context("cannot read the bound address")?;
    info!("herald listening on http://{addr} (webhooks: POST http://{addr}/webhooks/stripe)");
    for line in summary.lines() {
        info!("{line}");
    }
    let stop = CancellationToken::new();
    shutdown::cancel_on_signal(stop.clone());
    app.run_until_stopped(stop).await.context("server failed")?;
    info!("herald stopped");
    Ok(())
}
