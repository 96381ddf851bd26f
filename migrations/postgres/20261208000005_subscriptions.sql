-- The subscriptions plugin's ledger. Each event's observation of a subscription
-- (the whole subscription, from `customer.subscription.*`, or one of its invoices)
-- is kept once per event; the state is the fold of them all (the newest snapshot by
-- `created` decides, a deletion is final). `changed` keeps whether the fact changed
-- the terms the storefront acts on when it was recorded, so a retried job sends its
-- callback again and a stale event never sends one.
CREATE TABLE subscription_facts (
    subscription_id TEXT   NOT NULL,
    event_id        TEXT   NOT NULL,
    event_type      TEXT   NOT NULL,
    created         BIGINT NOT NULL,
    observation     TEXT   NOT NULL,
    changed         BOOLEAN NOT NULL DEFAULT FALSE,
    recorded_at     BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, event_id)
);

-- The folded state, saved for reading; `state` is the whole of it as JSON.
CREATE TABLE subscriptions (
    subscription_id TEXT   PRIMARY KEY,
    customer        TEXT,
    status          TEXT   NOT NULL,
    state           TEXT   NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX subscriptions_customer ON subscriptions (customer);

-- Each customer's active entitlements, as the newest summary event listed them.
CREATE TABLE customer_entitlements (
    customer TEXT   PRIMARY KEY,
    created  BIGINT NOT NULL,
    features TEXT   NOT NULL
);
