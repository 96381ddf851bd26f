//! [`Delivery`]: what herald's dispatcher reads from any plugin instance's table,
//! whatever its kind: `rate_limit` and `failover_after_secs`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use herald_plugin_api::RetryConfig;

/// How long a breaker stays open before its jobs go to their action's fallback,
/// when the instance does not say: long enough to ride out a blip and the first
/// few probes (30, 60, 120 s with the default cooldown), short enough that a
/// customer still gets the message while it matters.
pub const DEFAULT_FAILOVER_AFTER: Duration = Duration::from_secs(300);

/// The dispatcher's settings of one instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delivery {
    /// Retry overrides for the instance's jobs (its `retry = { … }` table).
    pub retry: RetryConfig,
    /// At most this many deliveries to the instance per period; `None`: unpaced.
    pub rate_limit: Option<RateLimit>,
    /// How long its breaker may stay open before its jobs fail over.
    pub failover_after: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            retry: RetryConfig::default(),
            rate_limit: None,
            failover_after: DEFAULT_FAILOVER_AFTER,
        }
    }
}

/// `rate_limit = "10/s"`: `count` deliveries per `per`, spaced evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Deliveries per period, at least 1.
    pub count: u32,
    /// The period: a second, a minute or an hour.
    pub per: Duration,
}

impl RateLimit {
    /// The time between two deliveries.
    pub fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            3600 => "h",
            60 => "m",
            _ => "s",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// Why a `rate_limit` is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a rate: write a whole number of deliveries per second, minute or hour, \
     e.g. \"10/s\", \"300/m\" or \"5000/h\""
)]
pub struct RateLimitError(String);

impl FromStr for RateLimit {
    type Err = RateLimitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refused = || RateLimitError(text.to_owned());
        let (count, unit) = text.split_once('/').ok_or_else(refused)?;
        let count: u32 = count.trim().parse().map_err(|_| refused())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(refused()),
        };
        if count == 0 {
            return Err(refused());
        }
        Ok(Self { count, per })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_per_second_minute_and_hour() {
        let rate: RateLimit = "20/s".parse().expect("rate");
        assert_eq!(rate.interval(), Duration::from_millis(50));
        let rate: RateLimit = "120/m".parse().expect("rate");
        assert_eq!(rate.interval(), Duration::from_millis(500));
        let rate: RateLimit = "3600/h".parse().expect("rate");
        assert_eq!(
            (rate.interval(), rate.to_string()),
            (Duration::from_secs(1), "3600/h".to_owned())
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_that_work() {
        for bad in ["", "10", "10/d", "0/s", "-1/s", "1.5/s", "ten/s", "10/sec"] {
            let err = bad.parse::<RateLimit>().expect_err(bad);
            assert!(err.to_string().contains("\"10/s\""), "{bad}: {err}");
        }
    }
}
