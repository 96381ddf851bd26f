-- The readiness check's write while writes fail: one row written and deleted.
CREATE TABLE write_probe (
    id     BIGSERIAL PRIMARY KEY,
    filler BYTEA     NOT NULL
);
