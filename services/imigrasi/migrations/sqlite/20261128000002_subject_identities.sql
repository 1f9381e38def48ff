-- Who a subject key is: the name and NIK from the registration, which the immigration office
-- needs to act (secondary interview, deferral letter). Kept apart from the history, and
-- served only to tokens with the personal_data role, each read written to
-- lintas_personal_data_reads.
CREATE TABLE subject_identities (
    subject_key TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    full_name TEXT NOT NULL,
    source_event_id TEXT NOT NULL
);
