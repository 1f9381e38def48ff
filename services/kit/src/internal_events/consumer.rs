//! The consumer runtime's events: records read, skipped, dead-lettered and applied, batches
//! retried, fenced and applied, records the broker never delivered, and stored offsets outside
//! their partition's log.

use std::fmt::Display;
use std::time::Duration;

use crate::consumer::DeadLetterStage;
use crate::dead_letters::{Action, State};
use crate::metrics::{
    APPLY_RETRIES, BATCH_DURATION, DEAD_LETTERS, DEAD_LETTERS_DISCARDED, DEAD_LETTERS_REDRIVEN,
    EVENTS_APPLIED, FENCED_BATCHES, OFFSETS_OUT_OF_RANGE, OFFSET_GAPS, RECORDS_CONSUMED,
    RECORDS_SKIPPED, REDRIVE_REQUESTS_SKIPPED,
};

/// A record read from Kafka by a consumer group, before decoding: fires once per record
/// polled (`lintas_records_consumed_total`; logged at trace level only).
#[derive(Debug, Clone, Copy)]
pub struct RecordConsumed<'a> {
    pub group: &'a str,
    pub topic: &'a str,
}

impl RecordConsumed<'_> {
    pub fn emit(&self) {
        tracing::trace!(group = self.group, topic = self.topic, "record consumed");
        RECORDS_CONSUMED
            .with_label_values(&[self.group, self.topic])
            .inc();
    }
}

/// A record the subscriber read and has no use for (`reason`: `unknown_type`, an event type
/// of a newer contract): fires when its batch is applied; its offset advances
/// (`lintas_records_skipped_total`, info).
#[derive(Debug, Clone, Copy)]
pub struct RecordSkipped<'a> {
    pub group: &'a str,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub reason: &'a str,
}

impl RecordSkipped<'_> {
    pub fn emit(&self) {
        tracing::info!(
            group = self.group,
            topic = self.topic,
            partition = self.partition,
            offset = self.offset,
            reason = self.reason,
            "record skipped: nothing this subscriber can use"
        );
        RECORDS_SKIPPED
            .with_label_values(&[self.group, self.topic, self.reason])
            .inc();
    }
}

/// A record the broker acknowledged on the group's dead-letter topic: it could not be decoded
/// (`stage` decode) or the handler rejected it (`stage` handler), with the error's class
/// (`lintas_dead_letters_total`, warn). `reason` is the error message the dead letter's
/// headers carry; handlers must not put personal data in it.
#[derive(Debug, Clone, Copy)]
pub struct RecordDeadLettered<'a> {
    pub group: &'a str,
    /// The record's own topic (not the dead-letter topic).
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub stage: DeadLetterStage,
    pub class: &'a str,
    pub reason: &'a str,
}

impl RecordDeadLettered<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            group = self.group,
            topic = self.topic,
            partition = self.partition,
            offset = self.offset,
            stage = self.stage.as_str(),
            class = self.class,
            reason = self.reason,
            "record dead-lettered"
        );
        DEAD_LETTERS
            .with_label_values(&[self.group, self.topic, self.stage.as_str(), self.class])
            .inc();
    }
}

/// An operator's request for a dead letter was carried out and its outcome committed with
/// the view (`lintas_dead_letters_redriven_total{outcome}` or
/// `lintas_dead_letters_discarded_total`, info). Identified by the dead letter's coordinates
/// only: no key, no value.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetterDecided<'a> {
    pub group: &'a str,
    pub dlq_partition: i32,
    pub dlq_offset: i64,
    pub state: State,
    pub redrive_count: i64,
}

impl DeadLetterDecided<'_> {
    pub fn emit(&self) {
        tracing::info!(
            group = self.group,
            dlq_partition = self.dlq_partition,
            dlq_offset = self.dlq_offset,
            state = self.state.as_str(),
            redrive_count = self.redrive_count,
            "dead letter decided"
        );
        match self.state {
            State::Discarded => DEAD_LETTERS_DISCARDED
                .with_label_values(&[self.group])
                .inc(),
            state => DEAD_LETTERS_REDRIVEN
                .with_label_values(&[self.group, state.as_str()])
                .inc(),
        }
    }
}

/// A request for a dead letter already decided (or asked twice in one batch): skipped, so a
/// repeated redrive applies nothing (`lintas_redrive_requests_skipped_total`, info).
#[derive(Debug, Clone, Copy)]
pub struct RedriveRequestSkipped<'a> {
    pub group: &'a str,
    pub dlq_partition: i32,
    pub dlq_offset: i64,
    /// What was decided before; `None` for a repeat within one batch.
    pub decided: Option<State>,
    pub action: Action,
}

