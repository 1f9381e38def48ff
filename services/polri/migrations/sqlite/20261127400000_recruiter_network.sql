-- Who is linked to which recruiter, and by which event (recruiter reports, referrals,
-- investigations).
CREATE TABLE recruiter_links (
    recruiter_key TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    source_event_id TEXT NOT NULL,
    PRIMARY KEY (recruiter_key, subject_key)
);
CREATE INDEX recruiter_links_by_subject ON recruiter_links (subject_key);

-- Blocked departures, in event time.
CREATE TABLE blocks (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);

-- Birth dates from registrations (days since 1970-01-01), for the rule on children.
CREATE TABLE births (
    subject_key TEXT PRIMARY KEY,
    birth_days BIGINT NOT NULL
);

-- Alerts of rules PO1 and PO2; ids derive from the rule and what triggered it.
CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject_key TEXT,
    recruiter_key TEXT,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at_ms BIGINT NOT NULL,
    status TEXT NOT NULL
);
