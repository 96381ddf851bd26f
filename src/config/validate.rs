//! Turns a [`RawConfig`] into a [`Config`], collecting every problem with its line.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{expand_env, ConfigIssue, Env, RetryConfig};
use secrecy::SecretString;
use toml::Spanned;

use super::raw::{DispatchConfig, RawConfig, RuleConfig};
use super::{Config, DatabaseSettings, DispatchSettings, Issue, ServerSettings, StripeSettings};
use crate::plugins::{self, PluginKind, PluginSpec};
use crate::render::Renderer;
use crate::rules::{Action, Condition, EventPattern, Rule, Rules};

/// The longest backoff ceiling accepted: a week, far past any sensible policy, and
/// small enough that durations never overflow.
const MAX_BACKOFF_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// Shortest admin token accepted: guessing 16 random characters is hopeless.
const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// The database a config without `[database]` uses: a file beside the config.
const DEFAULT_DATABASE_URL: &str = "sqlite://herald.db";

/// Where the issues found so far go, with the text to turn spans into lines.
struct Collector<'a> {
    text: &'a str,
    issues: Vec<Issue>,
}

impl Collector<'_> {
    fn at(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let line = line_of(self.text, span.start);
        self.issues.push(Issue {
            line: Some(line),
            key: key.into(),
            message: message.into(),
        });
    }

    fn unplaced(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            line: None,
            key: key.into(),
            message: message.into(),
        });
    }

    /// A plugin's own issue: its key names a table, so find that table's line.
    fn plugin_issue(&mut self, issue: ConfigIssue) {
        let line = locate_key(self.text, &issue.key);
        self.issues.push(Issue {
            line,
            key: issue.key,
            message: issue.message,
        });
    }

    fn expand(&mut self, value: &Spanned<String>, key: &str, env: &dyn Env) -> Option<String> {
        match expand_env(value.get_ref(), env) {
            Ok(expanded) => Some(expanded),
            Err(err) => {
                self.at(value.span(), key, err.to_string());
                None
            }
        }
    }
}

/// The 1-based line holding byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Finds the line of a dotted key such as `plugins.email.mailer.host`: the line
/// of `host = …` inside `[plugins.email.mailer]`, or the table header itself.
fn locate_key(text: &str, key: &str) -> Option<usize> {
    let (table, field) = key.rsplit_once('.')?;
    let header = format!("[{table}]");
    let mut in_table = false;
    let mut header_line = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if in_table {
                break;
            }
            in_table = trimmed.replace(' ', "") == header;
            if in_table {
                header_line = Some(index + 1);
            }
        } else if in_table {
            let name = trimmed.split('=').next().unwrap_or("").trim();
            if name == field {
                return Some(index + 1);
            }
        }
    }
    header_line.or_else(|| locate_key(text, table))
}

