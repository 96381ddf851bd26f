-- Stock levels and moves are 64-bit integers, always: SQLite would otherwise store a
-- sum past i64 as a REAL, which no later read accepts. herald checks every adjustment
-- before writing; these CHECKs refuse anything else that would slip through.
--
-- SQLite cannot add a CHECK to a table, so both tables are rebuilt. A level already
-- turned REAL by the old arithmetic is clamped into range (CAST saturates), so herald
-- starts again and the operator can correct it with `herald inventory SKU --adjust`.
CREATE TABLE stock_levels_checked (
    sku        TEXT    PRIMARY KEY,
    quantity   INTEGER NOT NULL CHECK (typeof(quantity) = 'integer'),
    updated_at INTEGER NOT NULL
);
INSERT INTO stock_levels_checked (sku, quantity, updated_at)
    SELECT sku, CAST(quantity AS INTEGER), updated_at FROM stock_levels;
DROP TABLE stock_levels;
ALTER TABLE stock_levels_checked RENAME TO stock_levels;

CREATE TABLE stock_moves_checked (
    key   TEXT    NOT NULL,
    sku   TEXT    NOT NULL,
    delta INTEGER NOT NULL CHECK (typeof(delta) = 'integer'),
    PRIMARY KEY (key, sku)
);
INSERT INTO stock_moves_checked (key, sku, delta)
    SELECT key, sku, CAST(delta AS INTEGER) FROM stock_moves;
DROP TABLE stock_moves;
ALTER TABLE stock_moves_checked RENAME TO stock_moves;
