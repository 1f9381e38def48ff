-- PO3 runs per referral to the police, not once per case: referrals and investigations of
-- each case in event time, so each referral finds the investigation that meets it whatever
-- the arrival order (a referral is met by an investigation of its case opened since the
-- referral before it; the first, by any investigation of the case).
CREATE TABLE po3_case_events (
    event_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    -- 'referral' or 'investigation'
    kind TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL
);
CREATE INDEX po3_case_events_by_case ON po3_case_events (case_id, occurred_at_ms);
