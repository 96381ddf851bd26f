//! `herald render`: one template set rendered against one event, exactly as delivery
//! renders it, for a marketer to look at before the change goes live.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Args;
use herald_plugin_api::{Context, Env, TemplatePart, Templates as _};
use serde_json::Map;

use crate::check::{params_for, SampleEvent};
use crate::render::Source;
use crate::{samples, Config};

/// The parts of a set, in the order they are shown and written.
const PARTS: [TemplatePart; 3] = [
    TemplatePart::Subject,
    TemplatePart::Text,
    TemplatePart::Html,
];

/// `herald render TEMPLATE (--event FILE | --sample TYPE) [--out DIR]`
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("input").required(true))]
pub struct RenderArgs {
    /// The template set, e.g. `payment_succeeded` (or one of its files,
    /// `templates/payment_succeeded.html.hbs`).
    pub template: String,
    /// A Stripe event as Stripe sends it (`herald trigger TYPE --print` writes one).
    #[arg(long, value_name = "EVENT.json", group = "input")]
    pub event: Option<PathBuf>,
    /// Render against herald's sample event of this type instead (`herald trigger --list`).
    #[arg(long, value_name = "TYPE", group = "input")]
    pub sample: Option<String>,
    /// Write TEMPLATE.subject, TEMPLATE.txt and TEMPLATE.html into this folder, to open
    /// the HTML in a browser.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Renders and prints; writes the files when asked.
///
/// # Errors
/// When the config, the event or the template set cannot be used, or a part fails to
/// render: every missing field is named with its file, line and column.
pub fn run(config_path: &Path, args: &RenderArgs, env: &dyn Env) -> anyhow::Result<()> {
    let config = Config::load(config_path, env)?;
    let name = set_name(&args.template);
    let names = config.reloadable.templates.names();
    if !names.iter().any(|known| known == name) {
        bail!(
            "no template set `{name}` in {} (sets: {})",
            config.reloadable.templates_dir.display(),
            names.join(", ")
        );
    }
    let sample = load_event(args.event.as_deref(), args.sample.as_deref())?;
    let empty = Map::new();
    let (params, source) = match params_for(&config, name, &sample.event) {
        Some((rule, index, params)) => (params, format!("params of rule `{rule}` action {index}")),
        None => (&empty, "no rule uses this set: params empty".to_owned()),
    };
    let context = Context::new(&sample.event, &config.reloadable.shop, params);
    let templates = &config.reloadable.templates;
    let mut rendered = Vec::new();
    let mut problems = Vec::new();
    for part in PARTS.into_iter().filter(|part| templates.has(name, *part)) {
        match templates.render(name, part, context.get()) {
            Ok(text) => rendered.push((part, text)),
            Err(_) => problems.extend(templates.problems(Source::Set(name, part), context.get())),
        }
    }
    if !problems.is_empty() {
        let mut message = format!(
            "{name} does not render for {} ({} problem{}):",
            sample.name,
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        for problem in &problems {
            let _ = write!(message, "\n  {problem}");
        }
        bail!(message);
    }
    println!("{name} for {} ({}; {source})", sample.name, sample.event.id);
    for (part, text) in &rendered {
        match part {
            TemplatePart::Subject => println!("Subject: {text}"),
            TemplatePart::Text => println!("\n{}", text.trim_end()),
            TemplatePart::Html => {}
        }
    }
    match &args.out {
        Some(dir) => write_parts(dir, name, &rendered),
        None => {
            println!("\n(--out DIR writes {name}.subject, .txt and .html to open in a browser)");
            Ok(())
        }
    }
}

/// `payment_succeeded` from `payment_succeeded` or `templates/payment_succeeded.html.hbs`.
fn set_name(template: &str) -> &str {
    let file = template.rsplit(['/', '\\']).next().unwrap_or(template);
    file.split('.').next().unwrap_or(file)
}

/// The event a command was pointed at: a Stripe event file, or else a built-in sample
/// of type `sample`, with a fresh id and `created` = now (`render` and `route`).
pub(super) fn load_event(file: Option<&Path>, sample: Option<&str>) -> anyhow::Result<SampleEvent> {
    if let Some(path) = file {
        let body =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        return SampleEvent::from_json(&name, &body).with_context(|| name.clone());
    }
    let kind = sample.unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let event = samples::sample(kind, now, &samples::fresh_event_id())?;
    Ok(SampleEvent::from_value(format!("sample {kind}"), &event)?)
}

fn write_parts(dir: &Path, name: &str, rendered: &[(TemplatePart, String)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (part, text) in rendered {
        let path = dir.join(format!("{name}.{}", part.as_str()));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
    }
    println!("\nwrote {}", written.join(", "));
    Ok(())
}
