//! The grouped writes on PostgreSQL: new events with their jobs, and delivery
//! attempts. Each batch, whatever its size, is a single statement, so one trip to
//! the server and one transaction: the rows travel as column arrays and `UNNEST`
//! turns them back into rows.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{PgPool, Row};

use crate::store::attempt::NewAttempt;
use crate::store::customers;
use crate::store::error::Result;
use crate::store::group_commit::{BatchWriter, Committed};
use crate::store::job::IngestOutcome;
use crate::store::links::RecentLinks;
use crate::store::new_event::{
    batch_customers, batch_links, batch_marks, first_copies, settle, NewEvent,
};

/// Commits new events and their jobs.
pub(super) struct IngestWriter {
    pub(super) pool: PgPool,
    /// The links stored lately, which a batch does not write again.
    pub(super) links: RecentLinks,
}

#[async_trait]
impl BatchWriter<NewEvent> for IngestWriter {
    type Output = IngestOutcome;

    async fn write_batch(&self, events: &[NewEvent]) -> Result<Committed<IngestOutcome>> {
        let n = events.len();
        let mut sources = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let mut kinds = Vec::with_capacity(n);
        let mut created = Vec::with_capacity(n);
        let mut livemode = Vec::with_capacity(n);
        let mut objects = Vec::with_capacity(n);
        let mut orders = Vec::with_capacity(n);
        let mut normalized = Vec::with_capacity(n);
        let mut payloads = Vec::with_capacity(n);
        let mut received = Vec::with_capacity(n);
        for event in events {
            sources.push(event.source.as_str());
            ids.push(event.event_id.as_str());
            kinds.push(event.kind.as_str());
            created.push(event.created);
            livemode.push(event.livemode);
            objects.push(event.object_id.as_deref());
            orders.push(event.order_id.as_deref());
            normalized.push(event.normalized.as_str());
            payloads.push(event.payload.as_str());
            received.push(event.received_at);
        }
        // The jobs of each event's first copy in the batch, with its key: the
        // statement keeps those whose event it inserted.
        let jobs: Vec<_> = first_copies(events)
            .flat_map(|event| event.jobs.iter().map(move |job| (event, job)))
            .collect();
        let mut job_sources = Vec::with_capacity(jobs.len());
        let mut job_ids = Vec::with_capacity(jobs.len());
        let mut rules = Vec::with_capacity(jobs.len());
        let mut indexes = Vec::with_capacity(jobs.len());
        let mut plugins = Vec::with_capacity(jobs.len());
        let mut params = Vec::with_capacity(jobs.len());
        let mut keys = Vec::with_capacity(jobs.len());
        let mut now = Vec::with_capacity(jobs.len());
        let mut run_ats = Vec::with_capacity(jobs.len());
        for (event, job) in jobs {
            job_sources.push(event.source.as_str());
            job_ids.push(event.event_id.as_str());
            rules.push(job.rule.as_str());
            indexes.push(job.action_index);
            plugins.push(job.plugin.as_str());
            params.push(job.params.as_str());
            keys.push(job.idempotency_key.as_str());
            now.push(event.received_at);
            run_ats.push(job.first_run(event.received_at));
        }
        let marks = batch_marks(events);
        let mark_sources: Vec<&str> = marks.iter().map(|mark| mark.0).collect();
        let mark_keys: Vec<&str> = marks.iter().map(|mark| mark.1).collect();
        let mark_events: Vec<&str> = marks.iter().map(|mark| mark.2).collect();
        let links = self.links.unwritten(batch_links(events));
        let link_sources: Vec<&str> = links.iter().map(|link| link.0).collect();
        let link_from: Vec<&str> = links.iter().map(|link| link.1).collect();
        let link_to: Vec<&str> = links.iter().map(|link| link.2).collect();
        let contacts = batch_customers(events);
        let column = |field: fn(&customers::Contact) -> &Option<(String, i64)>| {
            let values: Vec<Option<&str>> = contacts
                .iter()
                .map(|c| field(c).as_ref().map(|(value, _)| value.as_str()))
                .collect();
            let times: Vec<Option<i64>> = contacts
                .iter()
                .map(|c| field(c).as_ref().map(|(_, at)| *at))
                .collect();
            (values, times)
        };
        let customer_sources: Vec<&str> = contacts.iter().map(|c| c.source.as_str()).collect();
        let customer_ids: Vec<&str> = contacts.iter().map(|c| c.customer_id.as_str()).collect();
        let (emails, email_ats) = column(|c| &c.email);
        let (names, name_ats) = column(|c| &c.name);
        let (phones, phone_ats) = column(|c| &c.phone);
        let (locales, locales_ats) = column(|c| &c.locales);
        // One statement, so one trip and its own transaction: events and jobs
        // commit together or not at all. A concurrent insert of the same event
        // (another replica) waits on the unique index and then does nothing:
        // exactly one of them stores it. So does a second copy within this batch.
        // The jobs' foreign key is checked at the end of the statement, when the
        // events are in. ORDER BY the ordinality: ids follow the batch's and the
        // plan's order, as SQLite's do.
        let statement = format!(
            "WITH inserted AS (
                 INSERT INTO events (source, event_id, kind, created, livemode, object_id,
                                     order_id, normalized, payload, received_at)
                 SELECT t.source, t.event_id, t.kind, t.created, t.livemode, t.object_id,
                        t.order_id, t.normalized, t.payload, t.received_at
                 FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BOOL[],
                             $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[])
                      WITH ORDINALITY AS t(source, event_id, kind, created, livemode,
                                           object_id, order_id, normalized, payload,
                                           received_at, n)
                 ORDER BY t.n
                 ON CONFLICT (source, event_id) DO NOTHING
                 RETURNING pk, source, event_id
             ), queued AS (
                 INSERT INTO jobs (event_pk, rule, action_index, plugin, params,
                                   idempotency_key, run_at, queued_at, created_at, updated_at)
                 SELECT i.pk, j.rule, j.action_index, j.plugin, j.params, j.idempotency_key,
                        j.run_at, j.now, j.now, j.now
                 FROM UNNEST($11::TEXT[], $12::TEXT[], $13::TEXT[], $14::BIGINT[],
                             $15::TEXT[], $16::TEXT[], $17::TEXT[], $18::BIGINT[], $32::BIGINT[])
                      WITH ORDINALITY AS j(source, event_id, rule, action_index, plugin,
                                           params, idempotency_key, now, run_at, n)
                 JOIN inserted AS i ON i.source = j.source AND i.event_id = j.event_id
                 ORDER BY j.n
                 ON CONFLICT (idempotency_key) DO NOTHING
             ), linked AS (
                 INSERT INTO links (source, a, b)
                 SELECT * FROM UNNEST($19::TEXT[], $20::TEXT[], $21::TEXT[])
                 ON CONFLICT DO NOTHING
             ), known AS (
                 INSERT INTO customers ({columns})
                 SELECT * FROM UNNEST($22::TEXT[], $23::TEXT[], $24::TEXT[], $25::BIGINT[],
                                      $26::TEXT[], $27::BIGINT[], $28::TEXT[], $29::BIGINT[],
                                      $30::TEXT[], $31::BIGINT[])
                 {upsert}
             ), marked AS (
                 INSERT INTO unless_marks (source, key, event_id)
                 SELECT * FROM UNNEST($33::TEXT[], $34::TEXT[], $35::TEXT[])
                 ON CONFLICT DO NOTHING
             )
             SELECT source, event_id FROM inserted",
            columns = customers::COLUMNS,
            upsert = customers::UPSERT,
        );
        let rows = sqlx::query(&statement)
            .bind(&sources)
            .bind(&ids)
            .bind(&kinds)
            .bind(&created)
            .bind(&livemode)
            .bind(&objects)
            .bind(&orders)
            .bind(&normalized)
            .bind(&payloads)
            .bind(&received)
            .bind(&job_sources)
            .bind(&job_ids)
            .bind(&rules)
            .bind(&indexes)
            .bind(&plugins)
            .bind(&params)
            .bind(&keys)
            .bind(&now)
            .bind(&link_sources)
            .bind(&link_from)
            .bind(&link_to)
            .bind(&customer_sources)
            .bind(&customer_ids)
            .bind(&emails)
            .bind(&email_ats)
            .bind(&names)
            .bind(&name_ats)
            .bind(&phones)
            .bind(&phone_ats)
            .bind(&locales)
            .bind(&locales_ats)
            .bind(&run_ats)
            .bind(&mark_sources)
            .bind(&mark_keys)
            .bind(&mark_events)
            .fetch_all(&self.pool)
            .await?;
        self.links.remember(&links);
        let stored = rows
            .iter()
            .map(|row| Ok((row.try_get("source")?, row.try_get("event_id")?)))
            .collect::<Result<HashSet<_>>>()?;
        // The pool's sessions wait for the WAL flush: committed is durable.
        Ok(Committed::now(settle(events, stored)))
    }
}

