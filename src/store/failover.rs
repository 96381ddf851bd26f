//! Handing a claimed job over to the next of its action's fallbacks.
//!
//! The job keeps its id, event and idempotency key (a downstream that saw an
//! earlier try can drop a duplicate); it takes the fallback's instance and
//! parameters, a fresh retry budget, and is due at once.

use serde_json::{Map, Value};

use super::attempt::AttemptRecord;
use super::error::Result;
use super::{Backend, Store};

/// Who takes a job next.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    /// The fallback's plugin instance.
    pub plugin: String,
    /// The fallback's parameters.
    pub params: Map<String, Value>,
    /// The job's failover count once handed over: `n` for fallback `n` (1-based).
    pub failovers: u32,
    /// Why the instance it leaves gave up, kept as the job's last error.
    pub reason: String,
}

impl Handover {
    /// The parameters as the `params` column stores them.
    pub(super) fn params_json(&self) -> String {
        Value::Object(self.params.clone()).to_string()
    }
}

impl Store {
    /// Hands claimed job `job_id` (under its attempt `attempt`) over to `next`, due
    /// at `now_ms`, if this instance's claim still holds it. `tried` is the
    /// attempt after which its instance gave up, recorded with the hand-over;
    /// `None` when none was made (its breaker stayed open), and the claim's
    /// attempt is then not counted.
    ///
    /// # Errors
    /// On a database error; the job then stays where it was, and its lease runs out.
    pub async fn fail_over(
        &self,
        job_id: i64,
        attempt: u32,
        tried: Option<&AttemptRecord>,
        next: &Handover,
        now_ms: i64,
    ) -> Result<()> {
        let result = on_backend!(self.fail_over(job_id, attempt, tried, next, now_ms));
        self.health.observe(&result);
        result
    }
}
