-- Visa-type flags of residents (interview or check-in), for the count of residents flagged by
-- village, sub-district and placement agency. Kept until the registration naming the village
-- arrives, like the blocks.
CREATE TABLE flags (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);
