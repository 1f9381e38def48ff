-- Same layout as migrations/postgres; see the comments there.
CREATE TABLE schema_references (
    schema_id BIGINT NOT NULL REFERENCES schemas (id),
    ordinal BIGINT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (schema_id, ordinal)
);

CREATE INDEX schema_references_target ON schema_references (subject, version);
