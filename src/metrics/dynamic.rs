//! Counters and gauges named at the call site ([`super::Metrics::incr`],
//! [`super::Metrics::set_gauge`]), for a new series before it earns a typed method.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::TypedMetric;

use super::families::FloatGauge;

/// A counter's labels as given: `[(key, value)]`, in the caller's order.
type Labels = Vec<(String, String)>;

/// The series made by name, shared between [`super::Metrics`] and the registry.
#[derive(Debug, Default, Clone)]
pub(super) struct Dynamic(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    // A std lock: held for a map look-up, never across an await. Writers only
    // when a name is first used.
    counters: RwLock<BTreeMap<&'static str, Family<Labels, Counter>>>,
    gauges: RwLock<BTreeMap<&'static str, FloatGauge>>,
}

impl Dynamic {
    /// Adds one to counter `name` (ending in `_total`) with `labels`.
    pub fn incr(&self, name: &'static str, labels: &[(&str, &str)]) {
        let labels: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let counters = self
            .0
            .counters
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(family) = counters.get(name) {
            family.get_or_create(&labels).inc();
            return;
        }
        drop(counters);
        let mut counters = self
            .0
            .counters
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counters
            .entry(name)
            .or_default()
            .get_or_create(&labels)
            .inc();
    }

    /// Sets gauge `name` to `value`.
    pub fn set_gauge(&self, name: &'static str, value: f64) {
        let mut gauges = self
            .0
            .gauges
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gauges.entry(name).or_default().set(value);
    }
}

impl Collector for Dynamic {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counters = self
            .0
            .counters
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, family) in counters.iter() {
            // The encoder adds `_total` to a counter's name.
            let base = name.strip_suffix("_total").unwrap_or(name);
            let metric = encoder.encode_descriptor(base, "", None, Counter::<u64>::TYPE)?;
            family.encode(metric)?;
        }
        drop(counters);
        let gauges = self
            .0
            .gauges
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, gauge) in gauges.iter() {
            let metric = encoder.encode_descriptor(name, "", None, FloatGauge::TYPE)?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
