//! `herald route`: the dry run of the route stage for one event, printed for a
//! person or, with `--json`, for scripts. Opens no database and sends nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use herald_plugin_api::Env;

use super::render::load_event;
use crate::dry_run::{ActionPreview, RouteReport, RuleReport};
use crate::Config;

/// `herald route (EVENT.json | --sample TYPE) [--json]`
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("input").required(true))]
pub struct RouteArgs {
    /// A Stripe event as Stripe sends it (`herald trigger TYPE --print` writes one).
    #[arg(value_name = "EVENT.json", group = "input")]
    pub event: Option<PathBuf>,
    /// Use herald's sample event of this type instead (`herald trigger --list`).
    #[arg(long, value_name = "TYPE", group = "input")]
    pub sample: Option<String>,
    /// Print the report as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

/// Traces the rules for the event and prints the report.
///
/// # Errors
/// When the config or the event cannot be read.
pub fn run(config_path: &Path, args: &RouteArgs, env: &dyn Env) -> anyhow::Result<()> {
    let config = Config::load(config_path, env)?;
    let sample = load_event(args.event.as_deref(), args.sample.as_deref())?;
    let report = RouteReport::build(&config, &sample);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(())
}

/// The report as a person reads it.
pub fn text(report: &RouteReport) -> String {
    let mut out = format!("{} {} ({})\n", report.kind, report.event_id, report.input);
    for rule in &report.rules {
        out.push('\n');
        rule_text(&mut out, rule, &report.kind);
    }
    let matched = report.matched().count();
    let actions: usize = report.matched().map(|rule| rule.actions.len()).sum();
    let _ = writeln!(
        out,
        "\n{matched} of {} rules match, {actions} action{} would run (dry run: nothing sent, nothing stored)",
        report.rules.len(),
        if actions == 1 { "" } else { "s" }
    );
    out
}

fn rule_text(out: &mut String, rule: &RuleReport, kind: &str) {
    let deferred = rule
        .comparisons
        .iter()
        .any(|comparison| comparison.deferred);
    let verdict = if rule.matched && deferred {
        "matched, if the order agrees at delivery"
    } else if rule.matched {
        "matched"
    } else {
        "not matched"
    };
    let (what, on) = if rule.followup.is_some() {
        ("follow-up", "after")
    } else if rule.digest {
        ("digest", "on")
    } else {
        ("rule", "on")
    };
    let _ = writeln!(out, "{what} {}: {verdict}", rule.name);
    match &rule.on {
        Some(pattern) => {
            let _ = writeln!(out, "  {on}: {pattern}");
        }
        None => {
            let _ = writeln!(out, "  {on}: no pattern matches {kind}");
            return;
        }
    }
    if let Some(when) = &rule.when {
        let _ = writeln!(out, "  when: {when}");
        for comparison in &rule.comparisons {
            let _ = writeln!(out, "    {}", comparison.line());
        }
    }
    if let (Some(followup), true) = (&rule.followup, rule.matched) {
        let unless = followup.unless.join(", ");
        let _ = match (followup.due_at_ms, &followup.about) {
            (Some(due), Some(about)) => writeln!(
                out,
                "  waits until {} UTC; runs then unless {unless} about {about} comes first",
                crate::cli::ops::format_ms(Some(due))
            ),
            _ => writeln!(
                out,
                "  plans nothing: the event lacks the key or the deadline the follow-up needs"
            ),
        };
    }
    for action in &rule.actions {
        action_text(out, action);
    }
}

fn action_text(out: &mut String, action: &ActionPreview) {
    let kind = action.kind.as_deref().unwrap_or("not configured");
    let _ = writeln!(out, "  action {}: {} ({kind})", action.index, action.plugin);
    let _ = writeln!(out, "    idempotency key: {}", action.idempotency_key);
    lines_text(out, action, "    ");
    let mut before = action.plugin.as_str();
    for (step, next) in action.fallback.iter().enumerate() {
        let kind = next.kind.as_deref().unwrap_or("not configured");
        let _ = writeln!(
            out,
            "    fallback {}: {} ({kind}), when {before} gives up",
            step + 1,
            next.plugin
        );
        lines_text(out, next, "      ");
        before = next.plugin.as_str();
    }
}

/// The rendered lines of `action`, each under `indent`.
fn lines_text(out: &mut String, action: &ActionPreview, indent: &str) {
    for line in &action.lines {
        let (value, error) = (line.value.as_deref(), line.error.as_deref());
        let shown = match (value, error) {
            (_, Some(error)) => format!("ERROR {error}"),
            (Some(value), None) => value.to_owned(),
            (None, None) => String::new(),
        };
        if !shown.contains('\n') {
            let _ = writeln!(out, "{indent}{}: {shown}", line.label);
            continue;
        }
        let _ = writeln!(out, "{indent}{}:", line.label);
        for row in shown.lines() {
            let _ = writeln!(out, "{}", format!("{indent}  {row}").trim_end());
        }
    }
}
