-- Villages by their Kemendagri code: names are shared by many villages (two "Jetis" were one
-- group) and are kept for display. NULL for registrations published before the code was in
-- the contract.
ALTER TABLE residents ADD COLUMN village_code TEXT;
ALTER TABLE follow_up_tasks ADD COLUMN village_code TEXT;
CREATE INDEX follow_up_tasks_by_village_code ON follow_up_tasks (village_code, status);
