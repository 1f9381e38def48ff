-- The alert desk: every alert this subscriber raised, with its lifecycle. The status is a
-- function of the actions (a close wins, then the newest action), so it comes out the same
-- whatever order the actions and the alert arrive in, on a replay or a rebuild.
CREATE TABLE IF NOT EXISTS lintas_alerts (
    alert_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    owner TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject_key TEXT,
    summary TEXT NOT NULL,
    -- JSON array of the ids of the events that caused the alert.
    evidence TEXT NOT NULL,
    -- Event time of the trigger.
    raised_at_ms BIGINT NOT NULL,
    review_by_ms BIGINT,
    status TEXT NOT NULL,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    escalated_to TEXT,
    close_reason TEXT,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS lintas_alerts_by_time ON lintas_alerts (raised_at_ms, alert_id);
CREATE INDEX IF NOT EXISTS lintas_alerts_by_subject ON lintas_alerts (subject_key);

-- Acknowledge, escalate, close: who, when, why. Kept even before the alert itself arrives
-- (on a rebuild the alert topic may be read ahead of the topics the alert derives from).
CREATE TABLE IF NOT EXISTS lintas_alert_actions (
    event_id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    action TEXT NOT NULL,
    by_agency TEXT NOT NULL,
    office TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    escalated_to TEXT,
    level INTEGER,
    reason TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS lintas_alert_actions_by_alert ON lintas_alert_actions (alert_id, at_ms);
