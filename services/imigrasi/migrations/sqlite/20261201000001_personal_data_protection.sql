-- The sex IM2's transit variant joins on is not the identity: it stays when an identity is
-- erased or could not be decrypted.
CREATE TABLE subject_registrations (
    subject_key TEXT PRIMARY KEY,
    sex TEXT NOT NULL,
    registration_event_id TEXT NOT NULL
);
INSERT INTO subject_registrations (subject_key, sex, registration_event_id)
SELECT subject_key, sex, source_event_id FROM subject_identities WHERE sex IS NOT NULL;

-- Identities asserted by channels that are not entitled to (village reports, registrations
-- without a document check): kept apart as claims, never in place of a verified identity.
CREATE TABLE identity_claims (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    nik TEXT NOT NULL,
    full_name TEXT NOT NULL,
    source TEXT NOT NULL,
    office TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);
-- Identities stored before this change came from any channel (first arrival won): they are
-- claims until a verified registration arrives.
INSERT INTO identity_claims (subject_key, event_id, nik, full_name, source, office, occurred_at_ms)
SELECT subject_key, source_event_id, nik, full_name, 'other', '', 0 FROM subject_identities;
DROP TABLE subject_identities;

-- Verified identities only (immigration passport application, Disnaker with the document
-- checked), the first verified registration of a subject wins. With the exact birth date and
-- residence, which the history shows only coarsened.
CREATE TABLE subject_identities (
    subject_key TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    full_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    village TEXT NOT NULL,
    sub_district TEXT NOT NULL,
    source TEXT NOT NULL,
    office TEXT NOT NULL,
    source_event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL
);
