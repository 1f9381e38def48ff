-- The personal-data audit log becomes a hash chain: each read is numbered within its agency
-- and its entry_hash covers the entry and the previous entry's hash, so an altered, removed or
-- inserted row breaks the chain (`lintas audit verify`). Reads recorded before this change have
-- no sequence and stay outside the chain.
ALTER TABLE lintas_personal_data_reads ADD COLUMN sequence BIGINT;
ALTER TABLE lintas_personal_data_reads ADD COLUMN previous_hash TEXT;
ALTER TABLE lintas_personal_data_reads ADD COLUMN entry_hash TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS lintas_personal_data_reads_chain ON lintas_personal_data_reads (agency, sequence);

-- The head of each agency's chain: updated in the transaction of every read, which also
-- serialises concurrent reads of one agency.
CREATE TABLE IF NOT EXISTS lintas_audit_chain (
    agency TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL,
    head_hash TEXT NOT NULL
);

-- Erasures of one person's personal data by the agency that controls it: who asked, when,
-- on which legal basis, which fields; never the data. Personal data recorded at or before
-- erased_at_ms is not stored again when a replay or a rebuild meets it.
CREATE TABLE IF NOT EXISTS lintas_erasures (
    erasure_id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    scope TEXT NOT NULL,
    person_key TEXT NOT NULL,
    erased_at_ms BIGINT NOT NULL,
    reason TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    office TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lintas_erasures_by_person ON lintas_erasures (person_key, erased_at_ms);
