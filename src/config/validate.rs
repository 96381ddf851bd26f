//! Turns a [`RawConfig`] into a [`Config`], collecting every problem with its line.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{ConfigIssue, Env, RetryConfig, Templates};
use secrecy::SecretString;

use super::action::{validate_action, Known};
use super::database::{base_dir, database_settings};
use super::instance::RawDeliveries;
use super::locate::Collector;
use super::raw::{DispatchConfig, RawConfig, RuleConfig};
use super::{Config, DispatchSettings, Issue, Reloadable, RestartOnly, StripeSettings};
use crate::plugins::{self, PluginSpec};
use crate::render::Renderer;
use crate::rules::{Condition, EventPattern, Rule, Rules, ORDER_PATHS};

/// Validates the whole config; `Err` holds every issue found.
pub(super) fn validate(
    raw: RawConfig,
    text: &str,
    path: &Path,
    env: &dyn Env,
    (dropped_instances, deliveries): (&[String], &RawDeliveries),
) -> Result<Config, Vec<Issue>> {
    let base_dir = base_dir(path);
    let mut issues = Collector {
        text,
        issues: Vec::new(),
    };

    let server = super::server::server_settings(&raw.server, &mut issues);
    let database = database_settings(&raw.database, &base_dir, env, &mut issues);
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
        let api = super::stripe::stripe_api(stripe, env, &mut issues);
        let reconcile_every = super::stripe::reconcile_every(stripe, &mut issues);
        Some(StripeSettings {
            secret: SecretString::from(secret),
            tolerance: Duration::from_secs(stripe.tolerance_secs),
            api,
            livemode: stripe.livemode,
            reconcile_every,
        })
    });

    if raw.sources.stripe.is_none() {
        // An empty or cut config.toml parses to all defaults: refuse it rather than run
        // acknowledging webhooks that nothing receives.
        issues.unplaced(
            "sources",
            "no source is configured, so herald would receive no event: add [sources.stripe] \
             with secret = \"${STRIPE_WEBHOOK_SECRET}\" (is the file empty or cut short?)",
        );
    }
    let admin = super::admin::admin_settings(&raw.admin, env, &mut issues);
    let shop = serde_json::to_value(&raw.shop).unwrap_or(serde_json::Value::Null);
    if let Err(message) = crate::render::time_zone(shop.get("time_zone")) {
        issues.plugin_issue(ConfigIssue::new("shop.time_zone", message));
    }
    let templates_dir = base_dir.join(&raw.templates.dir);
    let templates = match Renderer::load(&templates_dir) {
        Ok(renderer) => Some(Arc::new(renderer)),
        Err(err) => {
            issues.plugin_issue(ConfigIssue::new("templates.dir", err.to_string()));
            None
        }
    };

    let has_api = stripe.as_ref().is_some_and(|stripe| stripe.api.is_some());
    for name in raw.plugins.wanting_line_items() {
        if !has_api {
            issues.plugin_issue(ConfigIssue::new(
                format!("plugins.inventory.{name}.line_items_from_stripe"),
                "fetching line items asks Stripe's API: set [sources.stripe] api_key = \"${STRIPE_SECRET_KEY}\"",
            ));
        }
    }
    let checked = plugins::validate(
        raw.plugins,
        env,
        &base_dir,
        templates
            .as_deref()
            .map(|renderer| renderer as &dyn Templates),
    );
    checked
        .issues
        .into_iter()
        .for_each(|issue| issues.plugin_issue(issue));
    let plugin_specs = super::instance::apply(deliveries, checked.specs, &mut issues);
    let mut kinds = checked.kinds;
    // An instance whose table did not parse is reported already; rules naming it are fine.
    for key in dropped_instances {
        if let Some((_, name)) = key.strip_prefix("plugins.").and_then(|k| k.split_once('.')) {
            kinds.entry(name.to_owned()).or_insert("");
        }
    }

    // Rules, then follow-ups (rules too), each with where its name is written.
    let mut validated = Vec::new();
    for (index, raw_rule) in raw.rules.iter().enumerate() {
        let templates = templates.as_deref();
        let checked = validate_rule(
            "rules",
            index,
            raw_rule,
            &kinds,
            &plugin_specs,
            templates,
            &mut issues,
        );
        if let Some(rule) = checked {
            validated.push((rule, raw_rule.name.span(), format!("rules[{index}].name")));
        }
    }
    for (index, followup) in raw.followups.iter().enumerate() {
        let templates = templates.as_deref();
        let checked = super::followups::validate_followup(
            index,
            followup,
            &kinds,
            &plugin_specs,
            templates,
            &mut issues,
        );
        if let Some(rule) = checked {
            validated.push((
                rule,
                followup.name.span(),
                format!("followups[{index}].name"),
            ));
        }
    }
    let shop_zone = crate::render::time_zone(shop.get("time_zone")).unwrap_or(chrono_tz::UTC);
    let mut digests = Vec::new();
    for (index, raw_digest) in raw.digests.iter().enumerate() {
        let templates = templates.as_deref();
        let known = (&kinds, plugin_specs.as_slice(), templates);
        if let Some((rule, digest)) =
            super::digests::validate_digest(index, raw_digest, shop_zone, known, &mut issues)
        {
            let key = format!("digests[{index}].name");
            validated.push((rule, raw_digest.name.span(), key));
            digests.push(digest);
        }
    }
    let mut rules = Vec::new();
    let mut names = HashSet::new();
    for (rule, span, key) in validated {
        if !names.insert(rule.name().to_owned()) {
            let message = format!(
                "another rule, follow-up or digest is already named `{}`",
                rule.name()
            );
            issues.at(span, key, message);
        }
        rules.push(rule);
    }

    match (issues.issues.is_empty(), database, templates) {
        (true, Some(database), Some(templates)) => Ok(Config {
            path: path.to_owned(),
            restart: RestartOnly {
                server,
                database,
                dispatch,
                stripe,
                admin,
                metrics_listen: raw.metrics.listen,
            },
            reloadable: Reloadable {
                shop,
                templates,
                templates_dir,
                plugins: plugin_specs,
                rules: Arc::new(Rules::new(rules).with_digests(digests)),
            },
        }),
        _ => Err(issues.issues),
    }
}

