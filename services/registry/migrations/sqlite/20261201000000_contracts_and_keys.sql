-- Same layout as migrations/postgres; see the comments there.
ALTER TABLE schemas ADD COLUMN metadata TEXT;
ALTER TABLE schemas ADD COLUMN rule_set TEXT;

CREATE TABLE keks (
    name TEXT PRIMARY KEY,
    kms_type TEXT NOT NULL,
    kms_key_id TEXT NOT NULL,
    kms_props TEXT NOT NULL DEFAULT '{}',
    doc TEXT,
    ts BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE deks (
    kek_name TEXT NOT NULL REFERENCES keks (name),
    subject TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    version BIGINT NOT NULL,
    encrypted_key_material TEXT NOT NULL,
    ts BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kek_name, subject, algorithm, version)
);
