//! The store's contract, scenario by scenario, on every backend: SQLite always,
//! PostgreSQL when `HERALD_TEST_DATABASE_URL` names a server (`./scripts/test`
//! starts one). Times are passed explicitly, so leases expire without sleeping.

use std::collections::HashSet;

use herald::rules::{Action, EventPattern, Rule, Rules};
use herald::source::stripe::{normalize, sign, verify};
use herald::store::AttemptOutcome::{self, Delivered, Exhausted, Failed, RetryAt};
use herald::store::{
    AttemptRecord, ClaimedJob, IngestOutcome, JobFilter, JobStatus, JobSummary, NewJob, Pruned,
    Redelivered, Store, StoreError,
};
use herald_plugin_api::{Event, Payload};
use serde_json::{json, Map, Value};

use crate::helpers::{backends, fresh_postgres};

/// How long claims lease their jobs in these tests.
pub(crate) const LEASE: i64 = 30_000;

/// A signed, verified and normalized Stripe event `id`, holding its body as the
/// receiver does.
fn stripe_event(id: &str) -> Event {
    const SECRET: &[u8] = b"whsec_store";
    const T: i64 = 1_700_000_000;
    let object =
        json!({"id": "pi_1", "object": "payment_intent", "amount": 100, "currency": "usd"});
    let body = json!({"id": id, "type": KIND, "created": 1, "data": {"object": object}});
    let body = body.to_string().into_bytes();
    let header = format!("t={T},v1={}", sign(&body, SECRET, T));
    let verified = verify(Some(&header), &body, SECRET, 300, T).expect("signature verifies");
    let mut event = normalize(verified).expect("event normalizes");
    event.raw = Payload::from_body(&body);
    event
}

/// The type of every test event.
const KIND: &str = "payment_intent.succeeded";

/// Jobs for `event` as [`Rules::plan`] makes them: one per `(rule, plugin)`,
/// numbered within their rule.
fn planned(event: &Event, actions: &[(&str, &str)]) -> Vec<NewJob> {
    let mut jobs = Vec::new();
    for (n, &(rule, plugin)) in actions.iter().enumerate() {
        let index = actions[..n].iter().filter(|(r, _)| *r == rule).count();
        let mut params = Map::new();
        let to = Value::from(format!("{plugin}@example.com"));
        params.insert("to".to_owned(), to);
        let key = format!("{}:{}:{rule}:{index}", event.source, event.id);
        jobs.push(NewJob::new(rule, index, plugin, &params, &key));
    }
    jobs
}

/// When the tests' events arrive (Unix ms), unless a test says otherwise.
pub(crate) const RECEIVED: i64 = 1_700_000_000_000;

/// A moment after every job ingested at [`RECEIVED`] is due.
pub(crate) fn later() -> i64 {
    RECEIVED + 60_000
}

/// A rule `name` on events matching `on`, with one action per plugin.
fn rule(name: &str, on: &str, plugins: &[&str]) -> Rule {
    let on = vec![EventPattern::parse(on).expect("pattern")];
    let actions = plugins
        .iter()
        .map(|plugin| Action::new((*plugin).to_owned(), Map::new()))
        .collect();
    Rule::new(name.to_owned(), on, None, actions)
}

/// A backend under test, with shortcuts that fail naming it.
pub(crate) struct Db<'a> {
    name: &'static str,
    store: &'a Store,
}

/// What every other call needs unwrapped: the value, or a panic naming the backend.
pub(crate) fn ok<T>(name: &str, what: &str, result: Result<T, StoreError>) -> T {
    result.unwrap_or_else(|e| panic!("{name}: {what}: {e}"))
}

impl<'a> Db<'a> {
    pub(crate) fn new(name: &'static str, store: &'a Store) -> Self {
        Self { name, store }
    }

    /// Stores event `id`, received at [`RECEIVED`], with jobs for `actions`; the
    /// event and its job ids.
    pub(crate) async fn ingest(&self, id: &str, actions: &[(&str, &str)]) -> (Event, Vec<i64>) {
        self.ingest_at(id, actions, RECEIVED).await
    }

    /// Stores event `id`, received at `at`, with jobs for `actions`.
    pub(crate) async fn ingest_at(
        &self,
        id: &str,
        actions: &[(&str, &str)],
        at: i64,
    ) -> (Event, Vec<i64>) {
        let event = stripe_event(id);
        let jobs = planned(&event, actions);
        let stored = IngestOutcome::Stored { jobs: jobs.len() };
        let outcome = self.store.ingest(&event, jobs, at).await;
        assert_eq!(ok(self.name, "ingest", outcome), stored, "{}", self.name);
        let ids = self.jobs(id).await.iter().map(|job| job.id).collect();
        (event, ids)
    }

