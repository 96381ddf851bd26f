-- Events as received, deduplicated by (source, event_id).
CREATE TABLE events (
    pk          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    livemode    INTEGER NOT NULL,
    object_id   TEXT,
    order_id    TEXT,
    -- The normalized fields as JSON, and the provider's bytes exactly as received.
    normalized  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (source, event_id)
);

-- One job per action a rule selected; never deleted on failure.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    event_pk        INTEGER NOT NULL REFERENCES events (pk),
    rule            TEXT    NOT NULL,
    action_index    INTEGER NOT NULL,
    plugin          TEXT    NOT NULL,
    params          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    -- pending | delivered | dead
    status          TEXT    NOT NULL DEFAULT 'pending',
    -- Attempts ever made, and how many of them came before the last replay: the
    -- retry budget counts only attempts since then.
    attempts        INTEGER NOT NULL DEFAULT 0,
    attempt_base    INTEGER NOT NULL DEFAULT 0,
    -- When the job was queued or last replayed (Unix ms): the retry age starts here.
    queued_at       INTEGER NOT NULL,
    -- When it became a dead letter; NULL otherwise.
    dead_at         INTEGER,
    -- Unix milliseconds. A pending job is due at run_at; a claimed one is hidden
    -- from other workers until locked_until, after which it is claimed again.
    run_at          INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_event ON jobs (event_pk);
CREATE INDEX jobs_dead ON jobs (status, dead_at);
CREATE INDEX events_received ON events (received_at);

-- Every delivery attempt, kept for the operator.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    attempt     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    -- delivered | retry | failed
    outcome     TEXT    NOT NULL,
    error       TEXT
);

CREATE INDEX attempts_job ON attempts (job_id);
