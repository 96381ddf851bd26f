-- The level each logged move left its SKU at, so a delivery repeated after a crash
-- can tell again which levels it took below `low_stock_at` and raise the same
-- `herald.stock_low` events. NULL for moves logged before this column.
ALTER TABLE stock_moves ADD COLUMN level BIGINT;
