//! When a digest runs and what period each run covers, in the digest's time zone.
//!
//! The schedule is a five-field cron read by `croner`, whose daylight-saving rules
//! are the ones a person expects: a time skipped in spring runs just after the gap,
//! a time repeated in autumn runs once.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// What one run of a digest is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// From the schedule's previous time to this one.
    SinceLast,
    /// The calendar day before the run's day.
    Day,
    /// The week (Monday to Monday) before the run's week.
    Week,
    /// The calendar month before the run's month.
    Month,
}

impl Period {
    /// The words `period` takes, for error messages.
    pub const NAMES: &'static str = "\"day\", \"week\", \"month\" or \"since_last\"";

    /// `"day"` → [`Period::Day`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "since_last" => Some(Self::SinceLast),
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    /// The word for it in the config.
    pub fn name(self) -> &'static str {
        match self {
            Self::SinceLast => "since_last",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// A digest's schedule: when it runs and what each run covers.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    text: String,
    zone: Tz,
    period: Period,
}

/// A schedule that does not read.
#[derive(Debug, thiserror::Error)]
#[error("`{text}` is not a five-field cron schedule (minute hour day-of-month month day-of-week, e.g. \"0 7 * * *\"): {reason}")]
pub struct BadSchedule {
    text: String,
    reason: String,
}

impl Schedule {
    /// Reads `text` (five fields, no seconds) to run in `zone`.
    ///
    /// # Errors
    /// When `text` is not a five-field cron expression.
    pub fn new(text: &str, zone: Tz, period: Period) -> Result<Self, BadSchedule> {
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(text).map_err(|err| BadSchedule {
            text: text.to_owned(),
            reason: err.to_string(),
        })?;
        let schedule = Self {
            cron,
            text: text.to_owned(),
            zone,
            period,
        };
        // A pattern that never matches (`0 0 30 2 *`) would leave the digest silent.
        if schedule.next_after(0).is_none() {
            return Err(BadSchedule {
                text: text.to_owned(),
                reason: "it never comes round".to_owned(),
            });
        }
        Ok(schedule)
    }

    /// The cron text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The zone its times are read in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// What each run covers.
    pub fn period(&self) -> Period {
        self.period
    }

    /// The first run strictly after `after_ms` (ms since the epoch).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let after = self.local(after_ms)?;
        let next = self.cron.find_next_occurrence(&after, false).ok()?;
        Some(next.timestamp_millis())
    }

    /// The runs in `(after_ms, until_ms]`, oldest first, at most `limit`.
    pub fn runs_between(&self, after_ms: i64, until_ms: i64, limit: usize) -> Vec<i64> {
        let mut runs = Vec::new();
        let mut at = after_ms;
        while runs.len() < limit {
            match self.next_after(at) {
                Some(next) if next <= until_ms => {
                    runs.push(next);
                    at = next;
                }
                _ => break,
            }
        }
        runs
    }

    /// The latest run at or before `at_ms`.
    pub fn last_at_or_before(&self, at_ms: i64) -> Option<i64> {
        let at = self.local(at_ms)?;
        let last = self.cron.find_previous_occurrence(&at, true).ok()?;
        Some(last.timestamp_millis())
    }

    /// The period the run at `run_ms` covers, `[start, end)` in ms.
    pub fn window(&self, run_ms: i64) -> Option<(i64, i64)> {
        let run = self.local(run_ms)?;
        let (start, end) = match self.period {
            Period::SinceLast => {
                let start = self.cron.find_previous_occurrence(&run, false).ok()?;
                (start, run)
            }
            Period::Day => {
                let today = run.date_naive();
                let yesterday = today.checked_sub_days(Days::new(1))?;
                (self.midnight(yesterday)?, self.midnight(today)?)
            }
            Period::Week => {
                let monday = run
                    .date_naive()
                    .checked_sub_days(Days::new(u64::from(run.weekday().num_days_from_monday())))?;
                let before = monday.checked_sub_days(Days::new(7))?;
                (self.midnight(before)?, self.midnight(monday)?)
            }
            Period::Month => {
                let first = run.date_naive().with_day(1)?;
                let before = first.checked_sub_months(Months::new(1))?;
                (self.midnight(before)?, self.midnight(first)?)
            }
        };
        Some((start.timestamp_millis(), end.timestamp_millis()))
    }

    fn local(&self, ms: i64) -> Option<DateTime<Tz>> {
        Some(DateTime::<Utc>::from_timestamp_millis(ms)?.with_timezone(&self.zone))
    }

    /// The day's first instant: midnight, or the first time after it that exists
    /// where a clock change skips midnight itself.
    fn midnight(&self, day: NaiveDate) -> Option<DateTime<Tz>> {
        (0..=3).find_map(|hour| {
            let local = day.and_hms_opt(hour, 0, 0)?;
            self.zone.from_local_datetime(&local).earliest()
        })
    }
}

/// `ms` as RFC 3339 in `zone`, to the second.
pub fn local_text(ms: i64, zone: Tz) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|time| {
            time.with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
