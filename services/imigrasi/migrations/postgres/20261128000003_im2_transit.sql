-- IM2's transit-point variant joins two events that may arrive in either order: the
-- registration (the subject's sex) and a departure check on a pilgrimage visa routed through
-- a known transit point. Each side is kept until the other arrives.
CREATE TABLE subject_sex (
    subject_key TEXT PRIMARY KEY,
    sex TEXT NOT NULL,
    registration_event_id TEXT NOT NULL
);

CREATE TABLE pilgrimage_transits (
    subject_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    visa TEXT NOT NULL,
    destination_country TEXT NOT NULL,
    transits TEXT NOT NULL,
    PRIMARY KEY (subject_key, event_id)
);