    pub(crate) async fn jobs(&self, event_id: &str) -> Vec<JobSummary> {
        let jobs = self.store.jobs_for_event("stripe", event_id).await;
        ok(self.name, "jobs_for_event", jobs)
    }

    pub(crate) async fn claim(&self, now: i64, limit: usize) -> Vec<ClaimedJob> {
        let claimed = self.store.claim_due(now, LEASE, limit, &[]).await;
        ok(self.name, "claim_due", claimed)
    }

    pub(crate) async fn claim_ids(&self, now: i64, limit: usize) -> Vec<i64> {
        let claimed = self.claim(now, limit).await;
        claimed.iter().map(|job| job.id).collect()
    }

    /// Records attempt `attempt` of `job_id`, ending at `at`.
    pub(crate) async fn record(&self, job_id: i64, attempt: u32, outcome: AttemptOutcome, at: i64) {
        let error = (outcome != Delivered).then(|| format!("try {attempt} failed"));
        let record = AttemptRecord {
            plugin: "test".to_owned(),
            started_at_ms: at - 10,
            finished_at_ms: at,
            outcome,
            error,
        };
        let result = self.store.record_attempt(job_id, attempt, &record).await;
        ok(self.name, "record_attempt", result);
    }

    pub(crate) async fn job(&self, job_id: i64) -> Option<JobSummary> {
        ok(self.name, "job", self.store.job(job_id).await)
    }

    /// Asserts job `job_id`'s status, attempt count and death time.
    pub(crate) async fn assert_state(
        &self,
        job_id: i64,
        status: JobStatus,
        attempts: u32,
        at: Option<i64>,
    ) {
        let job = self.job(job_id).await;
        let job = job.unwrap_or_else(|| panic!("{}: job {job_id} is gone", self.name));
        let state = (job.status, job.attempts, job.dead_at_ms);
        let expected = (status, attempts, at);
        assert_eq!(state, expected, "{}: job {job_id}'s state", self.name);
    }

    /// A job's attempts as `(number, outcome)`.
    pub(crate) async fn attempts(&self, job_id: i64) -> Vec<(u32, String)> {
        let attempts = ok(self.name, "attempts", self.store.attempts(job_id).await);
        attempts
            .into_iter()
            .map(|a| (a.attempt, a.outcome))
            .collect()
    }

    /// Asserts job `job_id`'s attempts, as `(number, outcome)`, in order.
    pub(crate) async fn assert_attempts(&self, job_id: i64, expected: &[(u32, &str)]) {
        let attempts = self.attempts(job_id).await;
        let attempts: Vec<(u32, &str)> = attempts.iter().map(|(n, o)| (*n, o.as_str())).collect();
        assert_eq!(attempts, expected, "{}: job {job_id}'s attempts", self.name);
    }

    pub(crate) async fn dead(&self, filter: JobFilter, limit: usize) -> Vec<i64> {
        let dead = self.store.dead_letters(&filter, limit).await;
        ok(self.name, "dead_letters", dead)
            .iter()
            .map(|job| job.id)
            .collect()
    }

    pub(crate) async fn count(&self) -> i64 {
        ok(self.name, "event_count", self.store.event_count().await)
    }
}

/// No job ids.
pub(crate) const NONE: [i64; 0] = [];

#[tokio::test]
async fn ingest_stores_an_event_with_its_jobs_once() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        ok(name, "ping", store.ping().await);
        assert_eq!(db.count().await, 0, "{name}");
        let (event, ids) = db
            .ingest("evt_1", &[("paid", "mail"), ("paid", "hook")])
            .await;
        assert_eq!(db.count().await, 1, "{name}");
        let jobs = db.jobs("evt_1").await;
        assert!(
            ids.len() == 2 && ids[0] < ids[1],
            "{name}: in creation order: {jobs:?}"
        );
        assert_eq!(jobs[0].plugin, "mail", "{name}");
        assert_eq!(jobs[1].idempotency_key, "stripe:evt_1:paid:1", "{name}");
        for job in &jobs {
            let event = (job.event_id.as_str(), job.event_type.as_str());
            assert_eq!(event, ("evt_1", KIND), "{name}");
            db.assert_state(job.id, JobStatus::Pending, 0, None).await;
            assert_eq!(job.last_error, None, "{name}");
        }

        // The same event again, even with other jobs planned: nothing new.
        let more = planned(&event, &[("late", "mail")]);
        let outcome = ok(name, "ingest", store.ingest(&event, more, RECEIVED).await);
        assert_eq!(outcome, IngestOutcome::Duplicate, "{name}");
        assert_eq!(db.count().await, 1, "{name}");
        assert_eq!(db.jobs("evt_1").await, jobs, "{name}: no new job");

        // An event no rule matched is stored all the same.
        db.ingest("evt_2", &[]).await;
        assert_eq!(db.count().await, 2, "{name}");
    }
}