impl RedriveRequestSkipped<'_> {
    pub fn emit(&self) {
        tracing::info!(
            group = self.group,
            dlq_partition = self.dlq_partition,
            dlq_offset = self.dlq_offset,
            decided = self.decided.map_or("in this batch", State::as_str),
            action = self.action.as_str(),
            "dead letter already decided; request skipped"
        );
        REDRIVE_REQUESTS_SKIPPED
            .with_label_values(&[self.group, self.action.as_str()])
            .inc();
    }
}

/// What a retry waits out: the `cause` label of `lintas_apply_retries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause {
    /// The batch's transaction failed for a reason that may pass (database unavailable,
    /// deadlock, timeout).
    Apply,
    /// The dead-letter topic did not take a record.
    DeadLetter,
    /// The schema registry or the key service could not help decode a record yet.
    Registry,
}

impl RetryCause {
    pub fn as_str(self) -> &'static str {
        match self {
            RetryCause::Apply => "apply",
            RetryCause::DeadLetter => "dead_letter",
            RetryCause::Registry => "registry",
        }
    }
}

/// A batch (or one record's decoding) failed for a transient reason and is tried again after
/// a backoff: fires once per failed attempt (`lintas_apply_retries_total`, warn).
#[derive(Clone, Copy)]
pub struct ApplyRetried<'a> {
    pub group: &'a str,
    pub cause: RetryCause,
    /// Attempts that failed before this one (0 for the first failure).
    pub attempt: u32,
    pub error: &'a dyn Display,
}

impl ApplyRetried<'_> {
    pub fn emit(&self) {
        let (group, attempt, error) = (self.group, self.attempt, self.error);
        match self.cause {
            RetryCause::Apply => {
                tracing::warn!(group, %error, attempt, "batch not applied; retrying")
            }
            RetryCause::DeadLetter => {
                tracing::warn!(group, %error, attempt, "dead-letter topic unavailable; retrying")
            }
            RetryCause::Registry => {
                tracing::warn!(group, %error, attempt, "cannot decode yet; retrying")
            }
        }
        APPLY_RETRIES
            .with_label_values(&[self.group, self.cause.as_str()])
            .inc();
    }
}

/// A batch discarded because the stored offsets of `partitions` moved under this instance
/// (another instance applied them, or an operator reset them); they are fetched again from
/// there (`lintas_fenced_batches_total`, warn).
#[derive(Debug, Clone, Copy)]
pub struct BatchFenced<'a> {
    pub group: &'a str,
    pub partitions: &'a [(String, i32)],
}

impl BatchFenced<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            group = self.group,
            partitions = ?self.partitions,
            "stored offsets moved under this instance; reloading them and fetching again from there"
        );
        FENCED_BATCHES.with_label_values(&[self.group]).inc();
    }
}

/// A batch committed with its offsets, in `duration` from the start of its handler to the
/// commit (`lintas_apply_batch_duration_seconds`, debug).
#[derive(Debug, Clone, Copy)]
pub struct BatchApplied<'a> {
    pub group: &'a str,
    pub duration: Duration,
}

impl BatchApplied<'_> {
    pub fn emit(&self) {
        tracing::debug!(group = self.group, duration = ?self.duration, "batch applied");
        BATCH_DURATION
            .with_label_values(&[self.group])
            .observe(self.duration.as_secs_f64());
    }
}

/// `count` events of one type from one topic committed to the views with their offsets:
/// fires once per topic and type of each committed batch (`lintas_events_applied_total`,
/// debug).
#[derive(Debug, Clone, Copy)]
pub struct EventsApplied<'a> {
    pub group: &'a str,
    pub topic: &'a str,
    pub event_type: &'a str,
    pub count: u64,
}

impl EventsApplied<'_> {
    pub fn emit(&self) {
        tracing::debug!(
            group = self.group,
            topic = self.topic,
            event_type = self.event_type,
            count = self.count,
            "events applied"
        );
        EVENTS_APPLIED
            .with_label_values(&[self.group, self.topic, self.event_type])
            .inc_by(self.count);
    }
}

/// The broker delivered the record at `delivered` when the partition's next record was
/// expected at `expected`: the records in between were never delivered. On a topic that is
/// not compacted and has no transactional producers (Lintas's) the broker skipped them
/// (`lintas_offset_gap_records_total` by the number of records, error).
#[derive(Debug, Clone, Copy)]
pub struct OffsetGap<'a> {
    pub group: &'a str,
    pub topic: &'a str,
    pub partition: i32,
    pub expected: i64,
    pub delivered: i64,
}

