-- Event ids a handler claimed with `Batch::first_sighting`: a publisher's retry republishes
-- the same event (same `event_id`) as a new record, and a handler that counts must count it
-- once. Written in the batch's transaction, so a rolled-back batch forgets its claims.
CREATE TABLE IF NOT EXISTS lintas_events_seen (
    event_id TEXT PRIMARY KEY,
    first_offset_topic TEXT NOT NULL,
    first_offset BIGINT NOT NULL,
    seen_at_ms BIGINT NOT NULL
);
