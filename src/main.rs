//! The `herald` binary: parse the command line, load config, run.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use herald::cli::{Cli, Command};
use herald::source::stripe::sign;
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
    match cli.command {
        Command::Check => {
            let config = Config::load(&cli.config, &ProcessEnv)?;
            println!("{}\nconfig is valid", config.summary());
            Ok(())
        }
        Command::Serve => serve(Config::load(&cli.config, &ProcessEnv)?).await,
        Command::Sign { file, secret } => {
            let body =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let t = chrono::Utc::now().timestamp();
            println!("t={t},v1={}", sign(&body, secret.as_bytes(), t));
            Ok(())
        }
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