pub(super) fn dispatch_settings(
    raw: &DispatchConfig,
    issues: &mut Collector<'_>,
) -> DispatchSettings {
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
    // Saturating: `retention_days` is any u64 the file gives (a plain `*` overflowed).
    if raw.retention_days > 0 && raw.retention_days.saturating_mul(day) < raw.max_age_secs {
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
pub(super) fn check_retry(key: &str, retry: &RetryConfig, issues: &mut Collector<'_>) {
    for (field, message) in retry.problems() {
        issues.plugin_issue(ConfigIssue::new(format!("{key}.{field}"), message));
    }
}

pub(super) fn validate_rule(
    section: &str,
    index: usize,
    raw: &RuleConfig,
    kinds: &BTreeMap<String, &'static str>,
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
            format!("{section}[{index}].name"),
            format!("`{name}` is not a valid name: use letters, digits, `-` and `_`"),
        );
    }
    let label = format!("{section}[{index}] ({name})");

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
            Ok(condition) => {
                for path in condition.unknown_order_paths() {
                    let known = ORDER_PATHS.join(", ");
                    issues.at(
                        when.span(),
                        format!("{label}.when"),
                        format!("`{path}` is not an order field; conditions may read {known}"),
                    );
                }
                Some(condition)
            }
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

    let known = Known {
        kinds,
        specs,
        templates,
    };
    let mut actions = Vec::new();
    for (i, action) in raw.actions.iter().enumerate() {
        let key = format!("{label}.actions[{i}]");
        if let Some(action) = validate_action(&key, action.get_ref(), action.span(), &known, issues)
        {
            actions.push(action);
        }
    }
    if raw.actions.is_empty() {
        issues.at(
            raw.name.span(),
            format!("{label}.actions"),
            "lists no actions; a rule without actions does nothing",
        );
    }

    check_retry(&format!("{label}.retry"), &raw.retry, issues);
    let once_per = once_per_paths(&label, &raw.once_per, issues);
    (issues.issues.len() == before).then(|| {
        Rule::new(name.clone(), patterns, condition, actions)
            .with_retry(raw.retry)
            .with_once_per(once_per)
    })
}

/// `once_per`'s dotted paths, split; each must name a field (`data.object.id`).
fn once_per_paths(
    label: &str,
    raw: &[toml::Spanned<String>],
    issues: &mut Collector<'_>,
) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for path in raw {
        let segments: Vec<String> = path.get_ref().split('.').map(str::to_owned).collect();
        let valid = segments.iter().all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        if valid {
            paths.push(segments);
        } else {
            issues.at(
                path.span(),
                format!("{label}.once_per"),
                format!(
                    "`{}` is not a field path: write dotted names, e.g. \"data.object.id\"",
                    path.get_ref()
                ),
            );
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_retention_is_kept_not_overflowed() {
        // Found while writing the config fuzz target: this input panicked in debug builds.
        let mut issues = Collector {
            text: "",
            issues: Vec::new(),
        };
        let raw = DispatchConfig {
            retention_days: i64::MAX.unsigned_abs(),
            ..DispatchConfig::default()
        };
        let settings = dispatch_settings(&raw, &mut issues);
        assert!(issues.issues.is_empty(), "{:?}", issues.issues);
        assert_eq!(settings.retention, Some(Duration::from_secs(u64::MAX)));
    }
}
