-- When each phone number was reported (event time), so that an erasure removes exactly the
-- numbers reported before it. Numbers stored before this change count as reported at 0.
ALTER TABLE recruiter_phones ADD COLUMN reported_at_ms BIGINT NOT NULL DEFAULT 0;
