//! The grouped writes on SQLite: new events with their jobs, and delivery attempts.
//!
//! Each batch is one transaction on the writer connection, so one fsync, sent as
//! one multi-statement query (`one_trip`) of multi-row statements whatever its size.
//! Trips matter more than rows here: each statement and each row read back is a
//! round trip to SQLite's thread and a wake-up of the writer, so one statement per
//! row, or a row back per event, costs far more than the rows themselves.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::one_trip;
use super::writer::Writer;
use crate::store::attempt::NewAttempt;
use crate::store::customers::{self, Contact};
use crate::store::error::{Result, StoreError};
use crate::store::group_commit::{BatchWriter, Committed};
use crate::store::job::IngestOutcome;
use crate::store::links::RecentLinks;
use crate::store::new_event::{
    batch_customers, batch_links, batch_marks, first_copies, settle, NewEvent,
};

/// Rows per statement: SQLite binds at most 32,766 parameters per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// The writer connection's scratch table: the largest event pk before the batch.
/// A batch's transaction holds the only write lock and SQLite gives a new row the
/// largest rowid plus one, so the rows above it are exactly those it inserted.
pub(super) const CREATE_INGEST_FLOOR: &str =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_floor (id INTEGER PRIMARY KEY, pk INTEGER NOT NULL)";

/// Commits new events and their jobs, durably: an acknowledged event must
/// survive a power loss.
pub(super) struct IngestWriter {
    pub(super) writer: Writer,
    /// The links stored lately, which a batch does not write again.
    pub(super) links: RecentLinks,
}

#[async_trait]
impl BatchWriter<NewEvent> for IngestWriter {
    type Output = IngestOutcome;

    async fn write_batch(&self, events: &[NewEvent]) -> Result<Committed<IngestOutcome>> {
        let write = self.writer.durable().await?;
        let mut query = one_trip::transaction();
        query.push(
            "REPLACE INTO temp.ingest_floor (id, pk) SELECT 1, COALESCE(MAX(pk), 0) FROM events;\n",
        );
        push_event_rows(&mut query, events);
        push_job_rows(&mut query, events);
        let links = self.links.unwritten(batch_links(events));
        push_link_rows(&mut query, &links);
        push_mark_rows(&mut query, &batch_marks(events));
        let contacts = batch_customers(events);
        push_contact_rows(&mut query, &contacts);
        query.push(
            "SELECT json_group_array(json_array(source, event_id)) AS inserted
             FROM events WHERE pk > (SELECT pk FROM temp.ingest_floor);",
        );
        let (rows, unsynced) = write.commit_one_trip(query).await?;
        self.links.remember(&links);
        let inserted: &str = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("the ingest batch read nothing back".to_owned()))?
            .try_get("inserted")?;
        let inserted: HashSet<(String, String)> = serde_json::from_str(inserted)
            .map_err(|e| StoreError::Corrupt(format!("inserted events: {e}")))?;
        // The callers hear back once the batch is synced; the next batch is
        // written meanwhile.
        Ok(Committed::then(settle(events, inserted), unsynced.synced()))
    }
}

/// Inserts `events`; a duplicate (stored before, or earlier in the batch) inserts nothing.
fn push_event_rows<'a>(query: &mut QueryBuilder<'a, Sqlite>, events: &'a [NewEvent]) {
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        query.push(
            "INSERT INTO events (source, event_id, kind, created, livemode, object_id,
                                 order_id, normalized, payload, received_at) ",
        );
        query.push_values(chunk, |mut row, event| {
            row.push_bind(&event.source)
                .push_bind(&event.event_id)
                .push_bind(&event.kind)
                .push_bind(event.created)
                .push_bind(event.livemode)
                .push_bind(&event.object_id)
                .push_bind(&event.order_id)
                .push_bind(&event.normalized)
                .push_bind(&event.payload)
                .push_bind(event.received_at);
        });
        query.push(" ON CONFLICT (source, event_id) DO NOTHING;\n");
    }
}

