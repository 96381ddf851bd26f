-- Failover: a job may pass from its action's plugin instance to the fallbacks
-- listed with the action, in order. `failovers` counts the hand-overs so far (0:
-- the action's own instance has it; n: fallback n), and `plugin`/`params` are
-- those of whoever has it now. Each attempt names the instance that made it;
-- attempts made before failover existed were made by their job's instance.
ALTER TABLE jobs ADD COLUMN failovers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN plugin TEXT NOT NULL DEFAULT '';
UPDATE attempts SET plugin = jobs.plugin FROM jobs WHERE jobs.id = attempts.job_id;
