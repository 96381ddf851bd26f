-- Stripe's balance transactions, as fetched for the accountant's report: a movement's
-- fee and net. Fetched once each (they do not change once available).
CREATE TABLE balance_fees (
    source   TEXT NOT NULL,
    txn      TEXT NOT NULL,
    currency TEXT NOT NULL,
    fee      INTEGER NOT NULL,
    net      INTEGER NOT NULL,
    PRIMARY KEY (source, txn)
);
