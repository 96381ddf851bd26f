-- Whether an order is held (an early fraud warning or an open review): shown beside
-- its status and sent to the storefront so it is not shipped. Folded from the
-- order's `hold`/`release` facts like the status.
ALTER TABLE orders ADD COLUMN on_hold INTEGER NOT NULL DEFAULT 0 CHECK (on_hold IN (0, 1));
