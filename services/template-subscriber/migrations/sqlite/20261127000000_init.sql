-- How many events of each type this subscriber saw per subject: replace with your views.
CREATE TABLE events_seen (
    subject_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (subject_key, event_type)
);
