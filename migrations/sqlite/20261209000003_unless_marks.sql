-- Follow-ups: each event whose type some follow-up's `unless` names is marked, in the
-- ingest transaction, under the key it is about (an object id, `order:…`,
-- `customer:…`, or a subscription id). At its deadline a follow-up reads the events
-- marked under its key, instead of searching the events table (which would need an
-- index every event pays for).
CREATE TABLE unless_marks (
    source   TEXT NOT NULL,
    key      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (source, key, event_id)
) WITHOUT ROWID;
