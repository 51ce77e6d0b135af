-- Per table of a migration, the columns (name and type) of both sides as the migration started with them or last
-- accepted them: a schema change on the source is told against this (cdc.on_schema_change). One JSON document per
-- table: {"source": {"id": "integer", ...}, "target": {...}}.
CREATE TABLE tandem_table_shapes (
    migration_id  VARCHAR(63)   NOT NULL,
    table_name    VARCHAR(1000) NOT NULL,
    shape         VARCHAR       NOT NULL,
    recorded_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (migration_id, table_name)
);
