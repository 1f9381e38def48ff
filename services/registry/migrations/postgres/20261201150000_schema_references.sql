-- Schema references (Confluent's `references`): a schema names types defined by other
-- subjects' versions. One row per reference, in the order the client gave them, because
-- that order is part of the schema's identity and is returned as given.
CREATE TABLE schema_references (
    schema_id BIGINT NOT NULL REFERENCES schemas (id),
    ordinal BIGINT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (schema_id, ordinal)
);

-- "Which schemas refer to this version?" (deletes, /referencedby).
CREATE INDEX schema_references_target ON schema_references (subject, version);
