-- Backfill: a chunk's lower bound may be inclusive (a run restricted with --range-min starts at that key), a chunk
-- carries its planned row estimate (for progress and ETA) and whether its range is known to be empty on the target
-- (a table this migration created, a range never started: the copy need not delete first), a run carries its
-- rows/s throttle (0 = unlimited), which an operator may change while the run goes on, and one process at a time
-- may work on a migration (its lease).
ALTER TABLE tandem_chunks ADD COLUMN key_min_inclusive BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE tandem_chunks ADD COLUMN rows_estimated BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE tandem_chunks ADD COLUMN target_empty BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE tandem_runs ADD COLUMN rows_per_second BIGINT DEFAULT 0 NOT NULL;

CREATE TABLE tandem_leases (
    migration_id  VARCHAR(63)  NOT NULL PRIMARY KEY REFERENCES tandem_migrations (id),
    owner         VARCHAR(200) NOT NULL,
    heartbeat_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
