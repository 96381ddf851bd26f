-- Leases that follow the worker: a claim names the process holding the job
-- (`leased_by`), which renews `locked_until` while the delivery runs, and every
-- serving process keeps a heartbeat row. A lease can then be short without
-- cutting off a slow delivery, and a restart takes back its predecessor's leases
-- at once instead of waiting for them to run out. No index on `leased_by`: a
-- claim that changed an indexed column would no longer be a HOT update and would
-- write every index of `jobs` once more, and the only reader (taking back a dead
-- replica's jobs) is rare.
ALTER TABLE jobs ADD COLUMN leased_by TEXT;

CREATE TABLE instances (
    id            TEXT PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);
