-- Stock adjustments, applied once per job: the job's idempotency key is recorded
-- in the same transaction as its moves.
CREATE TABLE stock_applied (
    key        TEXT    PRIMARY KEY,
    event_id   TEXT    NOT NULL,
    applied_at BIGINT NOT NULL
);

CREATE TABLE stock_moves (
    key   TEXT    NOT NULL,
    sku   TEXT    NOT NULL,
    delta BIGINT NOT NULL,
    PRIMARY KEY (key, sku)
);

CREATE TABLE stock_levels (
    sku        TEXT    PRIMARY KEY,
    quantity   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
