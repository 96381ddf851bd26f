//! The keys every `[plugins.<kind>.<name>]` table takes for herald's dispatcher,
//! whatever its kind: `retry`, `rate_limit` and `failover_after_secs`. They are taken out of
//! the parsed tree before the kinds read their tables (which deny unknown keys),
//! and checked here, each problem at its line.

use std::collections::BTreeMap;

use herald_plugin_api::RetryConfig;
use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::locate::{line_of, Collector};
use super::validate::check_retry;
use super::Issue;
use crate::plugins::{Delivery, PluginSpec, RateLimit};

/// The keys taken out of every instance table.
const KEYS: [&str; 3] = ["retry", "rate_limit", "failover_after_secs"];

/// One instance's dispatcher keys, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelivery {
    /// `retry = { … }`: overrides of `[dispatch]`'s policy for this instance's jobs.
    #[serde(default)]
    retry: RetryConfig,
    /// `"10/s"`, `"300/m"`, `"5000/h"`.
    rate_limit: Option<Spanned<String>>,
    /// Seconds the instance's breaker may stay open before its jobs fail over.
    failover_after_secs: Option<u64>,
}

/// Per instance name: its dotted key (`plugins.<kind>.<name>`) and dispatcher keys.
pub(super) type RawDeliveries = BTreeMap<String, (String, RawDelivery)>;

/// Takes the dispatcher keys out of every instance table under `root`; a value of
/// the wrong type is reported in `issues`.
pub(super) fn take_out(
    root: &mut DeTable<'_>,
    text: &str,
    issues: &mut Vec<Issue>,
) -> RawDeliveries {
    let mut taken = RawDeliveries::new();
    let Some(DeValue::Table(kinds)) = root.get_mut("plugins").map(Spanned::get_mut) else {
        return taken;
    };
    for (kind, instances) in kinds.iter_mut() {
        let DeValue::Table(instances) = instances.get_mut() else {
            continue;
        };
        for (name, table) in instances.iter_mut() {
            let span = table.span();
            let DeValue::Table(table) = table.get_mut() else {
                continue;
            };
            let mut keys = DeTable::new();
            for key in KEYS {
                if let Some((key, value)) = table.remove_entry(key) {
                    keys.insert(key, value);
                }
            }
            if keys.is_empty() {
                continue;
            }
            let dotted = format!("plugins.{}.{}", kind.get_ref(), name.get_ref());
            let read =
                RawDelivery::deserialize(toml::de::Deserializer::from(Spanned::new(span, keys)));
            match read {
                Ok(raw) => {
                    taken.insert(name.get_ref().to_string(), (dotted, raw));
                }
                Err(err) => issues.push(Issue {
                    line: err.span().map(|span| line_of(text, span.start)),
                    key: dotted,
                    message: err.message().trim_end().to_owned(),
                }),
            }
        }
    }
    taken
}

/// Checks the dispatcher keys and gives each instance in `specs` its settings.
pub(super) fn apply(
    raw: &RawDeliveries,
    specs: Vec<PluginSpec>,
    issues: &mut Collector<'_>,
) -> Vec<PluginSpec> {
    specs
        .into_iter()
        .map(|spec| {
            let Some((key, raw)) = raw.get(spec.name()) else {
                return spec;
            };
            check_retry(&format!("{key}.retry"), &raw.retry, issues);
            let mut delivery = Delivery {
                retry: raw.retry,
                ..Delivery::default()
            };
            if let Some(rate) = &raw.rate_limit {
                match rate.get_ref().parse::<RateLimit>() {
                    Ok(rate) => delivery.rate_limit = Some(rate),
                    Err(err) => {
                        issues.at(rate.span(), format!("{key}.rate_limit"), err.to_string());
                    }
                }
            }
            if let Some(secs) = raw.failover_after_secs {
                delivery.failover_after = std::time::Duration::from_secs(secs);
            }
            spec.with_delivery(delivery)
        })
        .collect()
}
