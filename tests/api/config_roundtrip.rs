//! Config round trip as a property: `[dispatch]` settings and `[[rules]]` (patterns,
//! conditions with quotes and backslashes in their strings, retry overrides) written
//! out as TOML load back as the values they came from.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use herald::config::DispatchSettings;
use herald::rules::{Action, Condition, EventPattern, Rule};
use herald::Config;
use herald_plugin_api::{ActionSpec, RetryConfig};
use proptest::prelude::*;
use serde_json::Map;
use toml::{Table, Value};

use crate::helpers::repo;

/// `[dispatch]` as written, in the file's units.
#[derive(Debug, Clone)]
struct Dispatch {
    enabled: bool,
    concurrency: i64,
    poll_interval_ms: i64,
    lease_secs: i64,
    max_attempts: i64,
    max_age_secs: i64,
    backoff_base_secs: f64,
    backoff_max_secs: f64,
    breaker_failures: i64,
    breaker_cooldown_secs: i64,
    retention_days: i64,
}

/// One `[[rules]]` entry as written.
#[derive(Debug, Clone)]
struct RuleText {
    on: Vec<String>,
    when: Option<String>,
    max_attempts: Option<i64>,
}

const DAY: i64 = 24 * 3600;

fn dispatch() -> impl Strategy<Value = Dispatch> {
    (
        (any::<bool>(), 1..=256_i64, 10..=60_000_i64, 1..=86_400_i64),
        (1..=100_i64, 0..=10 * DAY, 0.0..=600.0_f64, 0.0..=1.0_f64),
        (0..=50_i64, 0..=3_600_i64, prop::option::of(0..=60_i64)),
    )
        .prop_map(
            |(
                (enabled, concurrency, poll_interval_ms, lease_secs),
                (max_attempts, max_age_secs, base, spread),
                (breaker_failures, breaker_cooldown_secs, extra_days),
            )| {
                // Valid by construction: base <= max <= a week, retention covers max_age.
                let backoff_max_secs = base + spread * (7.0 * 24.0 * 3600.0 - base);
                let retention_days =
                    extra_days.map_or(0, |extra| ((max_age_secs + DAY - 1) / DAY + extra).max(1));
                Dispatch {
                    enabled,
                    concurrency,
                    poll_interval_ms,
                    lease_secs,
                    max_attempts,
                    max_age_secs,
                    backoff_base_secs: base,
                    backoff_max_secs,
                    breaker_failures,
                    breaker_cooldown_secs,
                    retention_days,
                }
            },
        )
}

fn chars(from: &'static [char], len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    proptest::collection::vec(prop::sample::select(from), len)
        .prop_map(String::from_iter)
        .boxed()
}

fn pattern() -> impl Strategy<Value = String> {
    chars(&['a', 'b', '_', '.', '*'], 1..=8)
        .prop_filter("a valid pattern", |p| EventPattern::parse(p).is_ok())
}

/// A string literal of the condition language holding `text`.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn comparison() -> impl Strategy<Value = String> {
    let path = prop::sample::select(
        &[
            "amount",
            "customer.email",
            "data.object.metadata.order_id",
            "livemode",
            "raw.data.object.items.0",
        ][..],
    );
    let op = prop::sample::select(&["==", "!=", ">", ">=", "<", "<="][..]);
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-1e9..1e9_f64).prop_map(|f| format!("{f:.3}")),
        chars(&['a', 'é', ' ', '"', '\'', '\\', '#', '='], 0..=6).prop_map(|s| quoted(&s)),
        prop::sample::select(&["true", "false", "null"][..]).prop_map(str::to_owned),
    ];
    prop_oneof![
        (path.clone(), op, value).prop_map(|(path, op, value)| format!("{path} {op} {value}")),
        path.prop_map(|path| format!("not {path} exists")),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(comparison(), 1..=3),
        prop::sample::select(&[" and ", " or "][..]),
    )
        .prop_map(|(parts, join)| parts.join(join))
}

fn rule() -> impl Strategy<Value = RuleText> {
    (
        proptest::collection::vec(pattern(), 1..=3),
        prop::option::of(condition()),
        prop::option::of(1..=50_i64),
    )
        .prop_map(|(on, when, max_attempts)| RuleText {
            on,
            when,
            max_attempts,
        })
}

