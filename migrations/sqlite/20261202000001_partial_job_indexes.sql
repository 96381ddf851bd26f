-- The due and dead-letter indexes hold only the jobs they are for. With `status`
-- as their first column they held every job, so recording a delivery moved two
-- entries (pending → delivered in each), and every new job added one to the dead
-- index: three index pages written more per attempt transaction, one more per
-- ingest transaction. Claims (`status = 'pending' … ORDER BY run_at, id`) and the
-- dead-letter list (`status = 'dead' … ORDER BY dead_at, id`) walk them in order.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 'pending';
DROP INDEX jobs_dead;
CREATE INDEX jobs_dead ON jobs (dead_at, id) WHERE status = 'dead';
