//! Digests: a summary of a period (money per currency, events by type, subscriptions,
//! failed payments, dead letters) raised on a schedule as `herald.digest` and routed
//! like any of herald's events. Each period is raised **once**: its event id names
//! the digest and the period, so a second replica, a restart or a repeated turn
//! stores nothing new.

pub mod schedule;
pub mod summary;
pub mod watch;

pub use self::schedule::{local_text, BadSchedule, Period, Schedule};

/// The type of the event a digest raises.
pub const EVENT_TYPE: &str = "herald.digest";

/// Where a digest's event carries its files (`attach_csv`), for the email action.
pub const ATTACHMENTS: &str = "data.object.attachments";

/// One `[[digests]]` entry, as the scheduler needs it; its delivery is a rule
/// (named like the digest) matching [`EVENT_TYPE`] with `data.object.digest`.
#[derive(Debug, Clone)]
pub struct Digest {
    pub name: String,
    pub schedule: Schedule,
    /// Whether its event carries the period's movements as a CSV file.
    pub attach_csv: bool,
}

impl Digest {
    /// The `schedules` row its runs take turns at.
    pub fn turn_name(&self) -> String {
        format!("digest:{}", self.name)
    }

    /// The id of the event for the scheduled period starting at `start_ms`.
    pub fn event_id(&self, start_ms: i64) -> String {
        format!(
            "{EVENT_TYPE}:{}:{}",
            self.name,
            local_text(start_ms, self.schedule.zone())
        )
    }
}
