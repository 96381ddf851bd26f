//! Counters served at `/metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Process-wide counters (and a few unlabelled gauges), passed to whoever counts (never a global).
#[derive(Debug, Default)]
pub struct Metrics {
    // A std Mutex is fine: it is held for a map update, never across an await.
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    gauges: Mutex<BTreeMap<&'static str, f64>>,
}

impl Metrics {
    /// Adds one to counter `name` with `labels`.
    pub fn incr(&self, name: &'static str, labels: &[(&str, &str)]) {
        let mut rendered = String::new();
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                rendered.push(',');
            }
            rendered.push_str(key);
            rendered.push_str("=\"");
            // Label values are nearly always plain; escaping copied each one twice.
            if value.contains(['\\', '"']) {
                rendered.push_str(&value.replace('\\', "\\\\").replace('"', "\\\""));
            } else {
                rendered.push_str(value);
            }
            rendered.push('"');
        }
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counters.entry((name, rendered)).or_insert(0) += 1;
    }

    /// Sets gauge `name` to `value`.
    pub fn set_gauge(&self, name: &'static str, value: f64) {
        let mut gauges = self
            .gauges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gauges.insert(name, value);
    }

    /// The value of one gauge, if set.
    pub fn gauge(&self, name: &str) -> Option<f64> {
        let gauges = self
            .gauges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gauges.get(name).copied()
    }

    /// The value of one counter; for tests.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let rendered: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let rendered = rendered.join(",");
        let counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counters
            .iter()
            .find(|((n, l), _)| *n == name && *l == rendered)
            .map_or(0, |(_, v)| *v)
    }

    /// Every counter in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), value) in counters.iter() {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
        drop(counters);
        let gauges = self
            .gauges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, value) in gauges.iter() {
            let _ = writeln!(out, "# TYPE {name} gauge\n{name} {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_escaped_labels() {
        let metrics = Metrics::default();
        metrics.incr("herald_x_total", &[("reason", "a\"b")]);
        metrics.incr("herald_x_total", &[("reason", "a\"b")]);
        metrics.incr("herald_y_total", &[]);
        let text = metrics.render();
        assert!(text.contains("# TYPE herald_x_total counter"));
        assert!(text.contains("herald_x_total{reason=\"a\\\"b\"} 2"));
        assert!(text.contains("herald_y_total 1"));
        metrics.set_gauge("herald_z_seconds", 1.5);
        let text = metrics.render();
        assert!(text.contains("# TYPE herald_z_seconds gauge\nherald_z_seconds 1.5\n"));
    }
}