#[tokio::test]
async fn concurrent_ingests_share_commits_and_each_event_is_stored_once() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        // 60 distinct events, each sent three times at once: the copies land in
        // the same group commit as their original or in the next one.
        let mut calls = tokio::task::JoinSet::new();
        for copy in 0..3 {
            for n in 0..60 {
                let store = store.clone();
                calls.spawn(async move {
                    let id = format!("evt_batch_{n}");
                    let event = stripe_event(&id);
                    let jobs = planned(&event, &[("paid", "mail"), ("paid", "hook")]);
                    let outcome = store.ingest(&event, jobs, RECEIVED).await;
                    (id, copy, outcome)
                });
            }
        }
        let mut stored = HashSet::new();
        let mut duplicates = 0;
        while let Some(joined) = calls.join_next().await {
            let (id, _, outcome) = joined.expect("task");
            match ok(name, "ingest", outcome) {
                IngestOutcome::Stored { jobs } => {
                    assert_eq!(jobs, 2, "{name}");
                    assert!(stored.insert(id.clone()), "{name}: {id} stored twice");
                }
                IngestOutcome::Duplicate => duplicates += 1,
            }
        }
        assert_eq!((stored.len(), duplicates), (60, 120), "{name}");
        assert_eq!(db.count().await, 60, "{name}");
        for n in 0..60 {
            let id = format!("evt_batch_{n}");
            let keys: Vec<String> = db
                .jobs(&id)
                .await
                .into_iter()
                .map(|j| j.idempotency_key)
                .collect();
            let expected = [format!("stripe:{id}:paid:0"), format!("stripe:{id}:paid:1")];
            assert_eq!(
                keys, expected,
                "{name}: {id}'s jobs belong to it, in plan order"
            );
        }
    }
}

#[tokio::test]
async fn claim_due_leaves_the_jobs_of_the_plugins_it_skips() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let actions = [("a", "mail"), ("b", "hook"), ("c", "sms")];
        let (_, ids) = db.ingest("evt_skip", &actions).await;
        let now = later();
        let skip = ["mail".to_owned(), "sms".to_owned()];
        let claimed = ok(name, "claim", store.claim_due(now, LEASE, 10, &skip).await);
        let plugins: Vec<&str> = claimed.iter().map(|job| job.plugin.as_str()).collect();
        assert_eq!(plugins, ["hook"], "{name}");
        // Skipped jobs were not touched: no lease, no attempt.
        db.assert_state(ids[0], JobStatus::Pending, 0, None).await;
        assert_eq!(db.claim_ids(now, 10).await, [ids[0], ids[2]], "{name}");
    }
}

#[tokio::test]
async fn claim_due_hands_jobs_out_once_until_the_lease_expires() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (event, mut all) = db.ingest("evt_1", &[("a", "mail"), ("b", "mail")]).await;
        let actions = [("a", "mail"), ("b", "hook"), ("c", "x")];
        all.extend(db.ingest("evt_2", &actions).await.1);
        let now = later();

        let claimed = db.claim(now, 2).await;
        let ids: Vec<i64> = claimed.iter().map(|job| job.id).collect();
        assert_eq!(ids, all[..2], "{name}: the oldest two");
        let job = &claimed[0];
        assert_eq!(job.event, event, "{name}: the event, raw payload included");
        assert_eq!(job.event.raw["data"]["object"]["amount"], 100, "{name}");
        let action = (job.rule.as_str(), job.plugin.as_str());
        assert_eq!(action, ("a", "mail"), "{name}");
        assert_eq!(job.params["to"], "mail@example.com", "{name}");
        assert_eq!(job.idempotency_key, "stripe:evt_1:a:0", "{name}");
        assert_eq!((job.attempt, job.attempts_since_queued), (1, 1), "{name}");
        assert_eq!(job.queued_at_ms, RECEIVED, "{name}: queued when it arrived");
        // Not due before it arrived.
        assert!(db.claim_ids(RECEIVED - 1, 10).await.is_empty(), "{name}");

        // Leased jobs are skipped; the rest go to the next claim.
        assert_eq!(db.claim_ids(now, 10).await, all[2..], "{name}");
        assert_eq!(db.claim_ids(now, 10).await, NONE, "{name}: all leased");
        assert_eq!(db.claim_ids(now + LEASE - 1, 10).await, NONE, "{name}");

        // A worker that never reported: its jobs come back once the lease is over.
        assert_eq!(db.claim_ids(now + LEASE, 0).await, NONE, "{name}: limit 0");
        let again = db.claim(now + LEASE, 10).await;
        let ids: Vec<i64> = again.iter().map(|job| job.id).collect();
        assert_eq!(ids, all, "{name}");
        let second = |job: &ClaimedJob| job.attempt == 2 && job.attempts_since_queued == 2;
        assert!(again.iter().all(second), "{name}: {again:?}");
        db.assert_state(all[0], JobStatus::Pending, 2, None).await;
    }
}

