-- Departures cleared at a checkpoint: a person cleared after a block (the block resolved in
-- the traveller's favour, a legal departure after all) no longer counts as blocked for PO1.
CREATE TABLE clearances (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);