/// The config file: `[dispatch]`, one orders instance, and the rules.
fn write(dispatch: &Dispatch, rules: &[RuleText]) -> String {
    let mut table = Table::new();
    let mut d = Table::new();
    d.insert("enabled".into(), dispatch.enabled.into());
    d.insert("concurrency".into(), dispatch.concurrency.into());
    d.insert("poll_interval_ms".into(), dispatch.poll_interval_ms.into());
    d.insert("lease_secs".into(), dispatch.lease_secs.into());
    d.insert("max_attempts".into(), dispatch.max_attempts.into());
    d.insert("max_age_secs".into(), dispatch.max_age_secs.into());
    d.insert(
        "backoff_base_secs".into(),
        dispatch.backoff_base_secs.into(),
    );
    d.insert("backoff_max_secs".into(), dispatch.backoff_max_secs.into());
    d.insert("breaker_failures".into(), dispatch.breaker_failures.into());
    d.insert(
        "breaker_cooldown_secs".into(),
        dispatch.breaker_cooldown_secs.into(),
    );
    d.insert("retention_days".into(), dispatch.retention_days.into());
    table.insert("dispatch".into(), d.into());
    let stripe = Table::from_iter([("secret".to_owned(), Value::from("whsec_roundtrip"))]);
    table.insert(
        "sources".into(),
        Table::from_iter([("stripe".to_owned(), Value::from(stripe))]).into(),
    );
    let templates = repo().join("templates").display().to_string();
    table.insert(
        "templates".into(),
        Table::from_iter([("dir".to_owned(), Value::from(templates))]).into(),
    );
    let orders = Table::from_iter([("orders".to_owned(), Value::from(Table::new()))]);
    table.insert(
        "plugins".into(),
        Table::from_iter([("orders".to_owned(), Value::from(orders))]).into(),
    );
    let rules: Vec<Value> = rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut r = Table::new();
            r.insert("name".into(), format!("rule-{i}").into());
            r.insert("on".into(), rule.on.clone().into());
            if let Some(when) = &rule.when {
                r.insert("when".into(), when.clone().into());
            }
            let action = Table::from_iter([("plugin".to_owned(), Value::from("orders"))]);
            r.insert("actions".into(), Value::Array(vec![action.into()]));
            if let Some(n) = rule.max_attempts {
                r.insert(
                    "retry".into(),
                    Table::from_iter([("max_attempts".to_owned(), Value::from(n))]).into(),
                );
            }
            r.into()
        })
        .collect();
    table.insert("rules".into(), rules.into());
    toml::to_string(&table).expect("a TOML table")
}

fn expected_dispatch(d: &Dispatch) -> DispatchSettings {
    let secs = |n: i64| Duration::from_secs(n.try_into().expect("generated in range"));
    DispatchSettings {
        enabled: d.enabled,
        concurrency: d.concurrency.try_into().expect("generated in range"),
        poll_interval: Duration::from_millis(
            d.poll_interval_ms.try_into().expect("generated in range"),
        ),
        lease: secs(d.lease_secs),
        retry: RetryConfig {
            max_attempts: Some(d.max_attempts.try_into().expect("generated in range")),
            max_age_secs: Some(d.max_age_secs.try_into().expect("generated in range")),
            backoff_base_secs: Some(d.backoff_base_secs),
            backoff_max_secs: Some(d.backoff_max_secs),
        },
        breaker_failures: d.breaker_failures.try_into().expect("generated in range"),
        breaker_cooldown: secs(d.breaker_cooldown_secs),
        retention: (d.retention_days > 0).then(|| secs(d.retention_days * DAY)),
    }
}

/// The rule `rule` should load as; `line` is where the loaded action was written, which
/// depends on the TOML serialiser's layout, not on the rule.
fn expected_rule(i: usize, rule: &RuleText, line: Option<usize>) -> Rule {
    let on = rule
        .on
        .iter()
        .map(|p| EventPattern::parse(p).expect("generated valid"))
        .collect();
    let when = rule
        .when
        .as_deref()
        .map(|w| Condition::parse(w).expect("generated valid"));
    let retry = RetryConfig {
        max_attempts: rule
            .max_attempts
            .map(|n| n.try_into().expect("generated in range")),
        ..RetryConfig::default()
    };
    Rule::new(
        format!("rule-{i}"),
        on,
        when,
        vec![Action::new("orders".to_owned(), Map::new()).with_spec(ActionSpec::none(), line)],
    )
    .with_retry(retry)
}

proptest! {
    // Each case loads the templates folder: fewer cases than the default.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dispatch_and_rules_load_as_written(
        dispatch in dispatch(),
        rules in proptest::collection::vec(rule(), 0..4),
    ) {
        let text = write(&dispatch, &rules);
        let config = Config::from_toml(&text, Path::new("/etc/herald/config.toml"), &HashMap::new())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        // The settings types have no PartialEq; their Debug shows every field.
        prop_assert_eq!(format!("{:?}", config.restart.dispatch), format!("{:?}", expected_dispatch(&dispatch)));
        let loaded: Vec<String> = config.reloadable.rules.iter().map(|rule| format!("{rule:?}")).collect();
        let lines = config.reloadable.rules.iter().map(|rule| rule.actions().first().and_then(Action::line));
        let expected: Vec<String> = rules.iter().zip(lines).enumerate().map(|(i, (rule, line))| format!("{:?}", expected_rule(i, rule, line))).collect();
        prop_assert_eq!(loaded, expected, "{}", text);
    }
}
