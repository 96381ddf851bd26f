-- herald's own alerts, one row per problem while it is open (a rule and plugin with dead
-- letters): the alert is raised once when the row is opened, carrying a count, and once
-- more when it is closed (its dead letters replayed or purged). Closed rows are kept
-- as history.
CREATE TABLE alerts (
    key        TEXT   NOT NULL,
    opened_at  BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    closed_at  BIGINT,
    PRIMARY KEY (key, opened_at)
);
CREATE INDEX alerts_open ON alerts (key) WHERE closed_at IS NULL;
