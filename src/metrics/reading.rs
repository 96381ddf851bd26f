//! Reading a series back as `/metrics` shows it: for tests and checks.

use super::Metrics;

impl Metrics {
    /// The value of series `name{labels}` as [`Metrics::render`] shows it, 0 when
    /// absent; for tests. `labels` in the order the family declares them.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let rendered: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let series = if rendered.is_empty() {
            name.to_owned()
        } else {
            format!("{name}{{{}}}", rendered.join(","))
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole counts
        self.value(&series).map_or(0, |v| v as u64)
    }

    /// The value of one series, written as it appears at `/metrics`
    /// (`name{k="v",…}`); for tests.
    pub fn value(&self, series: &str) -> Option<f64> {
        let text = self.render();
        let value = text.lines().find_map(|line| {
            let rest = line.strip_prefix(series)?;
            rest.strip_prefix(' ')
        })?;
        value.trim().parse().ok()
    }
}