#[tokio::test]
async fn record_attempt_moves_the_job_on() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let actions = [("r", "a"), ("r", "b"), ("r", "c"), ("r", "d")];
        let (_, ids) = db.ingest("evt_1", &actions).await;
        let [delivered, retried, failed, exhausted] = [ids[0], ids[1], ids[2], ids[3]];
        let now = later();
        assert_eq!(db.claim_ids(now, 10).await, ids, "{name}");

        db.record(delivered, 1, Delivered, now + 1).await;
        db.record(retried, 1, RetryAt(now + 5_000), now + 2).await;
        db.record(failed, 1, Failed, now + 3).await;
        db.record(exhausted, 1, Exhausted, now + 4).await;
        db.assert_state(delivered, JobStatus::Delivered, 1, None)
            .await;
        db.assert_state(retried, JobStatus::Pending, 1, None).await;
        db.assert_state(failed, JobStatus::Dead, 1, Some(now + 3))
            .await;
        db.assert_state(exhausted, JobStatus::Dead, 1, Some(now + 4))
            .await;
        let job = db.job(retried).await.expect("job");
        assert_eq!(job.last_error.as_deref(), Some("try 1 failed"), "{name}");
        let job = db.job(delivered).await.expect("job");
        assert_eq!(job.last_error, None, "{name}");

        // The retry is due at its time, not before, although that is well inside
        // the claim's lease: recording the attempt ended the lease.
        assert_eq!(db.claim_ids(now + 4_999, 10).await, NONE, "{name}");
        let due = db.claim(now + 5_000, 10).await;
        assert_eq!(due.len(), 1, "{name}: the retry only");
        assert_eq!((due[0].id, due[0].attempt), (retried, 2), "{name}");
        assert_eq!(due[0].attempts_since_queued, 2, "{name}");
        db.record(retried, 2, Failed, now + 5_001).await;
        db.assert_state(retried, JobStatus::Dead, 2, Some(now + 5_001))
            .await;

        db.assert_attempts(retried, &[(1, "retry"), (2, "failed")])
            .await;
        let attempts = ok(name, "attempts", store.attempts(retried).await);
        let times = (attempts[1].started_at_ms, attempts[1].finished_at_ms);
        assert_eq!(times, (now + 4_991, now + 5_001), "{name}");
        assert_eq!(attempts[1].error.as_deref(), Some("try 2 failed"), "{name}");
        db.assert_attempts(delivered, &[(1, "delivered")]).await;
        // An exhausted job's last attempt was a retry like the others.
        db.assert_attempts(exhausted, &[(1, "retry")]).await;
        assert_eq!(db.attempts(9_999).await, [], "{name}");
    }
}

#[tokio::test]
async fn defer_gives_the_job_back_without_counting_the_attempt() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, ids) = db.ingest("evt_1", &[("r", "hook")]).await;
        let id = ids[0];
        let now = later();
        assert_eq!(db.claim(now, 1).await[0].attempt, 1, "{name}");
        ok(name, "defer", store.defer(id, 1, now + 1_000).await);
        db.assert_state(id, JobStatus::Pending, 0, None).await;
        assert_eq!(db.claim_ids(now + 999, 1).await, NONE, "{name}: due later");
        let again = db.claim(now + 1_000, 1).await;
        assert_eq!(again.len(), 1, "{name}: due again, lease gone");
        let attempt = (again[0].attempt, again[0].attempts_since_queued);
        assert_eq!(attempt, (1, 1), "{name}: the same attempt again");
        assert_eq!(db.attempts(id).await, [], "{name}");

        // A finished job is not deferred.
        db.record(id, 1, Delivered, now + 1_001).await;
        ok(name, "defer", store.defer(id, 1, now + 9_000).await);
        db.assert_state(id, JobStatus::Delivered, 1, None).await;
    }
}

