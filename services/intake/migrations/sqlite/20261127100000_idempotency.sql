-- Answers to requests that carried an Idempotency-Key, per calling office, so that a retry
-- (also after a restart) gets the first answer and publishes nothing new.
CREATE TABLE idempotency_keys (
    office TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (office, idem_key)
);
