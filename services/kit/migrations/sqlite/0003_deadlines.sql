-- Deadlines a handler scheduled (a rule that fires when something does NOT happen in time).
-- Written in the batch's transaction; fired once by the runtime's ticker when the clock passes
-- `due_at_ms` and the subscriber has caught up with the partition that scheduled it, so a
-- replay never fires a deadline whose cancelling event is still to be read. A cancel that
-- arrives first leaves a 'cancelled' row, so a later schedule of the same key stays cancelled.
CREATE TABLE IF NOT EXISTS lintas_deadlines (
    deadline_key TEXT PRIMARY KEY,
    due_at_ms BIGINT NOT NULL,
    payload TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS lintas_deadlines_due ON lintas_deadlines (state, due_at_ms);