impl OffsetGap<'_> {
    /// Records never delivered.
    pub fn missing(&self) -> i64 {
        (self.delivered - self.expected).max(0)
    }

    /// For operators (`/readyz` shows it as a warning).
    pub fn describe(&self) -> String {
        format!(
            "{}[{}]: offsets {}..{} were never delivered ({} records skipped by the broker)",
            self.topic,
            self.partition,
            self.expected,
            self.delivered - 1,
            self.missing()
        )
    }

    pub fn emit(&self) {
        tracing::error!(
            group = self.group,
            topic = self.topic,
            partition = self.partition,
            missing = self.missing(),
            "{}",
            self.describe()
        );
        OFFSET_GAPS
            .with_label_values(&[self.group, self.topic])
            .inc_by(self.missing() as u64);
    }
}

/// Where a stored offset lies outside its partition's log: the `kind` label of
/// `lintas_offsets_out_of_range_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideLogKind {
    /// Past its end: the topic was recreated or the log truncated.
    PastEnd,
    /// Before its start: retention deleted records never applied.
    BeforeStart,
}

impl OutsideLogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutsideLogKind::PastEnd => "past_end",
            OutsideLogKind::BeforeStart => "before_start",
        }
    }
}

/// What the runtime did about a stored offset outside the log (`LINTAS_ON_OFFSET_OUT_OF_RANGE`).
#[derive(Clone, Copy)]
pub enum OutsideLogAction<'a> {
    /// The partition is stopped until an operator decides (policy `stop`).
    Stopped,
    /// The log's start was stored and the partition resumes from there (policy `resume`).
    Resumed,
    /// Policy `resume`, but the new offset could not be stored: the partition is stopped.
    StoreFailed(&'a dyn Display),
}

/// An owned partition's stored offset lies outside its log, found at an assignment or when
/// the log moved under the running subscriber (`lintas_offsets_out_of_range_total`, error,
/// with what was done about it).
#[derive(Clone, Copy)]
pub struct OffsetOutsideLog<'a> {
    pub group: &'a str,
    pub topic: &'a str,
    pub partition: i32,
    /// The stored offset (the next record to apply).
    pub stored: i64,
    /// The log's low and high watermarks.
    pub low: i64,
    pub high: i64,
    pub kind: OutsideLogKind,
    pub action: OutsideLogAction<'a>,
}

