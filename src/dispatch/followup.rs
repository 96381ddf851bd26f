//! The follow-up gate: at its deadline, a follow-up's job looks for an `unless`
//! event about the same key created since the event that started it. If one came,
//! the job ends skipped, naming it; otherwise it goes on to its plugin.

use tracing::{info, warn};

use super::links::{millis, LOOK_AGAIN};
use super::shared::{Attempted, Shared};
use crate::reload::Snapshot;
use crate::store::ClaimedJob;

impl Shared {
    /// `None` when `job` is not a follow-up's, or nothing cancelled it.
    pub(super) async fn followup_gate(
        &self,
        job: &ClaimedJob,
        live: &Snapshot,
    ) -> Option<Attempted> {
        let rules = live.rules();
        let followup = rules
            .iter()
            .find(|rule| rule.name() == job.rule)?
            .followup()?;
        let event = &job.event;
        let key = followup.match_on.key(event)?;
        let started_at_ms = self.clock.now_ms();
        let later = match self
            .store
            .unless_events(&event.source, &key, event.created)
            .await
        {
            Ok(later) => later,
            Err(err) => {
                warn!(job_id = job.id, error = %err, "could not read the events a follow-up waits on; will try again");
                return Some(Attempted::PutBack {
                    run_at: started_at_ms.saturating_add(millis(LOOK_AGAIN)),
                });
            }
        };
        let by = later
            .iter()
            .find(|other| other.id != event.id && followup.cancelled_by(event, other))?;
        let reason = format!("not needed: {} {} came first (about {key})", by.kind, by.id);
        info!(job_id = job.id, key = %job.idempotency_key, %reason, "follow-up skipped");
        Some(self.skip(job, started_at_ms, reason))
    }
}
