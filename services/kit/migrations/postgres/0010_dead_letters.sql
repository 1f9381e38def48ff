-- What operators decided for this subscriber's dead letters, and what came of it: one row per
-- dead letter (its partition and offset in the group's dead-letter topic), written by the
-- runtime in the same transaction as the view update and the offsets of the redrive-topic
-- record that carried the decision. A row is never replaced: a second redrive of the same
-- dead letter finds it and applies nothing. States: 'applied' (redriven and applied once),
-- 'failed_again' (redriven and dead-lettered anew), 'discarded' (dropped, with a reason),
-- 'duplicate' (its record was applied through another dead letter of it: a record is applied
-- once however often it was dead-lettered). The original coordinates say which record.
CREATE TABLE IF NOT EXISTS lintas_dead_letters (
    consumer_group TEXT NOT NULL,
    dlq_partition BIGINT NOT NULL,
    dlq_offset BIGINT NOT NULL,
    state TEXT NOT NULL,
    redrive_count BIGINT NOT NULL,
    operator TEXT NOT NULL,
    reason TEXT NOT NULL,
    request_offset BIGINT NOT NULL,
    decided_at_ms BIGINT NOT NULL,
    original_topic TEXT NOT NULL,
    original_partition BIGINT NOT NULL,
    original_offset BIGINT NOT NULL,
    PRIMARY KEY (consumer_group, dlq_partition, dlq_offset)
);