#[tokio::test]
async fn dead_letters_are_filtered() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, a) = db
            .ingest("evt_a", &[("r1", "p1"), ("r2", "p2"), ("r3", "p1")])
            .await;
        let (_, b) = db.ingest("evt_b", &[("r1", "p1"), ("r1", "p2")]).await;
        let now = later();
        assert_eq!(db.claim(now, 10).await.len(), 5, "{name}");
        // Dead in this order: b0, a1, a0; a2 is delivered, b1 pending.
        db.record(b[0], 1, Failed, now + 10).await;
        db.record(a[1], 1, Exhausted, now + 20).await;
        db.record(a[0], 1, Failed, now + 30).await;
        db.record(a[2], 1, Delivered, now + 40).await;
        db.record(b[1], 1, RetryAt(now + 99), now + 50).await;

        let all = JobFilter::default;
        assert_eq!(
            db.dead(all(), 10).await,
            [b[0], a[1], a[0]],
            "{name}: by death"
        );
        assert_eq!(db.dead(all(), 2).await, [b[0], a[1]], "{name}: limit");
        let job_ids = vec![a[0], a[2], b[1], 9_999];
        let by_ids = JobFilter {
            job_ids: Some(job_ids),
            ..all()
        };
        assert_eq!(
            db.dead(by_ids, 10).await,
            [a[0]],
            "{name}: the dead of the ids"
        );
        // An empty list is "none of these", never "any job" (a replay of `[]` once
        // replayed every dead letter).
        let no_ids = JobFilter {
            job_ids: Some(Vec::new()),
            ..all()
        };
        assert_eq!(
            db.dead(no_ids, 10).await,
            Vec::<i64>::new(),
            "{name}: an empty id list"
        );
        let event_id = Some("evt_a".to_owned());
        let by_event = JobFilter { event_id, ..all() };
        assert_eq!(db.dead(by_event, 10).await, [a[1], a[0]], "{name}: event");
        let by_rule = JobFilter {
            rule: Some("r1".to_owned()),
            ..all()
        };
        assert_eq!(db.dead(by_rule, 10).await, [b[0], a[0]], "{name}: rule");
        let by_plugin = JobFilter {
            plugin: Some("p2".to_owned()),
            ..all()
        };
        assert_eq!(db.dead(by_plugin, 10).await, [a[1]], "{name}: plugin");
        let (since_ms, until_ms) = (Some(now + 20), Some(now + 30));
        let window = JobFilter {
            since_ms,
            until_ms,
            ..all()
        };
        assert_eq!(
            db.dead(window, 10).await,
            [a[1]],
            "{name}: since in, until out"
        );
        let combined = JobFilter {
            event_id: Some("evt_a".to_owned()),
            rule: Some("r1".to_owned()),
            plugin: Some("p1".to_owned()),
            since_ms: Some(now + 30),
            ..all()
        };
        assert_eq!(db.dead(combined, 10).await, [a[0]], "{name}: all at once");
        let first = ok(name, "dead_letters", store.dead_letters(&all(), 1).await);
        assert_eq!(first[0].event_id, "evt_b", "{name}");
        assert_eq!(
            first[0].last_error.as_deref(),
            Some("try 1 failed"),
            "{name}"
        );
        assert_eq!(first[0].dead_at_ms, Some(now + 10), "{name}");
    }
}

/// A job whose template does not render waits as `held`, neither claimed nor dead,
/// until a reload releases it with a fresh budget; other jobs are left alone.
#[tokio::test]
async fn a_held_job_waits_unclaimed_until_released_with_a_fresh_budget() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, ids) = db.ingest("evt_held", &[("r", "mail"), ("r", "hook")]).await;
        let [held, other] = [ids[0], ids[1]];
        let now = later();
        db.claim(now, 10).await;
        db.record(held, 1, AttemptOutcome::Held, now + 1).await;
        db.record(other, 1, RetryAt(now + 50), now + 2).await;
        db.assert_state(held, JobStatus::Held, 1, None).await;
        db.assert_attempts(held, &[(1, "held")]).await;
        let claimed = db.claim_ids(now + 10_000, 10).await;
        assert_eq!(claimed, [other], "{name}: a held job is not claimed");

        let at = now + 20_000;
        let released = ok(name, "release_held", store.release_held(at).await);
        assert_eq!(released, 1, "{name}");
        db.assert_state(held, JobStatus::Pending, 1, None).await;
        let claimed = db.claim(at, 10).await;
        assert_eq!(claimed.len(), 1, "{name}: the released job");
        assert_eq!((claimed[0].id, claimed[0].attempt), (held, 2), "{name}");
        assert_eq!(claimed[0].attempts_since_queued, 1, "{name}: fresh budget");
        assert_eq!(claimed[0].queued_at_ms, at, "{name}: age starts again");
        assert_eq!(ok(name, "release_held", store.release_held(at).await), 0);
    }
}

