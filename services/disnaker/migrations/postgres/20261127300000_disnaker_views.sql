-- Residents known from registrations, with what Disnaker's rules need.
CREATE TABLE residents (
    subject_key TEXT PRIMARY KEY,
    village TEXT NOT NULL,
    sub_district TEXT NOT NULL,
    placement_agency TEXT,
    registered_event_id TEXT NOT NULL
);
CREATE INDEX residents_by_village ON residents (village, sub_district);

-- Blocks of departures, kept until the registration that names the village arrives.
CREATE TABLE blocks (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    checkpoint_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);

-- Follow-up tasks for village offices (DN1), one per block of a known resident.
CREATE TABLE follow_up_tasks (
    task_id TEXT PRIMARY KEY,
    subject_key TEXT NOT NULL,
    village TEXT NOT NULL,
    sub_district TEXT NOT NULL,
    block_event_id TEXT NOT NULL,
    due_at_ms BIGINT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX follow_up_tasks_by_village ON follow_up_tasks (village, status);

-- Alerts of rules DN1-DN4; ids derive from the rule and the triggering event.
CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject_key TEXT,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at_ms BIGINT NOT NULL,
    status TEXT NOT NULL
);
