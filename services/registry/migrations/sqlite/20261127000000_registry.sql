-- Same layout as migrations/postgres; see the comments there.
CREATE TABLE schemas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL UNIQUE,
    schema_type TEXT NOT NULL DEFAULT 'AVRO',
    schema_text TEXT NOT NULL
);

CREATE TABLE subject_versions (
    subject TEXT NOT NULL,
    version BIGINT NOT NULL,
    schema_id BIGINT NOT NULL REFERENCES schemas (id),
    deleted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, version)
);

CREATE INDEX subject_versions_schema_id ON subject_versions (schema_id);

CREATE TABLE subject_config (
    subject TEXT PRIMARY KEY,
    compatibility TEXT NOT NULL
);

CREATE TABLE global_config (
    singleton BIGINT PRIMARY KEY CHECK (singleton = 1),
    compatibility TEXT NOT NULL
);