/// Records attempts and moves their jobs on, in one statement: `$1` job ids, `$2`
/// attempt numbers, `$3`/`$4` start and end, `$5` outcomes, `$6` errors, `$7` the
/// jobs' new status, `$8` their next run (NULL keeps it), `$9` this instance.
///
/// Every attempt is recorded, but a job moves on only while the claim that made
/// the attempt still holds it: the same attempt number (a claim counts one) and
/// this instance's lease. A worker whose job was taken back and claimed again
/// meanwhile cannot mark it delivered, or due again, under the new holder.
pub(super) const RECORD_ATTEMPTS_SQL: &str = "WITH recorded AS (
         INSERT INTO attempts (job_id, attempt, started_at, finished_at, outcome, error, plugin)
         SELECT t.job_id, t.attempt, t.started_at, t.finished_at, t.outcome, t.error, t.plugin
         FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[],
                     $5::TEXT[], $6::TEXT[], $10::TEXT[])
              WITH ORDINALITY AS t(job_id, attempt, started_at, finished_at, outcome,
                                   error, plugin, n)
         ORDER BY t.n
     )
     UPDATE jobs SET status = t.status, run_at = COALESCE(t.run_at, jobs.run_at),
                     locked_until = NULL, leased_by = NULL, last_error = t.error,
                     updated_at = t.finished_at,
                     dead_at = CASE WHEN t.status = 'dead' THEN t.finished_at END
     FROM UNNEST($1::BIGINT[], $7::TEXT[], $8::BIGINT[], $6::TEXT[], $4::BIGINT[],
                 $2::BIGINT[])
          AS t(id, status, run_at, error, finished_at, attempt)
     WHERE jobs.id = t.id AND jobs.attempts = t.attempt AND jobs.leased_by = $9";

