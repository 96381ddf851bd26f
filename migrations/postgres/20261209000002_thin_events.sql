-- Thin events (Stripe event destinations in thin mode) waiting for their object to be
-- fetched from Stripe's API. The receiver keeps the body here and acknowledges; once
-- the object is fetched the event is stored whole in `events`, routed like any other,
-- and its row here deleted. `due_at` and `attempts` space the retries while Stripe's
-- API does not answer.
CREATE TABLE thin_events (
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    received_at BIGINT  NOT NULL,
    due_at      BIGINT  NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX thin_events_due ON thin_events (due_at);