/// Inserts the jobs of the events this batch inserted, queued at their event's
/// arrival, in the plan's order. Only a batch's first copy of an event brings jobs,
/// and only if its row is new (above the floor); a job whose idempotency key
/// exists is skipped.
fn push_job_rows<'a>(query: &mut QueryBuilder<'a, Sqlite>, events: &'a [NewEvent]) {
    let jobs: Vec<_> = first_copies(events)
        .flat_map(|event| event.jobs.iter().map(move |job| (event, job)))
        .collect();
    let mut order = 0_i64;
    for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
        // VALUES names its columns column1, column2 …
        query.push(
            "INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                               run_at, queued_at, created_at, updated_at)
             SELECT e.pk, v.column3, v.column4, v.column5, v.column6, v.column7,
                    v.column10, v.column8, v.column8, v.column8
             FROM (",
        );
        query.push_values(chunk, |mut row, (event, job)| {
            order += 1;
            row.push_bind(&event.source)
                .push_bind(&event.event_id)
                .push_bind(&job.rule)
                .push_bind(job.action_index)
                .push_bind(&job.plugin)
                .push_bind(&job.params)
                .push_bind(&job.idempotency_key)
                .push_bind(event.received_at)
                .push_bind(order)
                .push_bind(job.first_run(event.received_at));
        });
        query.push(
            ") AS v JOIN events AS e ON e.source = v.column1 AND e.event_id = v.column2
             WHERE e.pk > (SELECT pk FROM temp.ingest_floor)
             ORDER BY v.column9
             ON CONFLICT (idempotency_key) DO NOTHING;\n",
        );
    }
}

