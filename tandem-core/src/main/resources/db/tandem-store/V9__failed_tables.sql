-- Tables a migration gave up under failure_handling: allow_partial (the stream's apply refused their changes): read
-- by the stream (their changes stay skipped after a restart) and by status. Before version 9 they lived only in the
-- audit log's text ("<table>: <why>"); those are carried over once, here.
CREATE TABLE tandem_failed_tables (
    migration_id  VARCHAR(63)   NOT NULL,
    table_name    VARCHAR(1000) NOT NULL,
    error         VARCHAR,
    failed_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (migration_id, table_name)
);
INSERT INTO tandem_failed_tables (migration_id, table_name, error, failed_at)
SELECT migration_id, table_name, MIN(error), MIN(occurred_at) FROM (
    SELECT migration_id, SUBSTRING(detail FROM 1 FOR POSITION(': ' IN detail) - 1) AS table_name,
           SUBSTRING(detail FROM POSITION(': ' IN detail) + 2) AS error, occurred_at
    FROM tandem_audit WHERE action = 'table_failed' AND POSITION(': ' IN detail) > 1) old
GROUP BY migration_id, table_name;