/// Validates the whole config; `Err` holds every issue found.
pub(super) fn validate(
    raw: RawConfig,
    text: &str,
    path: &Path,
    env: &dyn Env,
) -> Result<Config, Vec<Issue>> {
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    // Absolute, so logs tell an operator exactly which files herald uses.
    let base_dir = std::path::absolute(&base_dir).unwrap_or(base_dir);
    let mut issues = Collector {
        text,
        issues: Vec::new(),
    };

    let server = ServerSettings {
        listen: raw.server.listen,
        body_limit_bytes: raw.server.body_limit_bytes,
        request_timeout: Duration::from_secs(raw.server.request_timeout_secs),
    };
    if server.body_limit_bytes == 0 {
        issues.unplaced("server.body_limit_bytes", "must be greater than 0");
    }
    let database = database_settings(&raw, &base_dir, env, &mut issues);
    let dispatch = dispatch_settings(&raw.dispatch, &mut issues);

    let stripe = raw.sources.stripe.as_ref().and_then(|stripe| {
        let secret = issues.expand(&stripe.secret, "sources.stripe.secret", env)?;
        if secret.is_empty() {
            issues.at(
                stripe.secret.span(),
                "sources.stripe.secret",
                "the signing secret is empty",
            );
            return None;
        }
        Some(StripeSettings {
            secret: SecretString::from(secret),
            tolerance: Duration::from_secs(stripe.tolerance_secs),
        })
    });

    let admin_token = raw.admin.token.as_ref().and_then(|token| {
        let token = issues.expand(token, "admin.token", env)?;
        if token.len() < MIN_ADMIN_TOKEN_LEN {
            issues.at(
                raw.admin.token.as_ref().map_or(0..0, Spanned::span),
                "admin.token",
                format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters"),
            );
            return None;
        }
        Some(SecretString::from(token))
    });
    let shop = serde_json::to_value(&raw.shop).unwrap_or(serde_json::Value::Null);
    let templates_dir = base_dir.join(&raw.templates.dir);
    let templates = match Renderer::load(&templates_dir) {
        Ok(renderer) => Some(Arc::new(renderer)),
        Err(err) => {
            issues.plugin_issue(ConfigIssue::new("templates.dir", err.to_string()));
            None
        }
    };

    let mut plugin_specs = Vec::new();
    for (name, config) in &raw.plugins.email {
        let key = format!("plugins.email.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key, env, &base_dir) {
            Ok(validated) => {
                plugin_specs.push(PluginSpec::email(name.clone(), validated, config.retry));
            }
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    for (name, config) in &raw.plugins.webhook {
        let key = format!("plugins.webhook.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key, env) {
            Ok(validated) => plugin_specs.push(PluginSpec::webhook(name.clone(), validated)),
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    for (name, config) in &raw.plugins.exec {
        let key = format!("plugins.exec.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key, env, &base_dir) {
            Ok(validated) => plugin_specs.push(PluginSpec::exec(name.clone(), validated)),
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    for (name, config) in &raw.plugins.sms {
        let key = format!("plugins.sms.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key, env) {
            Ok(validated) => plugin_specs.push(PluginSpec::sms(name.clone(), validated)),
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    for (name, config) in &raw.plugins.push {
        let key = format!("plugins.push.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key, env) {
            Ok(validated) => plugin_specs.push(PluginSpec::push(name.clone(), validated)),
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    for (name, config) in &raw.plugins.orders {
        let key = format!("plugins.orders.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key, env) {
            Ok(validated) => plugin_specs.push(PluginSpec::orders(name.clone(), validated)),
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    for (name, config) in &raw.plugins.inventory {
        let key = format!("plugins.inventory.{name}");
        check_retry(&format!("{key}.retry"), &config.retry, &mut issues);
        match config.validate(&key) {
            Ok(validated) => plugin_specs.push(PluginSpec::inventory(name.clone(), validated)),
            Err(found) => found.into_iter().for_each(|i| issues.plugin_issue(i)),
        }
    }
    let mut kinds: BTreeMap<&str, PluginKind> = BTreeMap::new();
    let instances = [
        (
            PluginKind::Email,
            raw.plugins.email.keys().collect::<Vec<_>>(),
        ),
        (PluginKind::Webhook, raw.plugins.webhook.keys().collect()),
        (PluginKind::Exec, raw.plugins.exec.keys().collect()),
        (PluginKind::Sms, raw.plugins.sms.keys().collect()),
        (PluginKind::Push, raw.plugins.push.keys().collect()),
        (PluginKind::Orders, raw.plugins.orders.keys().collect()),
        (
            PluginKind::Inventory,
            raw.plugins.inventory.keys().collect(),
        ),
    ];
    for (kind, names) in instances {
        for name in names {
            if kinds.insert(name.as_str(), kind).is_some() {
                issues.plugin_issue(ConfigIssue::new(
                    format!("plugins.{}.{name}", kind.as_str()),
                    format!("another plugin instance is already named `{name}`: rules name instances, so names must be unique across kinds"),
                ));
            }
        }
    }

    let mut rules = Vec::new();
    let mut names = HashSet::new();
    for (index, rule) in raw.rules.iter().enumerate() {
        if let Some(rule) = validate_rule(
            index,
            rule,
            &kinds,
            &plugin_specs,
            templates.as_deref(),
            &mut issues,
        ) {
            if !names.insert(rule.name().to_owned()) {
                issues.at(
                    raw.rules[index].name.span(),
                    format!("rules[{index}].name"),
                    format!("another rule is already named `{}`", rule.name()),
                );
            }
            rules.push(rule);
        }
    }

    match (issues.issues.is_empty(), database, templates) {
        (true, Some(database), Some(templates)) => Ok(Config {
            path: path.to_owned(),
            server,
            database,
            dispatch,
            stripe,
            shop,
            templates,
            templates_dir,
            plugins: plugin_specs,
            rules: Arc::new(Rules::new(rules)),
            admin_token,
        }),
        _ => Err(issues.issues),
    }
}

fn database_settings(
    raw: &RawConfig,
    base_dir: &Path,
    env: &dyn Env,
    issues: &mut Collector<'_>,
) -> Option<DatabaseSettings> {
    let url = match &raw.database.url {
        Some(url) => issues.expand(url, "database.url", env)?,
        None => DEFAULT_DATABASE_URL.to_owned(),
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Some(DatabaseSettings {
            display: redact_password(&url),
            url: SecretString::from(url),
        });
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        let message = "expected sqlite://PATH or postgres://USER@HOST/DB";
        match &raw.database.url {
            Some(spanned) => issues.at(spanned.span(), "database.url", message),
            None => issues.unplaced("database.url", message),
        }
        return None;
    };
    let rest = rest.trim_start_matches("//");
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let resolved = if file == ":memory:" || Path::new(file).is_absolute() {
        PathBuf::from(file)
    } else {
        base_dir.join(file)
    };
    let mut full = format!("sqlite://{}", resolved.display());
    if !query.is_empty() {
        full.push('?');
        full.push_str(query);
    }
    Some(DatabaseSettings {
        display: full.clone(),
        url: SecretString::from(full),
    })
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}/{path}")
        }
        None => url.to_owned(),
    }
}

fn dispatch_settings(raw: &DispatchConfig, issues: &mut Collector<'_>) -> DispatchSettings {
    if raw.concurrency == 0 {
        issues.unplaced("dispatch.concurrency", "must be at least 1");
    }
    if raw.lease_secs == 0 {
        issues.unplaced("dispatch.lease_secs", "must be at least 1");
    }
    let retry = RetryConfig {
        max_attempts: Some(raw.max_attempts),
        max_age_secs: Some(raw.max_age_secs),
        backoff_base_secs: Some(raw.backoff_base_secs),
        backoff_max_secs: Some(raw.backoff_max_secs),
    };
    check_retry("dispatch", &retry, issues);
    let day = 24 * 3600;
    if raw.retention_days > 0 && raw.retention_days * day < raw.max_age_secs {
        issues.unplaced(
            "dispatch.retention_days",
            "must cover dispatch.max_age_secs: events still being retried cannot be pruned",
        );
    }
    DispatchSettings {
        enabled: raw.enabled,
        concurrency: raw.concurrency.max(1),
        poll_interval: Duration::from_millis(raw.poll_interval_ms.max(10)),
        lease: Duration::from_secs(raw.lease_secs.max(1)),
        retry,
        breaker_failures: raw.breaker_failures,
        breaker_cooldown: Duration::from_secs(raw.breaker_cooldown_secs),
        retention: (raw.retention_days > 0)
            .then(|| Duration::from_secs(raw.retention_days.saturating_mul(day))),
    }
}

/// Checks the fields of a `retry` table that are set.
fn check_retry(key: &str, retry: &RetryConfig, issues: &mut Collector<'_>) {
    if retry.max_attempts == Some(0) {
        issues.plugin_issue(ConfigIssue::new(
            format!("{key}.max_attempts"),
            "must be at least 1",
        ));
    }
    for (name, value) in [
        ("backoff_base_secs", retry.backoff_base_secs),
        ("backoff_max_secs", retry.backoff_max_secs),
    ] {
        if value.is_some_and(|v| !v.is_finite() || !(0.0..=MAX_BACKOFF_SECS).contains(&v)) {
            issues.plugin_issue(ConfigIssue::new(
                format!("{key}.{name}"),
                format!("must be between 0 and {MAX_BACKOFF_SECS} seconds"),
            ));
        }
    }
    if let (Some(base), Some(max)) = (retry.backoff_base_secs, retry.backoff_max_secs) {
        if base > max {
            issues.plugin_issue(ConfigIssue::new(
                format!("{key}.backoff_base_secs"),
                "must not exceed backoff_max_secs",
            ));
        }
    }
}

fn validate_rule(
    index: usize,
    raw: &RuleConfig,
    kinds: &BTreeMap<&str, PluginKind>,
    specs: &[PluginSpec],
    templates: Option<&Renderer>,
    issues: &mut Collector<'_>,
) -> Option<Rule> {
    let before = issues.issues.len();
    let name = raw.name.get_ref();
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        issues.at(
            raw.name.span(),
            format!("rules[{index}].name"),
            format!("`{name}` is not a valid rule name: use letters, digits, `-` and `_`"),
        );
    }
    let label = format!("rules[{index}] ({name})");

    if raw.on.is_empty() {
        issues.at(
            raw.name.span(),
            format!("{label}.on"),
            "lists no event types; add e.g. on = [\"payment_intent.succeeded\"]",
        );
    }
    let mut patterns = Vec::new();
    for (i, pattern) in raw.on.iter().enumerate() {
        match EventPattern::from_str(pattern.get_ref()) {
            Ok(parsed) => patterns.push(parsed),
            Err(err) => issues.at(pattern.span(), format!("{label}.on[{i}]"), err.to_string()),
        }
    }

    let condition = match &raw.when {
        None => None,
        Some(when) => match Condition::from_str(when.get_ref()) {
            Ok(condition) => Some(condition),
            Err(err) => {
                issues.at(
                    when.span(),
                    format!("{label}.when"),
                    format!("`{}`: {err}", when.get_ref()),
                );
                None
            }
        },
    };

    let mut actions = Vec::new();
    for (i, action) in raw.actions.iter().enumerate() {
        let key = format!("{label}.actions[{i}]");
        let mut params = action.get_ref().clone();
        let plugin = match params.remove("plugin") {
            Some(toml::Value::String(plugin)) => plugin,
            Some(_) => {
                issues.at(action.span(), format!("{key}.plugin"), "must be a string");
                continue;
            }
            None => {
                issues.at(
                    action.span(),
                    format!("{key}.plugin"),
                    "missing: name the plugin instance that carries out this action",
                );
                continue;
            }
        };
        if !kinds.contains_key(plugin.as_str()) {
            let known: Vec<&str> = kinds.keys().copied().collect();
            let known = if known.is_empty() {
                "none are configured".to_owned()
            } else {
                format!("configured: {}", known.join(", "))
            };
            issues.at(
                action.span(),
                format!("{key}.plugin"),
                format!("no plugin instance named `{plugin}` ({known})"),
            );
            continue;
        }
        let params = match serde_json::to_value(&params) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                issues.at(action.span(), key, "parameters must be a table");
                continue;
            }
        };
        // An instance that failed its own validation has no spec; its issues are reported.
        let spec = specs.iter().find(|spec| spec.name == plugin);
        if let (Some(spec), Some(templates)) = (spec, templates) {
            if let Err(problems) = plugins::validate_action(spec, &params, templates) {
                for problem in problems {
                    issues.at(action.span(), key.clone(), problem);
                }
            }
        }
        actions.push(Action::new(plugin, params));
    }
    if raw.actions.is_empty() {
        issues.at(
            raw.name.span(),
            format!("{label}.actions"),
            "lists no actions; a rule without actions does nothing",
        );
    }

    check_retry(&format!("{label}.retry"), &raw.retry, issues);
    (issues.issues.len() == before)
        .then(|| Rule::new(name.clone(), patterns, condition, actions).with_retry(raw.retry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_stay_out_of_logs() {
        assert_eq!(
            redact_password("postgres://herald:s3cret@db:5432/herald"),
            "postgres://herald:***@db:5432/herald"
        );
        assert_eq!(
            redact_password("postgres://herald@127.0.0.1/herald"),
            "postgres://herald@127.0.0.1/herald"
        );
    }

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn locate_key_finds_the_field_inside_its_table() {
        let text = "[server]\nlisten = 1\n\n[plugins.email.mailer]\nfrom = 2\nhost = 3\n";
        assert_eq!(locate_key(text, "plugins.email.mailer.host"), Some(6));
        assert_eq!(locate_key(text, "plugins.email.mailer.port"), Some(4));
        assert_eq!(locate_key(text, "plugins.email.other.port"), None);
    }
}
