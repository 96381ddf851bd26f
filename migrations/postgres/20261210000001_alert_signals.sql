-- What each replica saw that herald's own alerts are about but only it knows, per
-- minute: webhooks refused for their signature (count) and breakers it held open
-- (1 per minute seen open). The replica scanning for alerts adds them up across
-- replicas; the scan prunes rows older than an hour.
CREATE TABLE alert_signals (
    instance TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    minute   BIGINT  NOT NULL,
    count    BIGINT  NOT NULL,
    PRIMARY KEY (kind, subject, minute, instance)
);
