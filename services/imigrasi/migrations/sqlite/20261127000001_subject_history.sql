-- Every event about a subject, in event time order. No personal data: the history links
-- people by their pseudonymous subject key only.
CREATE TABLE subject_history (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    recorded_at_ms BIGINT NOT NULL,
    agency TEXT NOT NULL,
    office TEXT NOT NULL,
    details TEXT NOT NULL,
    -- How often this event id was delivered and applied. Above 1 means a publisher sent the
    -- same event twice; the runtime itself never applies a record twice.
    deliveries INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (subject_key, event_id)
);
CREATE INDEX subject_history_by_subject ON subject_history (subject_key, occurred_at_ms);

-- Alerts this subscriber raised. alert_id is derived from the rule and its trigger, so a
-- replay cannot raise one twice.
CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    triggered_at_ms BIGINT NOT NULL
);
CREATE INDEX alerts_by_subject ON alerts (subject_key);
