-- JA3 runs per investigation file, and a case has one file per suspect when it is split
-- (berkas per tersangka): the file a stage belongs to is its envelope's subject_key, the
-- suspect's; '' for a stage without one (the case's single file). A stage meets the deadline
-- of the stage before it on the same file only.
ALTER TABLE case_events ADD COLUMN file_key TEXT NOT NULL DEFAULT '';
CREATE INDEX case_events_by_file ON case_events (case_id, file_key, occurred_at_ms);
