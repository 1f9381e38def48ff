-- Where this subscriber stands in each partition. The database, not Kafka, is the source of
-- truth: the row is written in the same transaction as the view update it accounts for.
CREATE TABLE IF NOT EXISTS lintas_offsets (
    consumer_group TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition_id INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition_id)
);

-- Events a handler decided to publish (alerts), written in the view's transaction and relayed
-- to Kafka after commit; the relay deletes a row only after the broker acknowledged it.
CREATE TABLE IF NOT EXISTS lintas_outbox (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    payload BYTEA NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
