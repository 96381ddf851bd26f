-- Work that runs on a schedule (reconcile inside `serve`, and later digests), one
-- replica at a time: a replica takes a turn by writing its name and how long it holds
-- the turn, only when the work is due and nobody else holds it; it ends the turn by
-- storing where it got to (`cursor`) and when the next turn is due. A replica that
-- dies holding a turn loses it when `held_until` passes.
CREATE TABLE schedules (
    name       TEXT   PRIMARY KEY,
    due_at     BIGINT NOT NULL,
    cursor     TEXT,
    held_by    TEXT,
    held_until BIGINT
);
