//! Claiming due jobs: one statement leases them, their events are loaded, and the
//! two are put together.

use std::collections::HashMap;

use herald_plugin_api::Event;
use serde_json::{Map, Value};

use super::error::{Result, StoreError};
use super::job::ClaimedJob;
use super::rows::{to_u32, ClaimRow, EventRow};
use super::shared_events::SharedEvents;
use super::sql::Dialect;
use super::sql::{Run, Sql};
use super::Store;

/// Leases up to `$3` due jobs for a lease ending at `$1` held by instance `$5`,
/// `$2` being now, passing over the plugin instances in the list `$4`.
///
/// It walks `jobs_due`, which holds only pending jobs, in order. On SQLite the
/// statement runs under the write lock, so two claimers can never both take a job.
/// On PostgreSQL `FOR UPDATE SKIP LOCKED` makes concurrent claimers (in this
/// process or another replica) pass over rows another claim is taking instead of
/// waiting for it; a row that claim has committed meanwhile is checked again
/// against the `WHERE` (READ COMMITTED re-evaluation) and dropped, as its lease now
/// hides it. So no job is ever handed to two workers.
pub(super) fn claim_sql(dialect: Dialect) -> String {
    format!(
        "UPDATE jobs SET locked_until = $1, leased_by = $5, attempts = attempts + 1,
                         updated_at = $2
         WHERE id IN (
             SELECT id FROM jobs
             WHERE status = 'pending' AND run_at <= $2
               AND (locked_until IS NULL OR locked_until <= $2)
               AND NOT (plugin {})
             ORDER BY run_at, id
             LIMIT $3{})
         RETURNING id, event_pk, rule, action_index, plugin, params, idempotency_key, attempts,
                   attempt_base, queued_at, failovers",
        dialect.any(4),
        dialect.skip_locked()
    )
}

impl Store {
    /// Claims up to `limit` due jobs for this instance, hiding each from other
    /// workers until `lease_ms` from `now_ms`, or longer while
    /// [`Store::heartbeat`] renews it; a worker that dies leaves them to be taken
    /// back. Jobs for the plugin instances in `skip` stay in the queue.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
        skip: &[String],
    ) -> Result<Vec<ClaimedJob>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let until = now_ms.saturating_add(lease_ms);
        // Lossy: a lost lease only means the job is claimed again.
        let claim = Sql::new(claim_sql(self.dialect()))
            .bind(until)
            .bind(now_ms)
            .bind(limit)
            .bind(skip)
            .bind(&*self.instance);
        let rows: Vec<ClaimRow> = self.lossy().await?.fetch_all(&claim).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let sql = Sql::new(format!(
            "SELECT pk, normalized, payload FROM events WHERE pk {}",
            self.dialect().any(1)
        ))
        .bind(event_pks(&rows).as_slice());
        let events = self.read().await?.fetch_all(&sql).await?;
        assemble(rows, events)
    }

    /// Gives a claimed job back without counting its attempt `attempt`, due again
    /// at `run_at_ms` (used while a destination's circuit breaker is open), if
    /// this instance's claim still holds it.
    ///
    /// # Errors
    /// On a database error.
    pub async fn defer(&self, job_id: i64, attempt: u32, run_at_ms: i64) -> Result<()> {
        // The claim counted an attempt that was never made: taken back, but never
        // below the budget's base. Lossy: a deferral lost with the power leaves the
        // job leased, and it is taken back when its lease runs out or herald starts.
        let sql = Sql::new(format!(
            "UPDATE jobs SET run_at = $1, locked_until = NULL, leased_by = NULL,
                             attempts = {}
             WHERE id = $2 AND status = 'pending' AND attempts = $3 AND leased_by = $4",
            self.dialect().greatest("attempts - 1", "attempt_base")
        ))
        .bind(run_at_ms)
        .bind(job_id)
        .bind(attempt)
        .bind(&*self.instance);
        self.lossy().await?.execute(&sql).await?;
        Ok(())
    }
}

