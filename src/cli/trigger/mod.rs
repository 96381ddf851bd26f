//! `herald trigger`: a sample Stripe event, signed as Stripe signs it, sent to a
//! herald, as `stripe trigger` does for a real account.

mod target;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use herald_plugin_api::Env;
use serde_json::Value;

pub use self::target::{default_url, resolve, resolve_secret, Target, WEBHOOK_PATH};
use crate::samples::{self, Assignment};
use crate::source::stripe::sign;

/// How long to wait for herald's answer: it answers once the event is committed.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `herald trigger …`
#[derive(Debug, Clone, Args)]
pub struct TriggerArgs {
    /// The event type, e.g. payment_intent.succeeded (`--list` shows them all).
    #[arg(
        value_name = "TYPE",
        required_unless_present_any = ["list", "file", "story"],
        conflicts_with_all = ["list", "file", "story"]
    )]
    pub kind: Option<String>,
    /// Send a story's events one after the other, e.g. order-disputed (an unknown name
    /// lists the stories); each --set applies to every one of them.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["list", "file", "print"])]
    pub story: Option<String>,
    /// List the event types there is a sample of, and exit.
    #[arg(long)]
    pub list: bool,
    /// With --list: print the types as a JSON array.
    #[arg(long, requires = "list")]
    pub json: bool,
    /// Send this file's bytes exactly as they are instead of a sample.
    #[arg(long, value_name = "FILE", conflicts_with = "set")]
    pub file: Option<PathBuf>,
    /// Change a field of the sample (of every event, with --story) first (repeatable): a
    /// dotted path from the event's top, missing objects created; VALUE is JSON if it
    /// parses (49, true, null, "007"), else text. E.g. --set data.object.metadata.order_id=A17
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Assignment>,
    /// Where to POST [default: http://<[server].listen of the config>/webhooks/stripe].
    #[arg(long)]
    pub url: Option<String>,
    /// The signing secret [default: the config's [sources.stripe] secret].
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Print the event (stdout) and its Stripe-Signature header (stderr); send nothing.
    #[arg(long)]
    pub print: bool,
}

/// An event ready to send: its bytes, and its type and id when it has them.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The exact bytes signed and sent.
    pub body: Vec<u8>,
    /// The event's `type`.
    pub kind: Option<String>,
    /// The event's `id`.
    pub id: Option<String>,
}

/// herald's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The response body, as text.
    pub body: String,
}

/// `kind`'s sample with a fresh id, dated `now`, with `sets` applied in order;
/// the body is pretty JSON with a final newline, as Stripe sends it.
///
/// # Errors
/// An unknown type (naming close ones), or a `--set` through a non-object.
pub fn build(kind: &str, sets: &[Assignment], now: i64) -> anyhow::Result<Outgoing> {
    if samples::is_herald(kind) {
        bail!(
            "`{kind}` is an event of herald's own: herald raises it (see docs/operations.md), \
             Stripe never sends it, so trigger does not either"
        );
    }
    let mut event = samples::sample(kind, now, &samples::fresh_event_id())?;
    for assignment in sets {
        samples::set(&mut event, assignment)?;
    }
    Ok(outgoing_of(&event))
}

/// `event` as Stripe sends it: pretty JSON with a final newline.
fn outgoing_of(event: &Value) -> Outgoing {
    Outgoing {
        kind: event.get("type").and_then(Value::as_str).map(str::to_owned),
        id: event.get("id").and_then(Value::as_str).map(str::to_owned),
        body: samples::to_pretty_json(event),
    }
}

/// A file's bytes to send unchanged; its type and id are read if it is JSON.
///
/// # Errors
/// When the file cannot be read.
pub fn from_file(path: &Path) -> anyhow::Result<Outgoing> {
    let body = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |name: &str| event.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(Outgoing {
        kind: field("type"),
        id: field("id"),
        body,
    })
}

/// The `Stripe-Signature` header for `body`, signed at `timestamp` (Unix seconds).
pub fn signature_header(body: &[u8], secret: &str, timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        sign(body, secret.as_bytes(), timestamp)
    )
}

/// POSTs `body` to `url` as Stripe would, signed with `secret` at `timestamp`.
///
/// # Errors
/// When no answer arrives (refused, timed out): herald is probably not running.
pub async fn send(
    url: &str,
    secret: &str,
    body: Vec<u8>,
    timestamp: i64,
) -> anyhow::Result<Answer> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .context("cannot build an HTTP client")?;
    let header = signature_header(&body, secret, timestamp);
    let response = client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header("stripe-signature", header)
        .body(body)
        .send()
        .await
        .with_context(|| format!("no answer from {url}: is `herald serve` running there?"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("cannot read the answer from {url}"))?;
    Ok(Answer { status, body })
}

/// Runs `herald trigger` with `config` as the config file.
///
/// # Errors
/// Anything that kept the event from being built or sent, and an answer other than 2xx.
pub async fn run(config: &Path, args: &TriggerArgs, env: &dyn Env) -> anyhow::Result<()> {
    if args.list {
        print_list(args.json);
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    if let Some(name) = &args.story {
        let mut events = samples::story(name, now)?;
        // Each `--set` applies to every event of the story (the order's line items…).
        for event in &mut events {
            for assignment in &args.set {
                samples::set(event, assignment)?;
            }
        }
        let target = resolve(config, args.url.as_deref(), args.secret.as_deref(), env)?;
        for event in events {
            send_and_report(&target, outgoing_of(&event), now).await?;
        }
        return Ok(());
    }
    let outgoing = match (&args.file, &args.kind) {
        (Some(file), _) => from_file(file)?,
        (None, Some(kind)) => build(kind, &args.set, now)?,
        (None, None) => bail!("name an event type, or pass --file or --list"),
    };
    if args.print {
        // Only the secret is needed: a URL given here keeps the config's listen unread.
        let target = resolve(config, Some(""), args.secret.as_deref(), env)?;
        eprintln!(
            "Stripe-Signature: {}",
            signature_header(&outgoing.body, &target.secret, now)
        );
        print!("{}", String::from_utf8_lossy(&outgoing.body));
        return Ok(());
    }
    let target = resolve(config, args.url.as_deref(), args.secret.as_deref(), env)?;
    send_and_report(&target, outgoing, now).await
}

/// Sends `outgoing` to `target`, printing what goes and what herald answered.
async fn send_and_report(target: &Target, outgoing: Outgoing, now: i64) -> anyhow::Result<()> {
    println!(
        "sending {} {} to {}",
        outgoing.kind.as_deref().unwrap_or("event"),
        outgoing.id.as_deref().unwrap_or("(no id)"),
        target.url
    );
    let answer = send(&target.url, &target.secret, outgoing.body, now).await?;
    println!("{}", answer.status);
    if !answer.body.is_empty() {
        println!("{}", answer.body);
    }
    if !answer.status.is_success() {
        bail!("herald answered {}", answer.status);
    }
    Ok(())
}

/// `--list`: one type a line, or a JSON array.
fn print_list(json: bool) {
    let kinds: Vec<&str> = samples::stripe_types().collect();
    if json {
        println!("{}", Value::from(kinds));
    } else {
        for kind in kinds {
            println!("{kind}");
        }
    }
}
