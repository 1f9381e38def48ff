-- The sex IM2's transit variant joins on is kept with the identity, so a registration is one
-- row written in one statement per chunk.
ALTER TABLE subject_identities ADD COLUMN sex TEXT;
UPDATE subject_identities SET sex = (SELECT s.sex FROM subject_sex s WHERE s.subject_key = subject_identities.subject_key);
DROP TABLE subject_sex;
