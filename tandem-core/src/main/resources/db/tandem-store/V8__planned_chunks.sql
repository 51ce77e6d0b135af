-- A run's plan is stored in one transaction with its chunks; chunks_planned records how many it had, so a store
-- that lost chunk rows (an embedded store killed before writing its last second through, as before version 8) is
-- seen as such: a resume never takes a chunk it has no record of for done. NULL for runs stored before.
ALTER TABLE tandem_runs ADD COLUMN chunks_planned INTEGER;
