-- When the awaited event occurred (event time), for a deadline it was meant to meet. A deadline
-- is met by what happened before it, not by what arrived before it fired: a cancel that
-- occurred at or after `due_at_ms` does not cancel, and one that occurred before it withdraws
-- a deadline that already fired (its event came in late). New states: 'early' (the awaited
-- event arrived before the schedule; the schedule compares the times) and 'withdrawn' (fired,
-- then met in time by an event that arrived late). Rows from before keep NULL and their state.
ALTER TABLE lintas_deadlines ADD COLUMN met_at_ms BIGINT;
