//! `[[digests]]`: each is a schedule (cron, time zone, period) and a rule that sends
//! its `herald.digest` events through `plugin` with `template` and `to`.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use toml::Spanned;

use super::locate::Collector;
use super::raw::{DigestConfig, RuleConfig};
use super::validate::validate_rule;
use crate::digest::{Digest, Period, Schedule, ATTACHMENTS, EVENT_TYPE};
use crate::plugins::PluginSpec;
use crate::render::Renderer;
use crate::rules::Rule;

/// What actions are checked against: plugin kinds, instances and templates.
type Known<'a> = (
    &'a BTreeMap<String, &'static str>,
    &'a [PluginSpec],
    Option<&'a Renderer>,
);

/// The digest `raw` (entry `index`) and the rule that delivers it; `None` when
/// anything is wrong, each problem in `issues`. `shop_zone` is the default zone.
pub(super) fn validate_digest(
    index: usize,
    raw: &DigestConfig,
    shop_zone: Tz,
    (kinds, specs, templates): Known<'_>,
    issues: &mut Collector<'_>,
) -> Option<(Rule, Digest)> {
    let before = issues.issues.len();
    let name = raw.name.get_ref();
    let span = raw.name.span();
    let mut action = toml::Table::new();
    action.insert("plugin".into(), raw.plugin.get_ref().clone().into());
    for (key, value) in [("template", &raw.template), ("to", &raw.to)] {
        if let Some(value) = value {
            action.insert(key.into(), value.get_ref().clone().into());
        }
    }
    if raw.attach_csv {
        action.insert("attachments".into(), ATTACHMENTS.into());
    }
    // The name is checked by `validate_rule` (letters, digits, `-`, `_`), so the
    // condition below always reads.
    let as_rule = RuleConfig {
        name: raw.name.clone(),
        on: vec![Spanned::new(span.clone(), EVENT_TYPE.to_owned())],
        when: Some(Spanned::new(
            span.clone(),
            format!("data.object.digest == '{}'", name.replace('\'', "")),
        )),
        actions: vec![Spanned::new(raw.plugin.span(), action)],
        retry: raw.retry,
        once_per: Vec::new(),
    };
    let rule = validate_rule("digests", index, &as_rule, kinds, specs, templates, issues);
    // The action is the digest's own keys: say `digests[0] (x).template`, not `.actions[0]`.
    for issue in &mut issues.issues[before..] {
        issue.key = issue.key.replace(".actions[0]", "");
    }
    let label = format!("digests[{index}] ({name})");
    let kind = kinds.get(raw.plugin.get_ref()).copied();
    if raw.attach_csv && kind.is_some_and(|kind| kind != "email") {
        let message =
            "attach_csv = true needs an email instance: the CSV goes out as a mail's attachment";
        issues.at(raw.plugin.span(), format!("{label}.attach_csv"), message);
    }
    let zone = match &raw.timezone {
        None => Some(shop_zone),
        Some(text) => text.get_ref().parse::<Tz>().ok().or_else(|| {
            let message = format!(
                "`{}` is not an IANA time zone name, e.g. \"Europe/Paris\"",
                text.get_ref()
            );
            issues.at(text.span(), format!("{label}.timezone"), message);
            None
        }),
    };
    let period = match &raw.period {
        None => Some(Period::SinceLast),
        Some(text) => Period::parse(text.get_ref()).or_else(|| {
            let message = format!("`{}` is not {}", text.get_ref(), Period::NAMES);
            issues.at(text.span(), format!("{label}.period"), message);
            None
        }),
    };
    let schedule = match (zone, period) {
        (Some(zone), Some(period)) => match Schedule::new(raw.schedule.get_ref(), zone, period) {
            Ok(schedule) => Some(schedule),
            Err(err) => {
                let key = format!("{label}.schedule");
                issues.at(raw.schedule.span(), key, err.to_string());
                None
            }
        },
        _ => None,
    };
    if issues.issues.len() != before {
        return None;
    }
    let digest = Digest {
        name: name.clone(),
        schedule: schedule?,
        attach_csv: raw.attach_csv,
    };
    Some((rule?, digest))
}
