-- Change data capture: the stream's lag, sampled every second by the process that streams (tandem lag and the
-- trend read it), and requests an operator leaves for the process that holds a migration (tandem stop, abort).
CREATE TABLE tandem_lag (
    migration_id       VARCHAR(63)  NOT NULL,
    stream_name        VARCHAR(32)  NOT NULL,
    sampled_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    source_position    VARCHAR,
    applied_position   VARCHAR,
    applied_commit_at  TIMESTAMP WITH TIME ZONE,
    lag_seconds        DOUBLE PRECISION NOT NULL,
    lag_records        BIGINT       NOT NULL,
    lag_bytes          BIGINT       NOT NULL,
    PRIMARY KEY (migration_id, stream_name, sampled_at)
);

-- request: stop (finish the batch in flight, then exit) or stop_immediate.
CREATE TABLE tandem_requests (
    migration_id  VARCHAR(63)  NOT NULL PRIMARY KEY,
    request       VARCHAR(16)  NOT NULL,
    requested_by  VARCHAR(128) NOT NULL,
    requested_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