/// The events the claimed `rows` need, each once, in pk order.
fn event_pks(rows: &[ClaimRow]) -> Vec<i64> {
    let mut pks: Vec<i64> = rows.iter().map(|row| row.event_pk).collect();
    pks.sort_unstable();
    pks.dedup();
    pks
}

/// The claimed jobs of `rows`, each with its event from `events`, oldest job
/// first (a claim's `RETURNING` comes in no particular order).
///
/// # Errors
/// [`StoreError::Corrupt`] when a job's parameters or event do not read back,
/// or its event was not loaded.
fn assemble(rows: Vec<ClaimRow>, events: Vec<EventRow>) -> Result<Vec<ClaimedJob>> {
    let events = events
        .into_iter()
        .map(|row| Ok((row.pk, row.into_event()?)))
        .collect::<Result<HashMap<i64, Event>>>()?;
    let job_event_pks: Vec<i64> = rows.iter().map(|row| row.event_pk).collect();
    let mut events = SharedEvents::new(events, &job_event_pks);
    let mut claimed = rows
        .into_iter()
        .map(|row| {
            let params: Map<String, Value> = serde_json::from_str(&row.params)
                .map_err(|e| StoreError::Corrupt(format!("job {} params: {e}", row.id)))?;
            Ok(ClaimedJob {
                id: row.id,
                event: events.take(row.event_pk)?,
                rule: row.rule,
                action_index: usize::try_from(row.action_index).unwrap_or(usize::MAX),
                failovers: to_u32(row.failovers),
                plugin: row.plugin,
                params,
                idempotency_key: row.idempotency_key,
                attempt: to_u32(row.attempts),
                attempts_since_queued: to_u32(row.attempts - row.attempt_base),
                queued_at_ms: row.queued_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    claimed.sort_by_key(|job| job.id);
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim_row(id: i64, event_pk: i64) -> ClaimRow {
        ClaimRow {
            id,
            event_pk,
            rule: "r".to_owned(),
            action_index: 0,
            plugin: "hook".to_owned(),
            params: r#"{"to":"a@example.com"}"#.to_owned(),
            idempotency_key: format!("k{id}"),
            attempts: 3,
            attempt_base: 1,
            queued_at: 7,
            failovers: 0,
        }
    }

    fn event_row(pk: i64, id: &str) -> EventRow {
        let normalized = serde_json::json!({
            "id": id, "source": "stripe", "type": "charge.refunded", "created": 1,
            "livemode": false, "object_id": null, "order_id": null,
            "customer": {"email": null, "phone": null, "name": null},
            "amount": null, "currency": null
        });
        EventRow {
            pk,
            normalized: normalized.to_string(),
            payload: format!(r#"{{"id":"{id}"}}"#),
        }
    }

    #[test]
    fn jobs_come_oldest_first_each_with_its_event_and_budget() {
        let rows = vec![claim_row(9, 2), claim_row(4, 1), claim_row(6, 2)];
        assert_eq!(event_pks(&rows), [1, 2]);
        let events = vec![event_row(1, "evt_1"), event_row(2, "evt_2")];
        let jobs = assemble(rows, events).expect("assemble");
        let ids: Vec<(i64, &str)> = jobs.iter().map(|j| (j.id, j.event.id.as_str())).collect();
        assert_eq!(ids, [(4, "evt_1"), (6, "evt_2"), (9, "evt_2")]);
        assert_eq!((jobs[0].attempt, jobs[0].attempts_since_queued), (3, 2));
        assert_eq!(jobs[0].params["to"], "a@example.com");
        assert_eq!(jobs[0].event.raw.text(), r#"{"id":"evt_1"}"#);
    }

    #[test]
    fn a_job_whose_event_is_missing_or_params_corrupt_is_an_error() {
        let missing = assemble(vec![claim_row(1, 5)], vec![]);
        assert!(
            matches!(missing, Err(StoreError::Corrupt(_))),
            "{missing:?}"
        );
        let mut bad = claim_row(1, 1);
        bad.params = "{".to_owned();
        let corrupt = assemble(vec![bad], vec![event_row(1, "evt_1")]);
        assert!(
            matches!(corrupt, Err(StoreError::Corrupt(_))),
            "{corrupt:?}"
        );
    }
}
