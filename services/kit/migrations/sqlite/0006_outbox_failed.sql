-- Outbox rows the broker refused for good (a record too large, a topic the service may not
-- write): set aside with the reason, so that one bad row does not block every later event.
-- An operator fixes the cause and moves a row back into lintas_outbox to retry it.
CREATE TABLE IF NOT EXISTS lintas_outbox_failed (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    payload BLOB NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    failed_at_ms BIGINT NOT NULL,
    reason TEXT NOT NULL
);
