-- Villages are matched by their Kemendagri code (kode wilayah), never by name: two villages
-- named Jetis shared each other's notices. Names stay for display. Rows from events that
-- carry no code (published before the code was in the contract) keep it NULL: they are
-- "unplaced", readable only by the regency's village office.
ALTER TABLE residents ADD COLUMN village_code TEXT;
CREATE INDEX residents_by_village_code ON residents (village_code);
ALTER TABLE recruiter_sightings ADD COLUMN village_code TEXT;
CREATE INDEX recruiter_sightings_by_village_code ON recruiter_sightings (village_code);
ALTER TABLE notices ADD COLUMN village_code TEXT;
CREATE INDEX notices_by_village_code ON notices (village_code);
