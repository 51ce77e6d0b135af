-- Verify: every row a verify run found different, with its key (a JSON array of key values in text form), what was
-- different (mismatch: both sides have the row, with other values; missing_on_target; extra_on_target), the
-- differing columns (a JSON array, for mismatches), and when a repair re-copied it from the source.
CREATE TABLE tandem_drift (
    run_id       BIGINT       NOT NULL REFERENCES tandem_runs (run_id),
    table_name   VARCHAR(255) NOT NULL,
    chunk_no     INTEGER      NOT NULL,
    key_values   VARCHAR      NOT NULL,
    kind         VARCHAR(24)  NOT NULL,
    columns      VARCHAR,
    detected_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    repaired_at  TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (run_id, table_name, key_values)
);
