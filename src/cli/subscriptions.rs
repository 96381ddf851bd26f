//! `herald subscriptions`: the subscriptions plugin's ledger, listed or one by one.

use anyhow::bail;
use clap::{Args, Subcommand};
use comfy_table::{presets, Table};
use herald_plugin_subscriptions::ledger::{
    SubscriptionFilter, SubscriptionLedger, SubscriptionState,
};
use serde_json::json;

use super::ops::{format_ms, open};
use crate::config::StoreConfig;

/// How many subscriptions a listing shows at most.
const LIST_LIMIT: usize = 200;

/// `herald subscriptions` options.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SubscriptionsArgs {
    #[command(subcommand)]
    pub command: Option<SubscriptionsCommand>,
    /// Only subscriptions in this status (active, past_due, canceled, …).
    #[arg(long)]
    pub status: Option<String>,
    /// Only this customer's (cus_…).
    #[arg(long)]
    pub customer: Option<String>,
    /// Print JSON (the admin API's shape) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `herald subscriptions …`
#[derive(Debug, Clone, Subcommand)]
pub enum SubscriptionsCommand {
    /// One subscription and every event that spoke about it.
    Show {
        /// The subscription's id, sub_….
        id: String,
        /// Print JSON (the admin API's shape) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `herald subscriptions`
///
/// # Errors
/// When the database cannot be read, a status is unknown or the subscription is not.
pub async fn run(config: &StoreConfig, args: &SubscriptionsArgs) -> anyhow::Result<()> {
    let store = open(config).await?;
    if let Some(SubscriptionsCommand::Show { id, json }) = &args.command {
        let Some((state, facts)) = store.get(id).await? else {
            bail!("no subscription {id}: the subscriptions plugin has seen no event for it");
        };
        let entitlements = match &state.customer {
            Some(customer) => store.entitlements(customer).await?,
            None => Vec::new(),
        };
        if *json {
            let shown =
                json!({ "subscription": state, "entitlements": entitlements, "facts": facts });
            println!("{shown:#}");
            return Ok(());
        }
        println!("{}", describe(&state));
        if !entitlements.is_empty() {
            println!("  the customer's entitlements: {}", entitlements.join(", "));
        }
        for fact in facts {
            println!(
                "  {}  {:<40}  {}",
                format_ms(Some(fact.created.saturating_mul(1000))),
                fact.event_type,
                fact.event_id
            );
        }
        return Ok(());
    }
    let filter = SubscriptionFilter {
        status: args
            .status
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        customer: args.customer.clone(),
        limit: LIST_LIMIT,
    };
    let states = store.list(&filter).await?;
    if args.json {
        println!("{:#}", json!({ "subscriptions": states }));
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_header(vec![
        "subscription",
        "customer",
        "status",
        "access",
        "plan",
        "period end (UTC)",
    ]);
    for state in &states {
        table.add_row(vec![
            state.id.clone(),
            state.customer.clone().unwrap_or_else(|| "-".to_owned()),
            state.status.to_string(),
            if state.access { "yes" } else { "no" }.to_owned(),
            plan(state),
            format_ms(state.current_period_end.map(|s| s.saturating_mul(1000))),
        ]);
    }
    println!("{}", table.trim_fmt());
    println!(
        "{} subscriptions, most recently changed first",
        states.len()
    );
    Ok(())
}

/// The items' nicknames (their prices when they have none).
fn plan(state: &SubscriptionState) -> String {
    let names: Vec<String> = state
        .items
        .iter()
        .map(|item| {
            let name = item
                .nickname
                .clone()
                .or_else(|| item.price.clone())
                .unwrap_or_default();
            match item.quantity {
                Some(quantity) if quantity != 1 => format!("{quantity} × {name}"),
                _ => name,
            }
        })
        .collect();
    names.join(", ")
}

/// The status line of `herald subscriptions show`.
fn describe(state: &SubscriptionState) -> String {
    let ends = if state.cancel_at_period_end {
        ", cancels at period end"
    } else {
        ""
    };
    format!(
        "subscription {} of {}: {}, access {}{} ({}; decided by {} at {})",
        state.id,
        state.customer.as_deref().unwrap_or("-"),
        state.status,
        if state.access { "yes" } else { "no" },
        ends,
        plan(state),
        state.decided_by,
        format_ms(Some(state.decided_at.saturating_mul(1000))),
    )
}