#[tokio::test]
async fn requeue_only_touches_dead_jobs_and_resets_the_budget() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let actions = [("r", "dead"), ("r", "done"), ("r", "wait")];
        let (_, ids) = db.ingest("evt_1", &actions).await;
        let [dead, done, waiting] = [ids[0], ids[1], ids[2]];
        let now = later();
        db.claim(now, 10).await;
        db.record(dead, 1, RetryAt(now + 100), now + 1).await;
        assert_eq!(db.claim(now + 100, 1).await[0].attempt, 2, "{name}");
        db.record(dead, 2, Exhausted, now + 101).await;
        db.record(done, 1, Delivered, now + 2).await;

        let at = now + 1_000;
        let requeued = store.requeue(&[dead, done, waiting, 9_999], at).await;
        assert_eq!(
            ok(name, "requeue", requeued),
            1,
            "{name}: the dead one only"
        );
        db.assert_state(dead, JobStatus::Pending, 2, None).await;
        db.assert_state(done, JobStatus::Delivered, 1, None).await;
        let again = ok(name, "requeue", store.requeue(&[dead], at).await);
        assert_eq!(again, 0, "{name}: not dead any more");
        assert_eq!(
            ok(name, "requeue", store.requeue(&[], at).await),
            0,
            "{name}"
        );

        // The waiting job's lease still runs; the requeued one is due at once, its
        // budget and age starting again.
        let claimed = db.claim(at, 10).await;
        assert_eq!(claimed.len(), 1, "{name}: the requeued job only");
        assert_eq!((claimed[0].id, claimed[0].attempt), (dead, 3), "{name}");
        assert_eq!(claimed[0].attempts_since_queued, 1, "{name}: fresh budget");
        assert_eq!(claimed[0].queued_at_ms, at, "{name}: age starts again");

        // Deferring never takes back attempts made before the replay.
        ok(name, "defer", store.defer(dead, 3, at + 10).await);
        ok(name, "defer", store.defer(dead, 3, at + 10).await);
        db.assert_state(dead, JobStatus::Pending, 2, None).await;
    }
}

#[tokio::test]
async fn redeliver_event_requeues_its_jobs_and_adds_new_rules() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let actions = [("old", "mail"), ("old", "hook"), ("old", "busy")];
        let (_, ids) = db.ingest("evt_1", &actions).await;
        let [delivered, dead, busy] = [ids[0], ids[1], ids[2]];
        let now = later();
        db.claim(now, 10).await;
        db.record(delivered, 1, Delivered, now + 1).await;
        db.record(dead, 1, Failed, now + 2).await;
        // `busy` is still leased by its worker when the event is redelivered.

        let rules = Rules::new(vec![
            rule("old", KIND, &["mail", "hook", "busy"]),
            rule("new", "payment_intent.*", &["mail", "sms"]),
            rule("other", "charge.*", &["mail"]),
        ]);
        let at = now + 100;
        // Planned from the stored event, as the caller (the replay module) does.
        let event = ok(name, "event", store.event("stripe", "evt_1").await);
        let event = event.unwrap_or_else(|| panic!("{name}: evt_1 is stored"));
        assert_eq!(event.raw.text(), stripe_event("evt_1").raw.text(), "{name}");
        let planned: Vec<NewJob> = rules.plan(&event).iter().map(NewJob::from).collect();
        let redeliver = |source, event_id| store.redeliver_event(source, event_id, &planned, at);
        let redelivered = ok(name, "redeliver", redeliver("stripe", "evt_1").await);
        let expected = Redelivered {
            requeued: 2,
            added: 2,
        };
        assert_eq!(redelivered, Some(expected), "{name}");

        let after = db.jobs("evt_1").await;
        let keys: Vec<&str> = after
            .iter()
            .map(|job| job.idempotency_key.as_str())
            .collect();
        let expected =
            ["old:0", "old:1", "old:2", "new:0", "new:1"].map(|k| format!("stripe:evt_1:{k}"));
        assert_eq!(keys, expected, "{name}");
        for job in &after {
            assert_eq!(
                (job.status, job.dead_at_ms),
                (JobStatus::Pending, None),
                "{name}"
            );
        }

        // Everything but the leased job is due at once, each with a fresh budget.
        let claimed = db.claim(at, 10).await;
        let ids: Vec<i64> = claimed.iter().map(|job| job.id).collect();
        assert_eq!(ids, [delivered, dead, after[3].id, after[4].id], "{name}");
        assert!(
            claimed.iter().all(|job| job.attempts_since_queued == 1),
            "{name}"
        );
        assert_eq!(claimed[0].attempt, 2, "{name}: attempt numbers go on");
        assert_eq!(claimed[3].plugin, "sms", "{name}");
        db.assert_state(busy, JobStatus::Pending, 1, None).await;

        // An event that is not (or no longer) stored gets nothing, whatever the
        // caller planned.
        let unknown = ok(name, "redeliver", redeliver("stripe", "evt_nope").await);
        assert_eq!(unknown, None, "{name}");
        let unknown = ok(name, "event", store.event("stripe", "evt_nope").await);
        assert!(unknown.is_none(), "{name}");
        let other_source = ok(name, "redeliver", redeliver("github", "evt_1").await);
        assert_eq!(other_source, None, "{name}");
    }
}

