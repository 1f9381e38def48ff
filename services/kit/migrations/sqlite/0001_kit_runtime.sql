-- See migrations/postgres/0001_kit_runtime.sql for the meaning of these tables.
CREATE TABLE IF NOT EXISTS lintas_offsets (
    consumer_group TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition_id INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition_id)
);

CREATE TABLE IF NOT EXISTS lintas_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    payload BLOB NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
