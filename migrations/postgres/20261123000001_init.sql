-- The PostgreSQL schema: the same tables, columns and indexes as the SQLite one.
-- Every number is BIGINT so that it reads back as i64 whatever the column
-- (an INTEGER column would be INT4, and sqlx refuses to decode INT4 as i64).
-- JSON stays TEXT: JSONB would reject a payload holding `\u0000` and would not
-- keep the provider's bytes as received.

-- Events as received, deduplicated by (source, event_id).
CREATE TABLE events (
    pk          BIGSERIAL PRIMARY KEY,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    created     BIGINT  NOT NULL,
    livemode    BOOLEAN NOT NULL,
    object_id   TEXT,
    order_id    TEXT,
    -- The normalized fields as JSON, and the provider's bytes exactly as received.
    normalized  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    received_at BIGINT  NOT NULL,
    UNIQUE (source, event_id)
);

-- One job per action a rule selected; never deleted on failure.
CREATE TABLE jobs (
    id              BIGSERIAL PRIMARY KEY,
    event_pk        BIGINT  NOT NULL REFERENCES events (pk),
    rule            TEXT    NOT NULL,
    action_index    BIGINT  NOT NULL,
    plugin          TEXT    NOT NULL,
    params          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    -- pending | delivered | dead
    status          TEXT    NOT NULL DEFAULT 'pending',
    -- Attempts ever made, and how many of them came before the last replay: the
    -- retry budget counts only attempts since then.
    attempts        BIGINT  NOT NULL DEFAULT 0,
    attempt_base    BIGINT  NOT NULL DEFAULT 0,
    -- When the job was queued or last replayed (Unix ms): the retry age starts here.
    queued_at       BIGINT  NOT NULL,
    -- When it became a dead letter; NULL otherwise.
    dead_at         BIGINT,
    -- Unix milliseconds. A pending job is due at run_at; a claimed one is hidden
    -- from other workers until locked_until, after which it is claimed again.
    run_at          BIGINT  NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_event ON jobs (event_pk);
CREATE INDEX jobs_dead ON jobs (status, dead_at);
CREATE INDEX events_received ON events (received_at);

-- Every delivery attempt, kept for the operator.
CREATE TABLE attempts (
    id          BIGSERIAL PRIMARY KEY,
    job_id      BIGINT  NOT NULL REFERENCES jobs (id),
    attempt     BIGINT  NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT  NOT NULL,
    -- delivered | retry | failed
    outcome     TEXT    NOT NULL,
    error       TEXT
);

CREATE INDEX attempts_job ON attempts (job_id);
