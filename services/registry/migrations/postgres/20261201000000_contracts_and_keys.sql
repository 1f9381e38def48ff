-- Confluent data contracts: a schema id names (schema, metadata, ruleSet) together.
-- Both hold canonical JSON text, NULL when the registrant gave none; rows written before
-- this migration are such rows, and their fingerprints (schema text only) stay valid.
ALTER TABLE schemas ADD COLUMN metadata TEXT;
ALTER TABLE schemas ADD COLUMN rule_set TEXT;

-- DEK Registry (client-side field-level encryption). The registry keeps only what
-- clients may share: KEK *references* (a KMS key id) and DEKs wrapped under those KEKs.
-- It never holds a KEK itself nor a plaintext DEK, so there is no `shared` column.
-- kms_props is a JSON object as TEXT; booleans and timestamps are BIGINT (epoch ms)
-- for the sqlx Any driver, as in the first migration.
CREATE TABLE keks (
    name TEXT PRIMARY KEY,
    kms_type TEXT NOT NULL,
    kms_key_id TEXT NOT NULL,
    kms_props TEXT NOT NULL DEFAULT '{}',
    doc TEXT,
    ts BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0
);

-- A hard-deleted DEK version is removed from this table (crypto-shredding): records
-- encrypted under it can no longer be decrypted by anyone.
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
