//! Command-line interface: the clap types, and the operator commands in [`ops`].

pub mod backfill;
pub mod check;
pub mod customers;
pub mod digest;
pub mod error;
pub mod events;
pub mod followups;
pub mod ops;
mod progress;
pub mod purge_queued;
pub mod reconcile;
pub mod relink;
pub mod render;
pub mod report;
pub mod route;
mod running;
pub mod stripe_check;
pub mod subscriptions;
pub mod trigger;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::telemetry::LogFormat;

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

    /// How log lines are written to stderr: `text` for people, `json` (one object
    /// a line) for a log pipeline.
    #[arg(
        long,
        global = true,
        env = "HERALD_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive webhooks and deliver their actions until SIGINT/SIGTERM
    ///
    /// Edits of the config file and the templates are reloaded while it runs, and
    /// SIGHUP (`systemctl reload`) reloads too; see docs/operations.md.
    Serve {
        /// Do not watch the config file and templates: reload on SIGHUP only.
        #[arg(long)]
        no_watch: bool,
    },
    /// Validate the config file, render its templates, and exit: 0 when valid, 1 when not
    ///
    /// Besides parsing, every template a rule uses is rendered against every sample
    /// event the rule matches (`herald trigger --list`), with the context delivery
    /// builds; each missing field is a problem with its file:line, the rule and the
    /// sample.
    ///
    /// Examples:
    ///   herald check
    ///   herald check --samples saved-events/
    #[command(verbatim_doc_comment)]
    Check(check::CheckArgs),
    /// Render a template set against an event, exactly as delivery would
    ///
    /// Prints the subject and the text part; with --out, writes SET.subject, SET.txt
    /// and SET.html into DIR to open in a browser. A field that is not in the data is
    /// an error naming its file:line:column; nothing is written then.
    ///
    /// Examples:
    ///   herald render payment_succeeded --sample payment_intent.succeeded
    ///   herald render refund_issued --event event.json --out preview/
    #[command(verbatim_doc_comment)]
    Render(render::RenderArgs),
    /// Dry-run the rules on an event: what matches, why, and what it would send
    ///
    /// For every rule: matched or not, the `on` pattern that matched, and each `when`
    /// comparison with the value it read. For each matched action: the plugin
    /// instance, the idempotency key, and what delivery would send, composed by the
    /// plugin's own code with secrets masked (a template error shows in place with its
    /// file:line). Sends nothing, opens no database, writes nothing. --json prints the
    /// report for scripts (docs/operations.md).
    ///
    /// Examples:
    ///   herald route tests/fixtures/stripe/payment_intent.succeeded.json
    ///   herald route --sample charge.refunded --json
    #[command(verbatim_doc_comment)]
    Route(route::RouteArgs),
    /// Print a Stripe-Signature header for a file, signed now, for trying herald with curl.
    Sign {
        /// The exact bytes to send as the webhook body.
        file: PathBuf,
        /// The endpoint secret to sign with; without it (and STRIPE_WEBHOOK_SECRET), the
        /// config's [sources.stripe] secret.
        #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
    /// Send a sample Stripe event of a type, signed as Stripe signs it, to a herald
    ///
    /// Like `stripe trigger`: the event gets a fresh evt_ id and `created` = now, is
    /// signed with the endpoint secret and POSTed; herald's status and body are printed,
    /// and a non-2xx answer exits 1. Without --url it goes to the config's
    /// [server].listen; without --secret (or STRIPE_WEBHOOK_SECRET) it is signed with
    /// the config's [sources.stripe] secret.
    ///
    /// Examples:
    ///   herald trigger payment_intent.succeeded
    ///   herald trigger charge.refunded --set data.object.metadata.order_id=A17
    ///   herald trigger payment_intent.succeeded --print > event.json
    ///   herald trigger --file event.json --url http://127.0.0.1:8787/webhooks/stripe
    #[command(verbatim_doc_comment)]
    Trigger(trigger::TriggerArgs),
    /// List dead letters: jobs that failed for good or ran out of retries.
    DeadLetters {
        #[command(flatten)]
        filter: FilterArgs,
        /// Show at most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON (the admin API's shape) instead of a table, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead letters again, each with a fresh retry budget.
    Replay {
        #[command(flatten)]
        filter: FilterArgs,
        /// List the jobs that would be replayed, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Deliver a stored event again, all its actions, with the current rules and templates.
    Redeliver {
        /// The provider's event id, e.g. evt_1R4Q….
        event_id: String,
        /// The source that received it.
        #[arg(long, default_value = crate::source::stripe::NAME)]
        source: String,
    },
    /// Apply one rule to events already stored: queue only that rule's jobs
    ///
    /// For a rule added after the events arrived: each stored event (received in
    /// the window) that the rule matches gets the rule's jobs, under the keys ingest
    /// would have given them, so the other rules' actions are not sent again and a
    /// second backfill adds nothing. A running `herald serve` delivers them.
    ///
    /// Examples:
    ///   herald backfill --rule refund_mail --dry-run
    ///   herald backfill --rule refund_mail --since 2026-11-23T00:00:00Z
    #[command(verbatim_doc_comment)]
    Backfill(backfill::BackfillArgs),
    /// Learn the links between Stripe objects and the customers' contacts from the
    /// events stored before herald kept them (after upgrading to this version).
    ///
    /// Nothing is sent and no job is added; running it twice changes nothing more.
    /// Until it has run, a dispute on a payment made before the upgrade finds no order.
    #[command(verbatim_doc_comment)]
    Relink,
    /// Fetch from Stripe's API the events it could not deliver (herald was down, the
    /// endpoint misconfigured) and store and route those herald lacks.
    ///
    /// Needs [sources.stripe] api_key. Stripe keeps events for 30 days.
    ///
    /// Examples:
    ///   herald reconcile --since 6h --dry-run
    ///   herald reconcile --from 2026-12-01T00:00:00Z --all
    #[command(verbatim_doc_comment)]
    Reconcile(reconcile::ReconcileArgs),
    /// Talk to Stripe's API about the account (needs [sources.stripe] api_key).
    Stripe {
        #[command(subcommand)]
        command: StripeCommand,
    },
    /// Delete dead letters (or, with --queued, the jobs waiting for a removed
    /// plugin instance) and their attempt history for good.
    ///
    /// Examples:
    ///   herald purge --rule refund --yes
    ///   herald purge --queued --plugin old_sms --yes
    #[command(verbatim_doc_comment)]
    Purge {
        #[command(flatten)]
        filter: FilterArgs,
        /// Purge the jobs still queued for --plugin, an instance no longer in the config.
        #[arg(long, requires = "plugin", conflicts_with_all = ["jobs", "event", "rule", "since", "until", "all"])]
        queued: bool,
        /// Confirm: without it, purge only says what it would delete.
        #[arg(long)]
        yes: bool,
    },
    /// List stored events, newest first, with what became of their jobs
    ///
    /// An event is dead if any of its jobs is dead, else pending while any job
    /// waits, else delivered (an event no rule matched has no jobs and counts as
    /// delivered). --json prints {"events": [...]}, see docs/operations.md.
    ///
    /// Examples:
    ///   herald events --status dead --since 2026-11-23T00:00:00Z
    ///   herald events --type 'charge.*' --order A17
    #[command(verbatim_doc_comment)]
    Events(events::EventsArgs),
    /// Show one stored event: its fields, its jobs, and every attempt they made
    ///
    /// --payload prints the body as received; --json the whole of it for
    /// scripts (docs/operations.md). An event not stored exits 1.
    #[command(verbatim_doc_comment)]
    Event(events::EventArgs),
    /// Show one job and every attempt it made.
    Job {
        /// The job id, as dead-letters lists it.
        id: i64,
        /// Print JSON (the admin API's shape) instead of a table, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Delete delivered events past `dispatch.retention_days` now (serve does it hourly).
    Prune,
    /// Show stock levels (the inventory plugin's ledger), or adjust one by hand.
    Inventory {
        /// One SKU; all when omitted.
        sku: Option<String>,
        /// Add this many to the SKU (negative to remove), e.g. after a delivery from the supplier.
        #[arg(long, requires = "sku", allow_hyphen_values = true)]
        adjust: Option<i64>,
        /// Print JSON (the admin API's shape) instead of a table, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Orders as the orders plugin keeps them.
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
    },
    /// The accountant's report: one row per money movement, totals per currency.
    ///
    /// Examples:
    ///   herald report --from 2026-11-01 --to 2026-11-30
    ///   herald report --from 2026-11-01 --to 2026-11-30 --format csv > november.csv
    #[command(verbatim_doc_comment)]
    Report(report::ReportArgs),
    /// The follow-ups waiting for their deadline, soonest first.
    Followups(followups::FollowupsArgs),
    /// The digests: `list` their schedules, `run NAME` to send one now.
    Digest(digest::DigestArgs),
    /// Subscriptions as the subscriptions plugin keeps them; `show SUB_ID` for one.
    ///
    /// Examples:
    ///   herald subscriptions --status past_due
    ///   herald subscriptions show sub_1PpTbmHrLd9TstRsHdRXfr8n
    #[command(verbatim_doc_comment)]
    Subscriptions(subscriptions::SubscriptionsArgs),
    /// Show what herald learned of a customer's contact from the events naming them.
    Customer {
        /// The provider's customer id, e.g. cus_….
        customer_id: String,
        /// The source whose customer it is.
        #[arg(long, default_value = "stripe")]
        source: String,
        /// Print JSON (the admin API's shape) instead of lines, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// `herald stripe …`
#[derive(Debug, Subcommand)]
pub enum StripeCommand {
    /// Compare the account's webhook endpoints with the rules: exit 1 when a rule
    /// waits for a type no enabled endpoint sends; warn about types sent that no rule
    /// uses and about an endpoint on another API version.
    Check {
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `herald orders …`
#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Show an order's status and every event that spoke about it.
    Show {
        /// The shop's order id, as in the events' metadata.order_id.
        order_id: String,
        /// Print JSON (the admin API's shape) instead of a table, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// Which dead letters a command means.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// These job ids (repeat the flag for several).
    #[arg(long = "job")]
    pub jobs: Vec<i64>,
    /// Jobs of this event id.
    #[arg(long)]
    pub event: Option<String>,
    /// Jobs planned by this rule.
    #[arg(long)]
    pub rule: Option<String>,
    /// Jobs for this plugin instance.
    #[arg(long)]
    pub plugin: Option<String>,
    /// Dead since this time: RFC 3339 (2026-11-23T10:00:00Z) or Unix seconds.
    #[arg(long)]
    pub since: Option<String>,
    /// Dead before this time: RFC 3339 or Unix seconds.
    #[arg(long)]
    pub until: Option<String>,
    /// Every dead letter (required when no other filter is given, so nothing is replayed or purged by accident).
    #[arg(long)]
    pub all: bool,
}
