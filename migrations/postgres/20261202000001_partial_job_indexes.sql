-- The due and dead-letter indexes hold only the jobs they are for. With `status`
-- as their first column they held every job, so recording a delivery, which
-- writes a new version of the job's row, added an entry to both. Claims
-- (`status = 'pending' … ORDER BY run_at, id`) and the dead-letter list
-- (`status = 'dead' … ORDER BY dead_at, id`) walk them in order. Rebuilding them
-- blocks other replicas' writes to `jobs` meanwhile: 0.4 s for a million jobs on
-- the benchmark machine.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 'pending';
DROP INDEX jobs_dead;
CREATE INDEX jobs_dead ON jobs (dead_at, id) WHERE status = 'dead';
