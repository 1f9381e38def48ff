-- Every read of personal data (names, NIK) through this subscriber's API: who (office and
-- officer), when, which subject, for what purpose, which fields. Written in the transaction
-- that reads the data, so no data leaves without its record. The agency queries it.
CREATE TABLE IF NOT EXISTS lintas_personal_data_reads (
    read_id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    agency TEXT NOT NULL,
    office TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lintas_personal_data_reads_by_subject ON lintas_personal_data_reads (subject_key, at_ms);
CREATE INDEX IF NOT EXISTS lintas_personal_data_reads_by_time ON lintas_personal_data_reads (at_ms);