#[tokio::test]
async fn purge_dead_deletes_dead_jobs_and_their_attempts_only() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let actions = [("r", "dead"), ("r", "done"), ("r", "wait")];
        let (_, ids) = db.ingest("evt_1", &actions).await;
        let [dead, done, waiting] = [ids[0], ids[1], ids[2]];
        let other = db.ingest("evt_2", &[("r", "dead")]).await.1[0];
        let now = later();
        db.claim(now, 10).await;
        db.record(dead, 1, Failed, now + 1).await;
        db.record(done, 1, Delivered, now + 2).await;
        db.record(waiting, 1, RetryAt(now + 50), now + 3).await;
        db.record(other, 1, Failed, now + 4).await;

        let purged = store.purge_dead(&[dead, done, waiting, 9_999]).await;
        assert_eq!(ok(name, "purge", purged), 1, "{name}");
        assert_eq!(db.job(dead).await, None, "{name}");
        assert_eq!(db.attempts(dead).await, [], "{name}: its attempts go too");
        for id in [done, waiting, other] {
            assert!(db.job(id).await.is_some(), "{name}: job {id} kept");
            assert_eq!(
                db.attempts(id).await.len(),
                1,
                "{name}: {id}'s attempts kept"
            );
        }
        assert_eq!(db.count().await, 2, "{name}: events stay");
        assert_eq!(ok(name, "purge", store.purge_dead(&[]).await), 0, "{name}");
        assert_eq!(
            ok(name, "purge", store.purge_dead(&[dead]).await),
            0,
            "{name}"
        );
    }
}

