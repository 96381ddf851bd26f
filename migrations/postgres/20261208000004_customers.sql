-- The customer directory: what herald learned of each customer's contact from the
-- events that name it (customer.created/updated, checkout sessions, invoices,
-- charges, payment intents), so an event that names only `cus_…` (a subscription,
-- an invoice) can still be addressed. Each field keeps the `created` of the event
-- that set it: a field changes only to a value from an event as new or newer, so
-- arrival order never matters. `locales` is a JSON array, e.g. ["fr-FR", "en"].
CREATE TABLE customers (
    source      TEXT   NOT NULL,
    customer_id TEXT   NOT NULL,
    email       TEXT,
    email_at    BIGINT,
    name        TEXT,
    name_at     BIGINT,
    phone       TEXT,
    phone_at    BIGINT,
    locales     TEXT,
    locales_at  BIGINT,
    PRIMARY KEY (source, customer_id)
);
