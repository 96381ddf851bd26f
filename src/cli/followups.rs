//! `herald followups`: the follow-ups waiting for their deadline, soonest first.

use clap::Args;
use comfy_table::{presets, Table};
use serde_json::json;

use super::ops::{format_ms, open};
use crate::config::StoreConfig;
use crate::Config;

/// How many waiting follow-ups a listing shows at most.
pub const LIST_LIMIT: i64 = 500;

/// `herald followups` options.
#[derive(Debug, Clone, Args)]
pub struct FollowupsArgs {
    /// Print JSON (the admin API's shape) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `herald followups`
///
/// # Errors
/// When the database cannot be read.
pub async fn run(config: &Config, args: &FollowupsArgs) -> anyhow::Result<()> {
    let store = open(&StoreConfig::from(config)).await?;
    let names = config.reloadable.rules.followup_names();
    let waiting = store.pending_followups(&names, LIST_LIMIT).await?;
    if args.json {
        println!("{:#}", json!({ "followups": waiting }));
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_header(vec![
        "due (UTC)",
        "follow-up",
        "action",
        "event",
        "type",
        "object",
        "order",
    ]);
    for followup in &waiting {
        table.add_row(vec![
            format_ms(Some(followup.due_at_ms)),
            followup.rule.clone(),
            followup.plugin.clone(),
            followup.event_id.clone(),
            followup.event_type.clone(),
            followup.object_id.clone().unwrap_or_else(|| "-".to_owned()),
            followup.order_id.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    if !waiting.is_empty() {
        println!("{}", table.trim_fmt());
    }
    println!(
        "{} follow-up jobs waiting, soonest first; each runs at its time unless an event it waits for comes first",
        waiting.len()
    );
    Ok(())
}
