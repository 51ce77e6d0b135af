-- What routers must do besides the strategy (a JSON document, null until a cutover touches it): whether writes are
-- frozen (a cutover or rollback in progress), whether traffic is cut over to the target, the freeze timeout, and
-- the report of the last cutover or rollback. Changing it increments row_version: a new routing epoch.
ALTER TABLE tandem_migrations ADD COLUMN routing VARCHAR;

-- The routers following a migration: the epoch each last acknowledged (with the counters it reported then) and
-- when it last asked for the routing state. A cutover waits for every router seen recently to acknowledge.
CREATE TABLE tandem_routers (
    migration_id    VARCHAR(63)  NOT NULL,
    router_id       VARCHAR(255) NOT NULL,
    epoch           BIGINT       NOT NULL,
    report          VARCHAR,
    acknowledged_at TIMESTAMP WITH TIME ZONE NOT NULL,
    seen_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (migration_id, router_id)
);
