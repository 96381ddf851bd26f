-- Every fact an event stated about an order; the status is the fold of them all,
-- so events arriving out of order never move an order backwards.
CREATE TABLE order_facts (
    order_id    TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    created     BIGINT NOT NULL,
    signal      TEXT    NOT NULL,
    amount      BIGINT,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, event_id)
);

-- The status the facts fold to, saved for reading.
CREATE TABLE orders (
    order_id   TEXT    PRIMARY KEY,
    status     TEXT    NOT NULL,
    decided_by TEXT    NOT NULL,
    decided_at BIGINT NOT NULL,
    facts      BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