/// Records delivery attempts and moves their jobs on.
pub(super) struct AttemptWriter {
    /// The bookkeeping pool: its commits do not wait for the WAL flush.
    pub(super) pool: PgPool,
    /// The instance whose leases the attempts were made under.
    pub(super) instance: Arc<str>,
}

#[async_trait]
impl BatchWriter<NewAttempt> for AttemptWriter {
    type Output = ();

    async fn write_batch(&self, attempts: &[NewAttempt]) -> Result<Committed<()>> {
        let n = attempts.len();
        let mut jobs = Vec::with_capacity(n);
        let mut numbers = Vec::with_capacity(n);
        let mut started = Vec::with_capacity(n);
        let mut finished = Vec::with_capacity(n);
        let mut outcomes = Vec::with_capacity(n);
        let mut statuses = Vec::with_capacity(n);
        let mut run_at = Vec::with_capacity(n);
        let mut errors = Vec::with_capacity(n);
        let mut plugins = Vec::with_capacity(n);
        for attempt in attempts {
            let (outcome, status, next) = attempt.record.outcome.columns();
            jobs.push(attempt.job_id);
            numbers.push(i64::from(attempt.attempt));
            started.push(attempt.record.started_at_ms);
            finished.push(attempt.record.finished_at_ms);
            outcomes.push(outcome);
            statuses.push(status.as_str());
            run_at.push(next);
            errors.push(attempt.record.error.as_deref());
            plugins.push(attempt.record.plugin.as_str());
        }
        // One statement, so one trip and its own transaction; the pool's sessions
        // do not wait for the WAL flush (see `PostgresStore::bookkeeping`).
        sqlx::query(RECORD_ATTEMPTS_SQL)
            .bind(&jobs)
            .bind(&numbers)
            .bind(&started)
            .bind(&finished)
            .bind(&outcomes)
            .bind(&errors)
            .bind(&statuses)
            .bind(&run_at)
            .bind(&*self.instance)
            .bind(&plugins)
            .execute(&self.pool)
            .await?;
        Ok(Committed::now(vec![(); n]))
    }
}
