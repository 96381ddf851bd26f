//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// herald: turns verified webhooks into notifications and side effects.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
pub struct Cli {
    /// The config file; relative paths inside it are taken from its folder.
    #[arg(
        short,
        long,
        global = true,
        env = "HERALD_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive webhooks and deliver their actions until SIGINT/SIGTERM.
    Serve,
    /// Validate the config file (and templates) and exit: 0 when valid, 1 when not.
    Check,
    /// Print a Stripe-Signature header for a file, signed now, for trying herald with curl.
    Sign {
        /// The exact bytes to send as the webhook body.
        file: PathBuf,
        /// The endpoint secret to sign with.
        #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
    },
}