impl OffsetOutsideLog<'_> {
    /// For operators (`/readyz` shows it while the partition is stopped).
    pub fn describe(&self) -> String {
        format!(
            "{}[{}]: stored offset {} is outside the log ({}..{}, {})",
            self.topic,
            self.partition,
            self.stored,
            self.low,
            self.high,
            match self.kind {
                OutsideLogKind::PastEnd => "past its end: the topic was recreated or truncated",
                OutsideLogKind::BeforeStart =>
                    "before its start: retention deleted records never applied",
            }
        )
    }

    pub fn emit(&self) {
        let (group, topic, partition, kind) =
            (self.group, self.topic, self.partition, self.kind.as_str());
        let what = self.describe();
        match self.action {
            OutsideLogAction::Stopped => tracing::error!(
                group, topic, partition, kind,
                "{what}; the partition is stopped until an operator decides (LINTAS_ON_OFFSET_OUT_OF_RANGE=resume resumes from the log's start)"
            ),
            OutsideLogAction::Resumed => tracing::error!(
                group, topic, partition, kind,
                "{what}; resuming from offset {} as configured", self.low
            ),
            OutsideLogAction::StoreFailed(error) => tracing::error!(
                group, topic, partition, kind, %error,
                "{what}; could not store the new offset: the partition is stopped"
            ),
        }
        OFFSETS_OUT_OF_RANGE
            .with_label_values(&[self.group, self.topic, kind])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal_events::counter_value;

    #[test]
    fn a_dead_letter_is_counted_with_its_group_topic_stage_and_class() {
        let labels = [
            ("group", "ie-dead-letter"),
            ("topic", "lintas.cases.v1"),
            ("stage", "handler"),
            ("class", "rejected"),
        ];
        let before = counter_value("lintas_dead_letters_total", &labels);
        RecordDeadLettered {
            group: "ie-dead-letter",
            topic: "lintas.cases.v1",
            partition: 2,
            offset: 7,
            stage: DeadLetterStage::Handler,
            class: "rejected",
            reason: "no such case",
        }
        .emit();
        assert_eq!(
            counter_value("lintas_dead_letters_total", &labels),
            before + 1.0
        );
    }

    #[test]
    fn dead_letter_decisions_are_counted_by_outcome_and_repeats_apart() {
        let group = [("group", "ie-redrive")];
        let redriven = |outcome| {
            counter_value(
                "lintas_dead_letters_redriven_total",
                &[("group", "ie-redrive"), ("outcome", outcome)],
            )
        };
        let (applied, failed) = (redriven("applied"), redriven("failed_again"));
        let discarded = counter_value("lintas_dead_letters_discarded_total", &group);
        let skipped = counter_value("lintas_redrive_requests_skipped_total", &group);
        for state in [State::Applied, State::FailedAgain, State::Discarded] {
            DeadLetterDecided {
                group: "ie-redrive",
                dlq_partition: 0,
                dlq_offset: 3,
                state,
                redrive_count: 1,
            }
            .emit();
        }
        RedriveRequestSkipped {
            group: "ie-redrive",
            dlq_partition: 0,
            dlq_offset: 3,
            decided: Some(State::Applied),
            action: Action::Redrive,
        }
        .emit();
        assert_eq!(redriven("applied"), applied + 1.0);
        assert_eq!(redriven("failed_again"), failed + 1.0);
        assert_eq!(
            counter_value("lintas_dead_letters_discarded_total", &group),
            discarded + 1.0
        );
        assert_eq!(
            counter_value("lintas_redrive_requests_skipped_total", &group),
            skipped + 1.0
        );
    }

    #[test]
    fn retries_are_counted_by_cause() {
        let count = |cause| {
            counter_value(
                "lintas_apply_retries_total",
                &[("group", "ie-retries"), ("cause", cause)],
            )
        };
        let error = "connection refused";
        for cause in [
            RetryCause::Apply,
            RetryCause::Registry,
            RetryCause::Registry,
        ] {
            ApplyRetried {
                group: "ie-retries",
                cause,
                attempt: 0,
                error: &error,
            }
            .emit();
        }
        assert_eq!(count("apply"), 1.0);
        assert_eq!(count("registry"), 2.0);
        assert_eq!(count("dead_letter"), 0.0);
    }

    #[test]
    fn a_gap_counts_the_records_never_delivered() {
        let gap = OffsetGap {
            group: "ie-gaps",
            topic: "lintas.checkpoints.v1",
            partition: 3,
            expected: 10,
            delivered: 14,
        };
        assert_eq!(
            gap.describe(),
            "lintas.checkpoints.v1[3]: offsets 10..13 were never delivered (4 records skipped by the broker)"
        );
        gap.emit();
        let labels = [("group", "ie-gaps"), ("topic", "lintas.checkpoints.v1")];
        assert_eq!(
            counter_value("lintas_offset_gap_records_total", &labels),
            4.0
        );
    }

    #[test]
    fn an_offset_outside_the_log_is_counted_by_kind_whatever_was_done() {
        let error = "database is locked";
        for action in [
            OutsideLogAction::Stopped,
            OutsideLogAction::Resumed,
            OutsideLogAction::StoreFailed(&error),
        ] {
            OffsetOutsideLog {
                group: "ie-outside",
                topic: "lintas.applicants.v1",
                partition: 0,
                stored: 120,
                low: 0,
                high: 100,
                kind: OutsideLogKind::PastEnd,
                action,
            }
            .emit();
        }
        let count = |kind| {
            counter_value(
                "lintas_offsets_out_of_range_total",
                &[
                    ("group", "ie-outside"),
                    ("topic", "lintas.applicants.v1"),
                    ("kind", kind),
                ],
            )
        };
        assert_eq!(count("past_end"), 3.0);
        assert_eq!(count("before_start"), 0.0);
        let before_start = OffsetOutsideLog {
            stored: 5,
            low: 40,
            kind: OutsideLogKind::BeforeStart,
            ..OffsetOutsideLog {
                group: "ie-outside",
                topic: "lintas.applicants.v1",
                partition: 1,
                stored: 0,
                low: 0,
                high: 100,
                kind: OutsideLogKind::PastEnd,
                action: OutsideLogAction::Stopped,
            }
        };
        assert_eq!(
            before_start.describe(),
            "lintas.applicants.v1[1]: stored offset 5 is outside the log (40..100, before its start: retention deleted records never applied)"
        );
    }

    #[test]
    fn applied_events_are_counted_by_topic_and_type() {
        EventsApplied {
            group: "ie-applied",
            topic: "lintas.applicants.v1",
            event_type: "ApplicantRegistered",
            count: 5,
        }
        .emit();
        let labels = [
            ("group", "ie-applied"),
            ("topic", "lintas.applicants.v1"),
            ("type", "ApplicantRegistered"),
        ];
        assert_eq!(counter_value("lintas_events_applied_total", &labels), 5.0);
    }
}
