-- The toy sixth agency's one table: records it applied, per office.
CREATE TABLE households (
    office TEXT PRIMARY KEY,
    records BIGINT NOT NULL
);
