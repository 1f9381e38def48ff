-- Residents of the regency and their village, from their registrations.
CREATE TABLE residents (
    subject_key TEXT PRIMARY KEY,
    village TEXT NOT NULL,
    sub_district TEXT NOT NULL,
    regency TEXT NOT NULL,
    registered_event_id TEXT NOT NULL,
    registered_at_ms BIGINT NOT NULL
);
CREATE INDEX residents_by_village ON residents (village);

-- Flags and blocks about people, kept whether or not their village is known yet: the
-- registration may arrive after the block.
CREATE TABLE resident_events (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);

-- Where recruiters were reported, and whether the police reported them.
CREATE TABLE recruiter_sightings (
    recruiter_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    village TEXT,
    sub_district TEXT,
    regency TEXT NOT NULL,
    role TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    PRIMARY KEY (recruiter_key, event_id)
);
CREATE INDEX recruiter_sightings_by_village ON recruiter_sightings (village);

-- Notices to village offices; the id derives from the rule and its trigger, so a replay
-- raises nothing twice.
CREATE TABLE notices (
    notice_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    village TEXT NOT NULL,
    sub_district TEXT,
    subject_key TEXT,
    recruiter_key TEXT,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at_ms BIGINT NOT NULL
);
CREATE INDEX notices_by_village ON notices (village);
