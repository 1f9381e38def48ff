-- PO1 is raised once per crossing of the threshold, not once per recruiter ever: each alert
-- remembers the start (event time) of the window whose blocks crossed it, so a later
-- crossing, after that window, raises a new alert while a redelivery or a late block of the
-- same window does not. Alerts raised before this change have none (NULL): their window is
-- taken to end at the alert's event time.
ALTER TABLE recruiter_alerts ADD COLUMN window_start_ms BIGINT;
