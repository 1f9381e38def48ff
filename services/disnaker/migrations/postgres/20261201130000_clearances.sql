-- Departures cleared at a checkpoint, of residents: a clearance after a block lifts it (the
-- block was resolved in the traveller's favour), and DN1's follow-up task for that block is
-- marked `lifted` (its alert closed `resolved`), whichever of the two arrives first.
CREATE TABLE clearances (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    checkpoint_code TEXT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);
