-- What each order's announcements and refunds said about its stock, so stock moves
-- once per order: a take (key `take`, written by the first of checkout, payment,
-- charge or paid invoice to arrive), returns of named lines (key `refund:<id>` or
-- `event:<id>`) and a full refund (key `return:all`). A row with an empty SKU marks
-- each key, so a second event under it is a repeat. Levels move by what the order
-- holds out of stock before and after each row set (see src/store/inventory.rs).
CREATE TABLE order_stock (
    order_id    TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    sku         TEXT    NOT NULL,
    quantity    BIGINT  NOT NULL,
    event_id    TEXT    NOT NULL,
    recorded_at BIGINT  NOT NULL,
    PRIMARY KEY (order_id, key, sku)
);
