-- Whether an order is held (an early fraud warning or an open review): shown beside
-- its status and sent to the storefront so it is not shipped. Folded from the
-- order's `hold`/`release` facts like the status.
ALTER TABLE orders ADD COLUMN on_hold BOOLEAN NOT NULL DEFAULT FALSE;
