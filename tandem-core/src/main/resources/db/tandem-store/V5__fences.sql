-- Fences another process wrote into a migration's change log (tandem verify while the migration streams): the
-- streaming process records each such marker once the target committed everything before it; the writer of the
-- fence polls for its row, then deletes it. Rows nobody collects are removed after an hour.
CREATE TABLE tandem_fences (
    migration_id VARCHAR(255) NOT NULL,
    marker       VARCHAR(255) NOT NULL,
    applied_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (migration_id, marker)
);
