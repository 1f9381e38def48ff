-- One row per case: where it stands, and the deadline of the file, if one runs.
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    referred_at_ms BIGINT,
    investigation_opened_at_ms BIGINT,
    investigating_unit TEXT,
    spdp_sent_at_ms BIGINT,
    spdp_number TEXT,
    prosecutor_assigned_at_ms BIGINT,
    stage TEXT,
    stage_at_ms BIGINT,
    file_due_at_ms BIGINT,
    -- The JA3 deadline running for the file, cancelled by the next stage.
    file_deadline_key TEXT
);

-- Every event of a case, in event time: the timeline from referral to court.
CREATE TABLE case_events (
    event_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    stage TEXT,
    agency TEXT NOT NULL,
    office TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    due_at_ms BIGINT
);
CREATE INDEX case_events_by_case ON case_events (case_id, occurred_at_ms);