#[tokio::test]
async fn prune_delivered_removes_old_finished_events_only() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, done) = db.ingest("evt_done", &[("r", "a"), ("r", "b")]).await;
        let (_, mixed) = db.ingest("evt_mixed", &[("r", "a"), ("r", "b")]).await;
        let (_, dead) = db.ingest("evt_dead", &[("r", "a")]).await;
        db.ingest("evt_nothing", &[]).await;
        // Received just after the cutoff; the others just before.
        let cutoff = RECEIVED + 1;
        let (_, recent) = db.ingest_at("evt_recent", &[("r", "a")], cutoff).await;

        let now = later();
        assert_eq!(db.claim(now, 10).await.len(), 6, "{name}");
        for id in [done[0], done[1], mixed[0], recent[0]] {
            db.record(id, 1, Delivered, now).await;
        }
        db.record(mixed[1], 1, RetryAt(now + 100), now).await;
        db.record(dead[0], 1, Failed, now).await;

        let pruned = ok(name, "prune", store.prune_delivered(cutoff).await);
        let expected = Pruned {
            events: 2,
            jobs: 2,
            attempts: 2,
        };
        assert_eq!(pruned, expected, "{name}: evt_done and evt_nothing");
        assert_eq!(db.jobs("evt_done").await, [], "{name}");
        assert_eq!(db.attempts(done[0]).await, [], "{name}");
        assert_eq!(db.count().await, 3, "{name}");
        for (event, count) in [("evt_mixed", 2), ("evt_dead", 1), ("evt_recent", 1)] {
            assert_eq!(db.jobs(event).await.len(), count, "{name}: {event} kept");
        }
        assert_eq!(db.attempts(mixed[0]).await.len(), 1, "{name}");

        // Once old enough, the recent one goes too; the unfinished ones never do.
        let pruned = ok(name, "prune", store.prune_delivered(now + 1_000_000).await);
        let expected = Pruned {
            events: 1,
            jobs: 1,
            attempts: 1,
        };
        assert_eq!(pruned, expected, "{name}: evt_recent");
        assert_eq!(db.count().await, 2, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_hand_a_job_out_twice() {
    const EVENTS: usize = 50;
    const JOBS_PER_EVENT: usize = 10;
    const WORKERS: usize = 8;
    const BATCH: usize = 7;
    for (name, store, guard) in backends().await {
        let db = Db::new(name, &store);
        let actions = [("r", "hook"); JOBS_PER_EVENT];
        for n in 0..EVENTS {
            db.ingest(&format!("evt_{n}"), &actions).await;
        }
        let now = later();
        // Four pools, as four replicas would have, two workers on each.
        let mut replicas = vec![store.clone()];
        for _ in 1..4 {
            replicas.push(ok(name, "replica", Store::connect(guard.settings()).await));
        }
        let mut workers = Vec::new();
        for worker in 0..WORKERS {
            let store = replicas[worker % replicas.len()].clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = ok(name, "claim", store.claim_due(now, LEASE, BATCH, &[]).await);
                    assert!(batch.len() <= BATCH, "{name}: a claim exceeded its limit");
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.iter().map(|job| job.id));
                    tokio::task::yield_now().await;
                }
            }));
        }
        let mut claimed = Vec::new();
        for worker in workers {
            claimed.extend(worker.await.expect("worker"));
        }
        let unique: HashSet<i64> = claimed.iter().copied().collect();
        assert_eq!(
            unique.len(),
            claimed.len(),
            "{name}: a job was claimed twice"
        );
        assert_eq!(
            claimed.len(),
            EVENTS * JOBS_PER_EVENT,
            "{name}: not all claimed"
        );
        assert_eq!(db.claim_ids(now, BATCH).await, NONE, "{name}");
    }
}

/// pglz, PostgreSQL's default compression, took much of the machine's CPU
/// under ingest load; payloads are stored with lz4 wherever the server has it.
#[tokio::test]
async fn postgres_compresses_payloads_with_lz4_where_the_server_can() {
    use sqlx::Connection;

    let Some(database) = fresh_postgres().await else {
        return;
    };
    let settings = herald::config::DatabaseSettings {
        url: secrecy::SecretString::from(database.url.clone()),
        display: database.url.clone(),
    };
    let _store = Store::connect(&settings)
        .await
        .expect("connects and migrates");
    let mut conn = sqlx::PgConnection::connect(&database.url)
        .await
        .expect("connects");
    // Servers before 14, or built without lz4, refuse it as the default too.
    let has_lz4 = sqlx::query("SET default_toast_compression = 'lz4'")
        .execute(&mut conn)
        .await
        .is_ok();
    if !has_lz4 {
        eprintln!("this PostgreSQL has no lz4: nothing to check");
        return;
    }
    let method: String = sqlx::query_scalar(
        "SELECT attcompression::text FROM pg_attribute
         WHERE attrelid = 'events'::regclass AND attname = 'payload'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the payload column");
    assert_eq!(
        method, "l",
        "payload compression: `{method}` (empty is the default, pglz)"
    );
}

#[tokio::test]
async fn purge_queued_deletes_the_waiting_jobs_of_one_instance_only() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, ids) = db.ingest("evt_1", &[("r", "gone"), ("r", "kept")]).await;
        let now = later();
        let listed: Vec<i64> = ok(name, "queued_for", store.queued_for("gone").await)
            .iter()
            .map(|job| job.id)
            .collect();
        assert_eq!(listed, [ids[0]], "{name}");
        // A job a worker holds right now is left alone.
        let (_, held) = db.ingest("evt_2", &[("r", "gone")]).await;
        let claimed = ok(
            name,
            "claim",
            store.claim_due(now, LEASE, 10, &["kept".to_owned()]).await,
        );
        assert_eq!(claimed.len(), 2, "{name}");
        db.record(ids[0], 1, RetryAt(now), now).await;
        let purged = ok(
            name,
            "purge_queued",
            store.purge_queued("gone", now + 1).await,
        );
        assert_eq!(purged, 1, "{name}: the waiting one, not the held one");
        assert_eq!(db.job(ids[0]).await, None, "{name}");
        assert_eq!(db.attempts(ids[0]).await, [], "{name}: its attempts too");
        assert!(db.job(held[0]).await.is_some(), "{name}");
        assert!(
            db.job(ids[1]).await.is_some(),
            "{name}: another instance's job"
        );
    }
}
