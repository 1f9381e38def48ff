//! The kit's Prometheus metrics, registered once in the default registry that `/metrics`
//! serves. Names follow Prometheus conventions: `_total` counters, `_seconds` histograms.

use std::sync::LazyLock;

use prometheus::{HistogramVec, IntCounterVec, IntGaugeVec};

pub mod catalogue;

pub static RECORDS_CONSUMED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_records_consumed_total",
        "Records read from Kafka by a consumer group.",
        &["group", "topic"],
    )
});

pub static EVENTS_APPLIED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_events_applied_total",
        "Events applied to a subscriber's views, committed with their offsets.",
        &["group", "topic", "type"],
    )
});

pub static DEAD_LETTERS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_dead_letters_total",
        "Records sent to a dead-letter topic, by stage (decode, handler) and error class.",
        &["group", "topic", "stage", "class"],
    )
});

pub static DEAD_LETTERS_REDRIVEN: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_dead_letters_redriven_total",
        "Dead letters redriven by an operator, by outcome: applied (once), failed_again (dead-lettered anew).",
        &["group", "outcome"],
    )
});

pub static DEAD_LETTERS_DISCARDED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_dead_letters_discarded_total",
        "Dead letters an operator discarded (with a reason, recorded in the subscriber's store).",
        &["group"],
    )
});

pub static REDRIVE_REQUESTS_SKIPPED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_redrive_requests_skipped_total",
        "Redrive or discard requests for a dead letter already decided (a repeated redrive): nothing applied.",
        &["group", "action"],
    )
});

pub static FIELDS_SEALED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_personal_data_sealed_total",
        "Records whose personal-data fields stayed encrypted for this reader, by reason (no_key: not entitled; key_destroyed: crypto-shredded; wrong_key, unreadable: a fault to look into).",
        &["reason"]
    )
});

pub static RECORDS_SKIPPED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_records_skipped_total",
        "Records a subscriber read and skipped because it has no use for them (unknown_type: an event type of a newer contract); their offsets advance.",
        &["group", "topic", "reason"]
    )
});

pub static OFFSETS_OUT_OF_RANGE: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_offsets_out_of_range_total",
        "Assignments whose stored offset lay outside the partition's log (past_end: the topic was recreated or the log truncated; before_start: retention deleted records never applied).",
        &["group", "topic", "kind"]
    )
});

pub static PARTITIONS_STOPPED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    catalogue::int_gauge_vec(
        "lintas_partitions_stopped",
        "Partitions a subscriber has stopped because their stored offset lies outside the log, until an operator decides.",
        &["group"]
    )
});

pub static OFFSET_GAPS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_offset_gap_records_total",
        "Records between the expected next offset and the record the broker delivered (never delivered: a broker skipped them; 0 on a topic that is not compacted and has no transactional producers).",
        &["group", "topic"]
    )
});

pub static APPLY_RETRIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_apply_retries_total",
        "Batches retried after a transient failure (database, registry, broker).",
        &["group", "cause"],
    )
});

pub static FENCED_BATCHES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_fenced_batches_total",
        "Batches discarded because another instance had already advanced the partition's offset.",
        &["group"],
    )
});

pub static BATCH_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    catalogue::histogram_vec(
        "lintas_apply_batch_duration_seconds",
        "Time to apply one batch: handler, offsets and commit.",
        &["group"],
        vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ],
    )
});

pub static END_TO_END_LATENCY: LazyLock<HistogramVec> =
    LazyLock::new(|| {
        catalogue::histogram_vec(
        "lintas_end_to_end_latency_seconds",
        "From the time an event was recorded by its publisher to the commit of the view update.",
        &["group"],
        vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]
    )
    });

pub static CONSUMER_LAG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    catalogue::int_gauge_vec(
        "lintas_consumer_lag",
        "Records behind the partition's high watermark, from librdkafka statistics.",
        &["group", "topic", "partition"],
    )
});

pub static EVENTS_PUBLISHED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_events_published_total",
        "Records acknowledged by the broker, by topic and event type.",
        &["topic", "type"],
    )
});

pub static PUBLISH_FAILURES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_publish_failures_total",
        "Records the broker did not acknowledge.",
        &["topic", "type"],
    )
});

pub static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_http_requests_total",
        "HTTP requests served, by route and status.",
        &["route", "method", "status"],
    )
});

pub static HTTP_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    catalogue::histogram_vec(
        "lintas_http_request_duration_seconds",
        "HTTP request duration by route.",
        &["route", "method"],
        vec![
            0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ],
    )
});

pub static OUTBOX_FAILED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_outbox_failed_total",
        "Outbox rows the broker refused for good (too large, not authorised), set aside in lintas_outbox_failed.",
        &["type"]
    )
});

pub static ALERT_EVENTS_FORGED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    catalogue::int_counter_vec(
        "lintas_alert_events_forged_total",
        "Alert events read on an agency's alert topic that name another agency (dead-lettered, never applied), by reading agency.",
        &["agency"]
    )
});

/// Registers every metric of the kit (those of [`crate::oidc`] too), so that
/// [`catalogue::registered`] lists them all before any is used.
pub fn init() {
    LazyLock::force(&RECORDS_CONSUMED);
    LazyLock::force(&EVENTS_APPLIED);
    LazyLock::force(&DEAD_LETTERS);
    LazyLock::force(&DEAD_LETTERS_REDRIVEN);
    LazyLock::force(&DEAD_LETTERS_DISCARDED);
    LazyLock::force(&REDRIVE_REQUESTS_SKIPPED);
    LazyLock::force(&FIELDS_SEALED);
    LazyLock::force(&RECORDS_SKIPPED);
    LazyLock::force(&OFFSETS_OUT_OF_RANGE);
    LazyLock::force(&PARTITIONS_STOPPED);
    LazyLock::force(&OFFSET_GAPS);
    LazyLock::force(&APPLY_RETRIES);
    LazyLock::force(&FENCED_BATCHES);
    LazyLock::force(&BATCH_DURATION);
    LazyLock::force(&END_TO_END_LATENCY);
    LazyLock::force(&CONSUMER_LAG);
    LazyLock::force(&EVENTS_PUBLISHED);
    LazyLock::force(&PUBLISH_FAILURES);
    LazyLock::force(&HTTP_REQUESTS);
    LazyLock::force(&HTTP_DURATION);
    LazyLock::force(&OUTBOX_FAILED);
    LazyLock::force(&ALERT_EVENTS_FORGED);
    crate::oidc::init_metrics();
}