/// Inserts `links`; a pair stored before is left as it is.
fn push_link_rows<'a>(query: &mut QueryBuilder<'a, Sqlite>, links: &[(&'a str, &'a str, &'a str)]) {
    for chunk in links.chunks(ROWS_PER_STATEMENT) {
        query.push("INSERT INTO links (source, a, b) ");
        query.push_values(chunk, |mut row, (source, a, b)| {
            row.push_bind(*source).push_bind(*a).push_bind(*b);
        });
        query.push(" ON CONFLICT DO NOTHING;\n");
    }
}

/// Inserts the follow-ups' unless marks; none for most batches, and then no SQL.
fn push_mark_rows<'a>(query: &mut QueryBuilder<'a, Sqlite>, marks: &[(&'a str, &'a str, &'a str)]) {
    for chunk in marks.chunks(ROWS_PER_STATEMENT) {
        query.push("INSERT INTO unless_marks (source, key, event_id) ");
        query.push_values(chunk, |mut row, (source, key, event_id)| {
            row.push_bind(*source).push_bind(*key).push_bind(*event_id);
        });
        query.push(" ON CONFLICT DO NOTHING;\n");
    }
}

/// Merges `contacts` into the customer directory, each field newest first.
fn push_contact_rows<'a>(query: &mut QueryBuilder<'a, Sqlite>, contacts: &'a [Contact]) {
    for chunk in contacts.chunks(ROWS_PER_STATEMENT) {
        query.push(format!("INSERT INTO customers ({}) ", customers::COLUMNS));
        query.push_values(chunk, |mut row, contact| {
            let (email, email_at) = split(&contact.email);
            let (name, name_at) = split(&contact.name);
            let (phone, phone_at) = split(&contact.phone);
            let (locales, locales_at) = split(&contact.locales);
            row.push_bind(&contact.source)
                .push_bind(&contact.customer_id)
                .push_bind(email)
                .push_bind(email_at)
                .push_bind(name)
                .push_bind(name_at)
                .push_bind(phone)
                .push_bind(phone_at)
                .push_bind(locales)
                .push_bind(locales_at);
        });
        // SQLite reads `INSERT … SELECT … ON CONFLICT` ambiguously, VALUES it does not.
        query.push(customers::UPSERT);
        query.push(";\n");
    }
}

/// A field and its time as two columns.
fn split(field: &Option<(String, i64)>) -> (Option<&str>, Option<i64>) {
    match field {
        Some((value, at)) => (Some(value.as_str()), Some(*at)),
        None => (None, None),
    }
}

/// Records delivery attempts and moves their jobs on.
pub(super) struct AttemptWriter {
    pub(super) writer: Writer,
    /// The instance whose leases the attempts were made under.
    pub(super) instance: Arc<str>,
}

#[async_trait]
impl BatchWriter<NewAttempt> for AttemptWriter {
    type Output = ();

    async fn write_batch(&self, attempts: &[NewAttempt]) -> Result<Committed<()>> {
        // Lossy: a lost attempt record means the job is delivered again with the
        // same idempotency key, which at-least-once allows.
        let write = self.writer.lossy().await?;
        let mut query = one_trip::transaction();
        push_attempts(&mut query, attempts, &self.instance);
        write.commit_one_trip(query).await?;
        Ok(Committed::now(vec![(); attempts.len()]))
    }
}

/// Inserts `attempts` and moves their jobs on.
///
/// Every attempt is recorded, but a job moves on only while the claim that made
/// the attempt still holds it: the same attempt number (a claim counts one) and
/// `instance`'s lease. A worker whose job was taken back and claimed again
/// meanwhile cannot mark it delivered, or due again, under the new holder.
fn push_attempts<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    attempts: &'a [NewAttempt],
    instance: &'a str,
) {
    for chunk in attempts.chunks(ROWS_PER_STATEMENT) {
        query.push(
            "INSERT INTO attempts (job_id, attempt, started_at, finished_at, outcome, error, plugin) ",
        );
        query.push_values(chunk, |mut row, attempt| {
            let (outcome, _, _) = attempt.record.outcome.columns();
            row.push_bind(attempt.job_id)
                .push_bind(i64::from(attempt.attempt))
                .push_bind(attempt.record.started_at_ms)
                .push_bind(attempt.record.finished_at_ms)
                .push_bind(outcome)
                .push_bind(&attempt.record.error)
                .push_bind(&attempt.record.plugin);
        });
        // VALUES names its columns column1, column2 …
        query.push(
            ";\nUPDATE jobs SET status = t.column2, run_at = COALESCE(t.column3, jobs.run_at),
                             locked_until = NULL, leased_by = NULL, last_error = t.column4,
                             updated_at = t.column5,
                             dead_at = CASE WHEN t.column2 = 'dead' THEN t.column5 END
             FROM (",
        );
        query.push_values(chunk, |mut row, attempt| {
            let (_, status, run_at) = attempt.record.outcome.columns();
            row.push_bind(attempt.job_id)
                .push_bind(status.as_str())
                .push_bind(run_at)
                .push_bind(&attempt.record.error)
                .push_bind(attempt.record.finished_at_ms)
                .push_bind(i64::from(attempt.attempt));
        });
        query.push(
            ") AS t WHERE jobs.id = t.column1 AND jobs.attempts = t.column6 AND jobs.leased_by = ",
        );
        query.push_bind(instance);
        query.push(";\n");
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::store::sqlite::SqliteStore;

    async fn writer() -> (tempfile::TempDir, SqliteStore, IngestWriter) {
        let dir = tempfile::TempDir::new().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("herald.db").display());
        let store = SqliteStore::connect(&url, "test", "test".into())
            .await
            .expect("connect");
        let writer = IngestWriter {
            writer: store.writer.clone(),
            links: RecentLinks::default(),
        };
        (dir, store, writer)
    }

    /// `(event_id, rule)` of every job, in id order.
    async fn jobs(store: &SqliteStore) -> Vec<(String, String)> {
        sqlx::query(
            "SELECT e.event_id, j.rule FROM jobs j JOIN events e ON e.pk = j.event_pk ORDER BY j.id",
        )
        .fetch_all(&store.pool)
        .await
        .expect("jobs")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn only_new_first_copies_bring_their_jobs() {
        let (_dir, store, writer) = writer().await;
        let first = writer
            .write_batch(&[NewEvent::sample("evt_old", &["a"])])
            .await
            .map(Committed::into_outputs);
        assert_eq!(first.expect("first"), [IngestOutcome::Stored { jobs: 1 }]);

        let (batch, expected) = NewEvent::copies_batch();
        let outcomes = writer
            .write_batch(&batch)
            .await
            .expect("batch")
            .into_outputs();
        assert_eq!(outcomes, expected);
        let expected = pairs(&[("evt_old", "a"), ("evt_new", "x"), ("evt_new", "y")]);
        assert_eq!(jobs(&store).await, expected);
    }

    #[tokio::test]
    async fn a_failed_batch_leaves_nothing_behind_and_the_writer_usable() {
        let (_dir, store, writer) = writer().await;
        sqlx::query(
            "CREATE TRIGGER poison BEFORE INSERT ON jobs WHEN NEW.rule = 'poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
        )
        .execute(&mut *store.writer.lossy().await.expect("writer"))
        .await
        .expect("trigger");
        // The events insert succeeds, then the jobs insert fails: the transaction
        // is still open when the error comes back.
        let failed = writer
            .write_batch(&[
                NewEvent::sample("evt_1", &["a"]),
                NewEvent::sample("evt_2", &["poison"]),
            ])
            .await
            .map(Committed::into_outputs);
        assert!(failed.is_err(), "{failed:?}");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(count, 0);

        let after = writer
            .write_batch(&[NewEvent::sample("evt_1", &["a"])])
            .await
            .map(Committed::into_outputs);
        assert_eq!(after.expect("after"), [IngestOutcome::Stored { jobs: 1 }]);
        assert_eq!(jobs(&store).await, pairs(&[("evt_1", "a")]));
    }
}
