//! Logging set-up, once, at the binary's edge.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event, for people.
    Text,
    /// One JSON object per line, the event's fields (`event_id`, `job_id`,
    /// `plugin`, …) at its top level, for a log pipeline.
    Json,
}

/// Installs the text subscriber; see [`init_as`].
pub fn init() {
    init_as(LogFormat::Text);
}

/// Installs a `tracing` subscriber writing to stderr in `format`, filtered by
/// `RUST_LOG` (default: `info`, with sqlx's per-query logs quietened). Colours
/// only on a terminal: journald, docker and log files would show the escape codes
/// as text.
pub fn init_as(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests) finds a subscriber installed; that is fine.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
